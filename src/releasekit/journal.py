"""The release journal and artifact store in `.git/releasekit/`.

The journal is a cache of what earlier runs did (artifact hashes, per-file upload results,
verifications); the real state (tags, indexes) is always re-read and wins. Artifacts are kept
here because builds are not byte-reproducible: resuming must publish the very bytes that were
verified on the test index, never a rebuild. Everything is written atomically.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import LockedError


@dataclass
class Journal:
    """What this repository's releases have done, keyed by version."""

    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    def release(self, version: str) -> dict[str, Any]:
        releases: dict[str, Any] = self.data.setdefault("releases", {})
        entry: dict[str, Any] = releases.setdefault(version, {"uploads": {}, "verified": [], "steps": []})
        return entry

    def record(self, version: str, key: str, value: Any) -> None:
        self.release(version)[key] = value
        self.save()

    def record_step(self, version: str, step: str) -> None:
        steps = self.release(version)["steps"]
        if step not in steps:
            steps.append(step)
        self.save()

    def record_upload(self, version: str, label: str, filename: str, outcome: str) -> None:
        self.release(version)["uploads"].setdefault(label, {})[filename] = outcome
        self.save()

    def verified(self, version: str, key: str) -> bool:
        return key in self.release(version)["verified"]

    def record_verified(self, version: str, key: str) -> None:
        verified = self.release(version)["verified"]
        if key not in verified:
            verified.append(key)
        self.save()

    def save(self) -> None:
        write_atomic(self.path, json.dumps(self.data, indent=2, sort_keys=True) + "\n")


def state_dir(git_dir: Path) -> Path:
    return git_dir / "releasekit"


def artifacts_dir(git_dir: Path, version: str) -> Path:
    return state_dir(git_dir) / "artifacts" / version


def load(git_dir: Path) -> Journal:
    """Read the journal; a damaged one is set aside, never trusted (it is only a cache)."""
    path = state_dir(git_dir) / "journal.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    except (ValueError, OSError):
        data = None
    if not _well_formed(data):
        if path.exists():
            path.replace(path.with_suffix(".damaged"))
        data = {}
    return Journal(path, data)


def _well_formed(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    releases = data.get("releases", {})
    return isinstance(releases, dict) and all(isinstance(r, dict) for r in releases.values())


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def release_lock(git_dir: Path, command: str) -> Iterator[None]:
    """One release at a time per repository on this machine.

    The lock file names the process that holds it; a lock left by a dead process on this host is
    taken over, anything else stops the second run at once, before it changes anything.
    """
    path = state_dir(git_dir) / "lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "command": command, "started": _now()}
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            holder = _read_lock(path)
            if holder is not None and _alive(holder):
                raise LockedError(
                    f"another release of this repository is running (pid {holder.get('pid')}, "
                    f"since {holder.get('started')}: {holder.get('command')})",
                    f"wait for it to finish; if it is gone, delete {path.relative_to(git_dir.parent)}",
                ) from None
            path.unlink(missing_ok=True)  # stale: its process is dead
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(me, fh)
        break
    else:
        raise LockedError("could not take the release lock", "re-run the same command")
    try:
        yield
    finally:
        if _read_lock(path) == me:
            path.unlink(missing_ok=True)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _read_lock(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _alive(holder: dict[str, Any]) -> bool:
    if holder.get("host") != socket.gethostname():
        return True  # another machine's process: we cannot tell, so respect it
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
