"""No changelog, or none releasekit reads: the release goes on, and the plan says so."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from releasekit.changelog.source import Notes
from releasekit.errors import ChangelogError


@dataclass(frozen=True)
class NoChangelog:
    """The project keeps no release notes where releasekit looks (`changelog` names the file)."""

    configured: str  # the configured file name; "" when changelog handling is switched off
    unread: bool = False  # the file is there, in a format releasekit does not read
    kind = "none"
    path: Path | None = None

    @property
    def files(self) -> tuple[Path, ...]:
        return ()

    def describe(self) -> str:
        if self.unread:
            return f"{self.configured} (a format releasekit does not read: no notes taken)"
        return f"no {self.configured}" if self.configured else "changelog handling off"

    def notes_for(self, version: str) -> Notes:
        return Notes(None, "", needs_roll=False)

    def missing_notes(self, version: str) -> ChangelogError:
        return ChangelogError(f"{self.describe()}: no release notes for {version}")

    def roll(self, version: str, date: str, tag_format: str) -> tuple[Path, ...]:
        return ()
