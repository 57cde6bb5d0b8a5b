"""The release's vocabulary: what the user asked (Intent), the decisions (Plan), steps and index roles.

Kept apart from the planner and the steps so that both can import it without importing each
other. The Plan holds decisions only; facts it decided from stay in the `ReleaseState`, and a
step decides from both.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from releasekit import redact

if TYPE_CHECKING:
    from releasekit.dists.artifact import Artifact
    from releasekit.indexes.credentials import IndexAccess
    from releasekit.indexes.listing import IndexFile


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


class Role(enum.StrEnum):
    """What an index is to the release: the rehearsal, or the real thing."""

    TEST = "test"
    LIVE = "live"

    @property
    def upload_step(self) -> StepName:
        return StepName.UPLOAD_TEST if self is Role.TEST else StepName.UPLOAD_LIVE

    @property
    def verify_step(self) -> StepName:
        return StepName.VERIFY_TEST if self is Role.TEST else StepName.VERIFY_LIVE


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
class IndexTarget:
    """One index in this release: its role, how to reach it, what it holds of the version, what
    it lacks, and whether an earlier run already proved the release installs from it."""

    role: Role
    access: IndexAccess
    holds: dict[str, IndexFile] = field(default_factory=dict)  # this version's files there
    missing: tuple[str, ...] | None = None  # files still to upload; None: every file (not built yet)
    verified: bool = False
    new: bool = False  # the index holds nothing of this project: the first upload creates it

    @property
    def label(self) -> str:
        return self.access.label


@dataclass(frozen=True)
class ArtifactOrigin:
    """Where the release's files come from; empty: a fresh build.

    `expected` maps each file to the sha256 the release's bytes have (built earlier, prebuilt,
    or on the indexes already): nothing with other bytes is ever published.
    """

    stored: tuple[Artifact, ...] = ()  # kept in .git/releasekit and trusted
    prebuilt: tuple[Artifact, ...] = ()  # --dist: taken instead of a build
    downloads: tuple[IndexFile, ...] = ()  # the release's own files, fetched back from an index
    expected: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReleaseNotes:
    """The changelog's part in the release: where, what it says for the version, whether it rolls."""

    path: Path | None = None
    text: str = ""
    roll: bool = False  # the release commit turns the Unreleased section into this version's


@dataclass(frozen=True)
class PlannedStep:
    name: StepName
    phase: Phase
    run: bool
    why: str = ""


@dataclass(frozen=True)
class Plan:
    """The release's decisions, and each step's."""

    version: str
    current_version: str
    bump: bool
    tag: str
    tag_commit: str  # where the tag is, or goes: HEAD, or the release commit of a resumed release
    branch: str
    targets: tuple[IndexTarget, ...]  # the test index, then the live one
    test_only: bool = False
    artifacts: ArtifactOrigin = ArtifactOrigin()
    release_notes: ReleaseNotes = ReleaseNotes()
    tag_exists: bool = False
    retag: bool = False  # our own unpushed tag of an unpublished release moves to HEAD
    pushed: bool = False
    resumed: bool = False
    complete: bool = False  # already released: nothing to do
    post_release: bool = False
    verify: bool = True
    finish_command: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    steps: tuple[PlannedStep, ...] = ()

    def will(self, step: StepName) -> bool:
        return any(s.name is step and s.run for s in self.steps)

    def why(self, step: StepName) -> str:
        return next((s.why for s in self.steps if s.name is step), "")

    def target(self, role: Role) -> IndexTarget:
        return next(t for t in self.targets if t.role is role)

    @property
    def in_play(self) -> tuple[IndexTarget, ...]:
        """The indexes this release publishes to: the test index, and the live one unless --test."""
        return tuple(t for t in self.targets if t.role is Role.TEST or not self.test_only)

    @property
    def needs_confirmation(self) -> bool:
        return not self.test_only and (self.will(StepName.UPLOAD_LIVE) or self.will(StepName.PUSH))

    def as_dict(self, name: str) -> dict[str, object]:
        """The plan as --dry-run --json prints it."""
        return {
            "name": name,
            "current_version": self.current_version,
            "version": self.version,
            "tag": self.tag,
            "resumed": self.resumed,
            "complete": self.complete,
            "test_index": self.target(Role.TEST).label,
            "live_index": None if self.test_only else self.target(Role.LIVE).label,
            "steps": [
                {"name": s.name.value, "phase": s.phase.value, "run": s.run, "why": s.why} for s in self.steps
            ],
            "notes": list(self.notes),
        }


@dataclass
class Destination:
    """What went to one index: each file's outcome and whether the install was proved there."""

    index: str
    upload_url: str
    simple_url: str
    files: dict[str, str] = field(default_factory=dict)  # filename -> uploaded | present
    verified: bool = False

    @classmethod
    def of(cls, target: IndexTarget) -> Destination:
        repo = target.access.repository
        return cls(target.label, redact.scrub(repo.upload_url), redact.scrub(repo.simple_url))

    def as_dict(self) -> dict[str, object]:
        return {"index": self.index, "upload_url": self.upload_url, "simple_url": self.simple_url,
                "files": dict(self.files), "verified": self.verified}  # fmt: skip
