"""The project's own version recorded in `uv.lock`, brought up to date the way uv does it.

`uv lock` records the project (and a workspace's members) with their versions, and `uv sync
--locked` fails once pyproject.toml says another one: a release that bumped only pyproject.toml
would leave a lock file CI refuses. The release commit therefore runs `uv lock` where the lock
file is (offline first: a version-only change needs no index), with the project's own uv
configuration, since the lock file is the project's.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from packaging.utils import canonicalize_name

from releasekit import redact
from releasekit.errors import VersionError

TIMEOUT = 120.0


def find(project: Path, name: str) -> Path | None:
    """The uv.lock that records `name`: in the project, or up to the repository's root (a workspace)."""
    wanted = f'name = "{canonicalize_name(name)}"'
    for folder in (project, *project.parents):
        lock = folder / "uv.lock"
        if lock.is_file():
            try:
                return lock if wanted in lock.read_text(encoding="utf-8") else None
            except (OSError, UnicodeDecodeError):
                return None
        if (folder / ".git").exists():
            return None
    return None


def update(lock: Path) -> None:
    """`uv lock` beside the lock file; offline first, then with the network if it must resolve."""
    from uv import find_uv_bin

    last = ""
    for extra in (["--offline"], []):
        try:
            proc = subprocess.run(
                [find_uv_bin(), "lock", "--quiet", *extra],
                cwd=lock.parent,
                env=redact.child_environ(),
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            last = f"no answer after {TIMEOUT:.0f}s"
            continue
        if proc.returncode == 0:
            return
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
        last = redact.printable(redact.scrub(" | ".join(lines[-2:])))[:300]
    raise VersionError(
        f"uv lock could not bring {lock.name} up to date: {last}",
        "run `uv lock` yourself to see why; the bump was rolled back",
    )
