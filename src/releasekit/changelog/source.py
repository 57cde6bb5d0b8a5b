"""The ChangelogSource protocol: what the release asks of a project's release notes, whatever the habit.

One class per habit implements it (`keep_a_changelog.KeepAChangelog`, `none.NoChangelog`), and
`detect` picks one from what the project has. The planner asks for the notes of the version and
whether the file still has to be rolled; the bump step rolls it; `status` shows the notes. A new
habit touches its own module and one line of `detect`, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from releasekit.errors import ChangelogError


@dataclass(frozen=True)
class Notes:
    """The release notes of one version, and whether the file still has to be rolled."""

    path: Path | None
    text: str  # the section's body, stripped; empty when nothing was written
    needs_roll: bool  # the notes are still under an "unreleased" heading


class ChangelogSource(Protocol):
    """Where a project writes its release notes, read once when the release observes the project."""

    @property
    def kind(self) -> str:
        """A stable identifier (`keep-a-changelog`, `none`, …)."""

    @property
    def path(self) -> Path | None:
        """The file the notes are read from and the release commit changes; None: there is none."""

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file a release changes or removes (journaled before the bump, so a kill is undone)."""

    def describe(self) -> str:
        """The short human name used in the plan and in `status`."""

    def notes_for(self, version: str) -> Notes:
        """The notes of `version`: its own section, else the unreleased one (to be rolled)."""

    def missing_notes(self, version: str) -> ChangelogError:
        """Why `version` has no notes and how to write them, in this habit's words."""

    def roll(self, version: str, date: str, tag_format: str) -> tuple[Path, ...]:
        """Turn the unreleased notes into `version`'s, dated; return the files changed."""
