"""The project's core metadata as its build backend computes it: the last resort for its name.

Only for projects that declare their name nowhere releasekit can read (a setup.py that computes
it): the backend runs in releasekit's cached build environment for its requirements, and its
output is kept for the error message instead of reaching the terminal.
"""

from __future__ import annotations

import email.message
import email.parser
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from releasekit import redact
from releasekit.dists import environments
from releasekit.errors import BuildError


def _quiet(
    cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
) -> None:
    proc = subprocess.run(
        cmd, cwd=cwd, env={**os.environ, **(extra_environ or {})}, capture_output=True, text=True, check=False
    )
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd, proc.stdout, proc.stderr)


def metadata(project: Path) -> email.message.Message:
    """METADATA from the backend's `prepare_metadata_for_build_wheel` (or a wheel build)."""
    import build

    try:
        env = environments.env_for(build.ProjectBuilder(project).build_system_requires)
        builder = build.ProjectBuilder.from_isolated_env(env, project, runner=_quiet)
        env.install(builder.get_requires_for_build("wheel"))
        with tempfile.TemporaryDirectory(prefix="releasekit-metadata-") as tmp:
            dist_info = Path(builder.metadata_path(tmp))
            return email.parser.Parser().parsestr((dist_info / "METADATA").read_text("utf-8"))
    except build.BuildBackendException as exc:
        cause = exc.exception
        detail = cause.stderr if isinstance(cause, subprocess.CalledProcessError) else str(cause)
        tail = " | ".join(ln.strip() for ln in str(detail or "").splitlines()[-3:] if ln.strip())
        raise BuildError(
            f"the build backend could not tell the project's name: {redact.scrub(tail)[:300]}",
            'declare it as name = "…" in [project] of pyproject.toml',
        ) from exc
    except (build.BuildException, subprocess.CalledProcessError, OSError) as exc:
        raise BuildError(
            "cannot prepare the build environment to read the project's name: "
            f"{redact.scrub(str(exc))[:300]}",
            'declare it as name = "…" in [project] of pyproject.toml',
        ) from exc
