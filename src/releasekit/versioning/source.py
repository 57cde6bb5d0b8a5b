"""The VersionSource protocol: one place a project keeps its version, and what a bump changes there.

One class per family of sources implements it (`declared`, `gittags`, `bump2version`,
`bump_my_version`); `detect` picks the one the project declares; `copies.WithCopies` adds the
package's own other copies of the version to whichever it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class VersionSource(Protocol):
    """One place a project keeps its version; what a bump changes there."""

    @property
    def kind(self) -> str:
        """A stable identifier (`static`, `bump2version`, `hatch-vcs`, …)."""

    @property
    def version(self) -> str:
        """The current version as written; "" when git tags hold it."""

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file a bump rewrites, so the release commit holds all of them."""

    @property
    def writes_files(self) -> bool:
        """False when the version comes from git tags: then the tag is the bump."""

    @property
    def generated_files(self) -> tuple[Path, ...]:
        """Git-ignored files the backend writes (and puts in the sdist); expected, not stray."""

    def describe(self) -> str:
        """The short human name used in the plan and in `status`."""

    def write(self, new: str) -> tuple[Path, ...]:
        """Write exactly `new`, all files or none; return the files that changed."""
