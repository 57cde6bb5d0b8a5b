"""Isolated build environments that are made once and reused: isolation without its cost.

An environment is keyed by the interpreter and the exact build requirements, so a change to
[build-system] requires gets a new one; it is also rebuilt after a week, so unpinned requirements
(setuptools>=77) pick up new releases. It satisfies `build`'s IsolatedEnv protocol and is created
by uv in a temporary directory and renamed into place, so a half-made environment is never used.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from releasekit import redact
from releasekit.errors import BuildError

MAX_AGE = 7 * 24 * 3600


_READY = "releasekit-ready.json"


def cache_root() -> Path:
    """RELEASEKIT_CACHE_DIR, else $XDG_CACHE_HOME/releasekit, else ~/.cache/releasekit."""
    explicit = os.environ.get("RELEASEKIT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "releasekit"


class CachedEnv:
    """A persistent virtual environment that `build.ProjectBuilder.from_isolated_env` accepts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.bin = path / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python_executable(self) -> str:
        return str(self.bin / ("python.exe" if os.name == "nt" else "python"))

    def make_extra_environ(self) -> dict[str, str]:
        return {
            "PATH": os.pathsep.join([str(self.bin), os.environ.get("PATH", "")]),
            "VIRTUAL_ENV": str(self.path),
        }

    def install(self, requirements: Collection[str]) -> None:
        """Install what is missing (uv makes a satisfied install a no-op).

        Compiled to bytecode here, once: every build hook imports the backend in a new process,
        and where .pyc files cannot be written (PYTHONDONTWRITEBYTECODE=1, common in CI images)
        each of them would compile setuptools again (measured 0.4-0.5 s more per build).
        """
        if requirements:
            _uv(
                "pip", "install", "--no-config", "--quiet", "--compile-bytecode",
                "--python", self.python_executable,
                *sorted(requirements),
            )  # fmt: skip


def _uv(*args: str) -> None:
    from uv import find_uv_bin

    proc = subprocess.run(
        [find_uv_bin(), *args], env=redact.child_environ(), capture_output=True, text=True, check=False
    )
    if proc.returncode:
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
        raise BuildError(
            f"cannot prepare the build environment: {redact.scrub(' | '.join(lines[-3:]))[:400]}"
        )


def is_fresh(marker: Path) -> bool:
    """A made-once folder is used while its marker is younger than MAX_AGE."""
    try:
        return time.time() - marker.stat().st_mtime < MAX_AGE
    except OSError:
        return False


def made_once(target: Path, ready: str, make: Callable[[Path], Path], facts: Mapping[str, object]) -> Path:
    """`target`, made by `make(scratch)` beside it and renamed into place whole, so a half-made
    environment is never used; reused while younger than MAX_AGE, then replaced, never patched.

    `make` returns the folder to put in place (the scratch folder or one inside it); the `ready`
    marker, holding `facts`, is written last. Should another release make it first, theirs is used.
    """
    marker = target / ready
    if is_fresh(marker):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-{os.getpid()}-", dir=target.parent))
    try:
        made = make(scratch)
        (made / ready).write_text(json.dumps(facts))
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)  # stale: replaced whole, never patched
        made.rename(target)
    except OSError:
        if not marker.exists():  # another release made it first: use theirs
            raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _env_path(requires: Collection[str]) -> Path:
    # "relocatable": environments made before their scripts ran after the rename are never reused.
    facts = [sys.version, sys.executable, sorted(requires), "relocatable"]
    key = hashlib.sha256(json.dumps(facts).encode()).hexdigest()
    return cache_root() / "build-envs" / key[:20]


def cached_env(requires: Collection[str]) -> CachedEnv | None:
    """The environment `env_for` would return without making anything, or None if it would."""
    target = _env_path(requires)
    if is_fresh(target / _READY):
        return CachedEnv(target)
    return None


def env_for(requires: Collection[str]) -> CachedEnv:
    """The cached environment with these build requirements, made now if missing or stale."""
    target = _env_path(requires)

    def make(scratch: Path) -> Path:
        _uv(
            "venv",
            "--quiet",
            "--no-config",
            "--no-python-downloads",
            # Made in a scratch folder and renamed into place: only relocatable scripts still run
            # there (meson, ninja, cmake that a backend calls from PATH, as `python -m build` has them).
            "--relocatable",
            "--python",
            sys.executable,
            str(scratch),
        )
        CachedEnv(scratch).install(requires)
        return scratch

    made_once(target, _READY, make, {"requires": sorted(requires), "python": sys.version})
    return CachedEnv(target)


def no_dynamic_requires(source: Path) -> bool:
    """True when the backend's get_requires_for_build_* hooks can only answer [].

    setuptools answers them with `setup_requires`, which only setup.py or setup.cfg [options] can
    declare; without either the answer is [], and asking costs a whole setup run in a fresh
    process (a second per hook on a project of a few hundred modules). Any other backend is asked.
    """
    from releasekit.config import read_pyproject

    backend = read_pyproject(source).get("build-system", {}).get("build-backend")
    if backend != "setuptools.build_meta" or (source / "setup.py").exists():
        return False
    cfg = source / "setup.cfg"
    if cfg.is_file():
        parser = configparser.RawConfigParser()
        try:
            parser.read(cfg, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            return False
        return not parser.has_option("options", "setup_requires")
    return True
