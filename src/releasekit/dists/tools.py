"""Tools a project already uses (towncrier, scriv, bump-my-version), each from a cached environment.

A project's own tool is run, never reimplemented: its configuration, templates and quirks apply
exactly as when the maintainer runs it. Each tool gets an environment keyed by its requirement
(made once, like a build environment), so it never meets releasekit's own dependencies, and runs
as `python -m TOOL` (the environment is renamed into place after installing, which leaves console
scripts' shebangs pointing at the temporary name). Its child environment holds no credential.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from releasekit import redact
from releasekit.dists import environments
from releasekit.errors import BuildError, ReleaseError


def python_for(requirement: str, error: type[ReleaseError], what: str) -> str:
    """The interpreter of `requirement`'s cached environment, made on first use."""
    try:
        return environments.env_for([requirement]).python_executable
    except BuildError as exc:
        raise error(
            f"cannot install {requirement} (for {what}): {exc.message}",
            "check that the package index is reachable (pip/uv configuration), then run again",
        ) from exc


def run_tool(
    requirement: str,
    args: list[str],
    *,
    cwd: Path,
    what: str,
    error: type[ReleaseError],
    hint: str,
    timeout: float = 120.0,
    drop_prefix: str = "",
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `python ARGS` in the tool's environment; a failure or a hang becomes one `error` line.

    `drop_prefix` leaves out the tool's own environment variables (BUMPVERSION_*), which would
    otherwise override the project's configuration.
    """
    environ = {
        k: v for k, v in redact.child_environ().items() if not (drop_prefix and k.startswith(drop_prefix))
    }
    environ.update(NO_COLOR="1", TERM="dumb", COLUMNS="500", **(extra_env or {}))
    python = python_for(requirement, error, what)
    try:
        proc = subprocess.run(
            [python, *args],
            cwd=cwd,
            env=environ,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise error(f"{what}: no answer after {timeout:.0f}s", hint) from exc
    if proc.returncode:
        raise error(f"{what}: {last_error(proc.stderr or proc.stdout)}", hint)
    return proc


def last_error(output: str) -> str:
    """The error in a tool's output: the text of rich's "Error" box, else its last lines."""
    lines = [ln.strip(" │╭╮╰╯─") for ln in output.splitlines()]
    lines = [ln for ln in lines if ln]
    if "Error" in lines:
        lines = lines[lines.index("Error") + 1 :]
    return redact.printable(redact.scrub(" ".join(" ".join(lines[-3:]).split())))[:300] or "no output"
