"""The release's vocabulary: what the user asked (Intent), the decisions (Plan), the step names and phases.

Kept apart from the planner and the steps so that both can import it without importing each other.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from releasekit.dists.artifact import Artifact
from releasekit.indexes.listing import IndexFile
from releasekit.indexes.resolve import Repository

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class Intent:
    """What the user asked for (flags); where to publish lives in the Config."""

    test_only: bool = False
    bump: str | None = None
    pre: str | None = None
    new_version: str | None = None
    dry_run: bool = False
    yes: bool = False
    allow_empty_changelog: bool = False
    can_confirm: bool = False  # a terminal is there to type a confirmation
    command: tuple[str, ...] = ()  # the command line in canonical form (what the journal keeps)
    dist: Path | None = None  # publish the prebuilt artifacts in this directory instead of building


@dataclass(frozen=True)
class PlannedStep:
    name: StepName
    phase: Phase
    run: bool
    why: str = ""


@dataclass(frozen=True)
class Plan:
    """Every fact the steps act on, and each step's decision."""

    project: Path
    git_dir: Path
    name: str
    current_version: str
    version: str
    tag: str
    tag_format: str  # configured, or the style the repository's tags follow
    tag_commit: str  # where the tag is, or goes: HEAD, or the release commit of a resumed release
    branch: str
    remote: str
    head: str
    bump: bool
    test: Repository
    live: Repository
    test_only: bool
    artifacts: tuple[Artifact, ...] = ()  # stored and trusted; empty: build or download
    prebuilt: tuple[Artifact, ...] = ()  # --dist: the files to take instead of a build
    prebuilt_dir: Path | None = None
    expected: dict[str, str] = field(default_factory=dict)  # filename -> sha256 this release built
    downloads: tuple[IndexFile, ...] = ()  # the release's own files, fetched back from an index
    test_files: dict[str, IndexFile] = field(default_factory=dict)
    live_files: dict[str, IndexFile] = field(default_factory=dict)
    test_missing: tuple[str, ...] | None = None  # None: every file (not built yet)
    live_missing: tuple[str, ...] | None = None
    tag_exists: bool = False
    retag: bool = False  # our own unpushed tag of an unpublished release moves to HEAD
    pushed: bool = False
    verified: frozenset[str] = frozenset()  # index labels this release already verified
    resumed: bool = False
    complete: bool = False  # already released: nothing to do
    roll_changelog: bool = False
    changelog: Path | None = None
    release_notes: str = ""
    post_release: bool = False
    verify: bool = True
    version_source: str = ""
    writes_files: bool = True
    generated_files: tuple[str, ...] = ()
    finish_command: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    new_on: tuple[str, ...] = ()  # labels of indexes that hold nothing of this project
    steps: tuple[PlannedStep, ...] = ()

    def will(self, step: StepName) -> bool:
        return any(s.name is step and s.run for s in self.steps)

    def why(self, step: StepName) -> str:
        return next((s.why for s in self.steps if s.name is step), "")

    @property
    def needs_confirmation(self) -> bool:
        return not self.test_only and (self.will(StepName.UPLOAD_LIVE) or self.will(StepName.PUSH))

    def as_dict(self) -> dict[str, object]:
        """The plan as --dry-run --json prints it."""
        return {
            "name": self.name,
            "current_version": self.current_version,
            "version": self.version,
            "tag": self.tag,
            "resumed": self.resumed,
            "complete": self.complete,
            "test_index": self.test.label,
            "live_index": None if self.test_only else self.live.label,
            "steps": [
                {"name": s.name.value, "phase": s.phase.value, "run": s.run, "why": s.why} for s in self.steps
            ],
            "notes": list(self.notes),
        }


class StepName(enum.StrEnum):
    BUMP = "bump"
    TAG = "tag"
    BUILD = "build"
    DOWNLOAD = "download"
    CHECK = "check"
    UPLOAD_TEST = "upload-test"
    VERIFY_TEST = "verify-test"
    UPLOAD_LIVE = "upload-live"
    VERIFY_LIVE = "verify-live"
    PUSH = "push"
    POST_RELEASE = "post-release"


class Phase(enum.StrEnum):
    LOCAL = "local"  # undone when the release fails before anything is published
    PUBLISHED = "published"  # never undone: the world has seen it
    POST = "post"  # after a complete release; a failure is a warning
