"""Prove a published version installs: fresh environment, exact pin, one index, then import.

The environment is made by uv (fast, no pip bootstrap); the package under test comes from the
index being verified with the cache bypassed, so a locally cached copy can never stand in for
what the index serves. Its dependencies come from the live index only: a test index is open to
anyone, and resolving dependencies there is how name-squatted packages get installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from . import redact
from .errors import VerifyError

_PROBE = (
    "import importlib, importlib.metadata as md, json, sys\n"
    "name, modules = sys.argv[1], sys.argv[2:]\n"
    "found = md.version(name)\n"
    "for module in modules: importlib.import_module(module)\n"
    "print(json.dumps({'version': found}))\n"
)
# Variables that would point uv at another index than the one being verified.
_REDIRECTS = ("UV_INDEX", "UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS")


@dataclass(frozen=True)
class Verification:
    index_url: str
    version: str
    modules: tuple[str, ...]
    seconds: float


def _uv() -> str:
    from uv import find_uv_bin

    return find_uv_bin()


def _run(cmd: list[str], what: str, timeout: float, cwd: Path) -> str:
    # The import runs the package's code and uv fetches from an index: neither gets a credential.
    env = {k: v for k, v in redact.child_environ().items() if k not in _REDIRECTS}
    env["UV_NO_PROGRESS"] = "1"
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise VerifyError(
            f"{what} timed out after {timeout:.0f}s", "re-run; raise `timeout` if slow"
        ) from exc
    if proc.returncode:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        detail = redact.scrub(" | ".join(lines[-3:]))[:500]
        raise VerifyError(f"{what} failed: {detail}")
    return proc.stdout


def verify_install(
    *,
    name: str,
    version: str,
    index_url: str,
    dependencies: list[str],
    dependency_index_url: str,
    modules: list[str],
    timeout: float,
) -> Verification:
    """Install exactly name==version from `index_url` into a new environment and import it."""
    start = time.monotonic()
    uv = _uv()
    with tempfile.TemporaryDirectory(prefix="releasekit-verify-") as tmp:
        work = Path(tmp)
        env_dir = work / "env"
        _run(
            [
                uv,
                "venv",
                "--no-config",
                "--quiet",
                "--no-python-downloads",
                "--python",
                sys.executable,
                str(env_dir),
            ],
            "creating a fresh environment",
            timeout,
            work,
        )
        python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        install = [uv, "pip", "install", "--no-config", "--quiet", "--python", str(python)]
        _run(
            [*install, "--no-deps", "--no-cache", "--default-index", index_url, f"{name}=={version}"],
            f"installing {name}=={version} from {redact.scrub(index_url)}",
            timeout,
            work,
        )
        if dependencies:
            _run(
                [*install, "--default-index", dependency_index_url, *dependencies],
                f"installing the dependencies of {name} from {redact.scrub(dependency_index_url)}",
                timeout,
                work,
            )
        out = _run([str(python), "-I", "-c", _PROBE, name, *modules], f"importing {name}", timeout, work)
    found = json.loads(out.strip().splitlines()[-1])["version"]
    if Version(found) != Version(version):
        raise VerifyError(f"{redact.scrub(index_url)} installed {name} {found}, not {version}")
    return Verification(index_url, found, tuple(modules), time.monotonic() - start)
