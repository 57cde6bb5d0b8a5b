"""What every step is (name, phase, decision, action, undo) and what one execution carries.

Adding a step means adding one `Step` to `registry.STEPS`. Each step decides from the observed
state and the plan whether it runs (and says why), and acts through the job modules. A LOCAL
step is undone when the release fails before anything is published; a PUBLISHED step is never
undone; the POST step runs after a complete release and can only warn. Intent is journaled
before every act that is hard to undo, inside a critical section with the act's own record
(see `signals.critical`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from releasekit.config import Config
from releasekit.dists import verify
from releasekit.dists.artifact import Artifact
from releasekit.release import journal
from releasekit.release.reporter import Reporter

if TYPE_CHECKING:
    import git

    from releasekit.dists.standby import Standby
    from releasekit.release.model import Plan
    from releasekit.release.state import ReleaseState
from releasekit.release.model import Destination, Phase, StepName


@dataclass
class Run:
    """One execution: the state and plan, the open repository and journal, what this run changed."""

    state: ReleaseState
    plan: Plan
    config: Config
    reporter: Reporter
    repo: git.Repo
    log: journal.Journal
    head: str
    artifacts: list[Artifact] = field(default_factory=list)
    made: set[StepName] = field(default_factory=set)  # local acts of this run, for rollback
    published: bool = False  # an upload was at least attempted by this run or an earlier one
    destinations: dict[str, Destination] = field(default_factory=dict)  # index label -> what went there
    next_version: str = ""
    environments: dict[str, verify.Preparation] = field(default_factory=dict)  # index label -> env
    standby: Standby | None = None  # build-backend processes started ahead (dists.standby)

    def __post_init__(self) -> None:
        if not self.destinations:
            self.destinations = {t.label: Destination.of(t) for t in self.plan.in_play}

    @property
    def store(self) -> Path:
        return journal.artifacts_dir(self.state.git_dir, self.plan.version)

    def record(self, **values: Any) -> None:
        self.log.update(self.plan.version, **values)


Decide = Callable[["ReleaseState", "Plan"], tuple[bool, str]]


@dataclass(frozen=True)
class Step:
    name: StepName
    phase: Phase
    decide: Decide
    run: Callable[[Run], str]
    undo: Callable[[Run], str] | None = None


def done(plan: Plan) -> tuple[bool, str] | None:
    return (False, "already released") if plan.complete else None
