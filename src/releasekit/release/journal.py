"""The release journal and artifact store in `.git/releasekit/`.

The journal records, per version, what a release intended before each hard-to-undo act and what
it did after (see `execute` for the state model). The real state (tags, indexes) is re-read on
every run; the journal says which release it belongs to and which bytes were built and verified.
Artifacts are kept here because builds are not byte-reproducible: resuming must publish the very
bytes that were built and verified, never a rebuild. Everything is written atomically, and
nothing is followed or deleted outside this directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from releasekit.errors import ConfigError, LockedError


@dataclass(frozen=True)
class Record:
    """One release as the journal remembers it: what was intended and what was done.

    Every field is checked for its type when loaded; a journal that does not fit is set aside,
    so a planner never acts on a value of the wrong kind.
    """

    version: str
    closed: str = ""  # "finished" | "rolled-back" | "aborted"; empty while unfinished
    tested: bool = False  # a --test run completed (a deliberate pause, not a failure)
    command: tuple[str, ...] = ()  # the command line that started it, to finish it with
    bump_parent: str = ""  # HEAD before the bump (recorded before any file is written)
    bump_files: tuple[str, ...] = ()  # what the bump rewrites, relative to the work tree
    bump_commit: str = ""
    tag: str = ""  # recorded before the tag is written
    tag_commit: str = ""
    building: bool = False
    artifacts: dict[str, str] = field(default_factory=dict)  # filename -> sha256, as built
    upload_intents: dict[str, tuple[str, ...]] = field(default_factory=dict)  # index -> filenames
    uploads: dict[str, dict[str, str]] = field(default_factory=dict)  # index -> filename -> outcome
    verified: tuple[str, ...] = ()
    pushing: bool = False
    pushed: bool = False

    @property
    def open(self) -> bool:
        return not self.closed

    def published_on(self, label: str) -> bool:
        """An upload to this index was at least attempted: the version may be taken there."""
        return bool(self.upload_intents.get(label) or self.uploads.get(label))

    @property
    def published(self) -> bool:
        return any(self.upload_intents.values()) or any(self.uploads.values())


_FIELD_TYPES: dict[str, type] = {
    "closed": str, "tested": bool, "command": list, "bump_parent": str, "bump_files": list,
    "bump_commit": str, "tag": str, "tag_commit": str, "building": bool, "artifacts": dict,
    "upload_intents": dict, "uploads": dict, "verified": list, "pushing": bool, "pushed": bool,
}  # fmt: skip


def _record(version: str, raw: dict[str, Any]) -> Record:
    values: dict[str, Any] = {}
    for key, kind in _FIELD_TYPES.items():
        if key in raw:
            values[key] = tuple(raw[key]) if kind is list else raw[key]
    values["upload_intents"] = {k: tuple(v) for k, v in raw.get("upload_intents", {}).items()}
    return Record(version=version, **values)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _str_map(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def _valid_release(raw: Any) -> bool:
    if not isinstance(raw, dict):
        return False
    for key, kind in _FIELD_TYPES.items():
        if key in raw and not isinstance(raw[key], kind):
            return False
    return (
        _strings(raw.get("command", []))
        and _strings(raw.get("bump_files", []))
        and _strings(raw.get("verified", []))
        and _str_map(raw.get("artifacts", {}))
        and all(isinstance(k, str) and _strings(v) for k, v in raw.get("upload_intents", {}).items())
        and all(isinstance(k, str) and _str_map(v) for k, v in raw.get("uploads", {}).items())
    )


@dataclass
class Journal:
    """What this repository's releases intended and did, keyed by version.

    Intent is written before each act that is hard or impossible to undo (the bump commit, the
    tag, each upload, the push), each write atomic, so a run killed at any moment leaves a
    journal that names the one state the release is in.
    """

    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    def release(self, version: str) -> dict[str, Any]:
        releases: dict[str, Any] = self.data.setdefault("releases", {})
        entry: dict[str, Any] = releases.setdefault(version, {"uploads": {}, "verified": []})
        return entry

    def records(self) -> dict[str, Record]:
        return {v: _record(v, raw) for v, raw in self.data.get("releases", {}).items()}

    def begin(self, version: str, command: list[str]) -> None:
        """Start (or resume) a release; a closed record of the same version starts over."""
        entry = self.release(version)
        if entry.get("closed"):
            entry.clear()
            entry.update({"uploads": {}, "verified": []})
        entry["command"] = command
        entry.setdefault("started", _now())
        self.save()

    def record(self, version: str, key: str, value: Any) -> None:
        self.release(version)[key] = value
        self.save()

    def update(self, version: str, **values: Any) -> None:
        self.release(version).update(values)
        self.save()

    def record_upload_intent(self, version: str, label: str, filename: str) -> None:
        intents = self.release(version).setdefault("upload_intents", {}).setdefault(label, [])
        if filename not in intents:
            intents.append(filename)
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

    def close(self, version: str, how: str) -> None:
        self.record(version, "closed", how)

    def save(self) -> None:
        write_atomic(self.path, json.dumps(self.data, indent=2, sort_keys=True) + "\n")


def verify_key(label: str, hashes: dict[str, str]) -> str:
    """What the journal keeps for a verification: the index and the exact bytes it served."""
    return f"{label} " + " ".join(sorted(hashes.values()))


def state_dir(git_dir: Path) -> Path:
    """`.git/releasekit`, refused when it is a link: nothing is ever followed out of it."""
    path = git_dir / "releasekit"
    if path.is_symlink():
        raise ConfigError(
            f"{path.name} in the git directory is a symbolic link",
            "releasekit never follows links out of .git/releasekit: remove the link",
        )
    return path


def artifacts_dir(git_dir: Path, version: str) -> Path:
    """Where a version's artifacts are kept; a link or file in the way is removed, not followed."""
    parent = state_dir(git_dir) / "artifacts"
    if parent.is_symlink() or (parent.exists() and not parent.is_dir()):
        parent.unlink()
    return parent / version


def remove(path: Path) -> None:
    """Delete one entry of `.git/releasekit/`: a link or file is unlinked, never followed."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def stored_dir(git_dir: Path, version: str) -> Path | None:
    """The artifact store of a version if it is a real directory; anything else is removed."""
    store = artifacts_dir(git_dir, version)
    if store.is_symlink() or (store.exists() and not store.is_dir()):
        remove(store)
        return None
    return store if store.is_dir() else None


def load(git_dir: Path) -> Journal:
    """Read the journal; a damaged one is set aside, never trusted."""
    path = state_dir(git_dir) / "journal.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    except (ValueError, OSError):
        data = None
    if not _well_formed(data):
        if path.exists() or path.is_symlink():
            path.replace(path.with_suffix(".damaged"))
        data = {}
    return Journal(path, data)


def _well_formed(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    releases = data.get("releases", {})
    return isinstance(releases, dict) and all(_valid_release(r) for r in releases.values())


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
