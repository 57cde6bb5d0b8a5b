"""The release journal and artifact store in `.git/releasekit/`.

The journal is a cache of what earlier runs did (artifact hashes, per-file upload results,
verifications); the real state (tags, indexes) is always re-read and wins. Artifacts are kept
here because builds are not byte-reproducible: resuming must publish the very bytes that were
verified on the test index, never a rebuild. Everything is written atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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
