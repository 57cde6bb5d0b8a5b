"""Carry out a plan, step by step, so that every kill point maps to one known state.

A release passes through these states; the journal (`.git/releasekit/journal.json`) records the
intent before each act that is hard to undo, and what a re-run of the same command does is:

  (clean)      nothing recorded                   plan from the files: bump, tag, build, ...
  bumping      intent + files, no commit          the files are restored from HEAD, then as above
  bumped       the "Release X" commit             X is resumed (tagged, built) — never bumped past
  tagged       annotated tag X at that commit     X is resumed: build
  built        sdist + wheel stored, sha256 noted the stored files are reused, never rebuilt
  on test      an upload to the test index begun  the missing files go up, the same bytes
  verified     installed from the test index      not verified again
  on live      an upload to the live index begun  X must be finished: nothing else can start
  verified     installed from the live index      not verified again
  pushed       branch + tag on the remote         "already released": exit 0, nothing changes

Before the first upload, any failure (whatever its type) rolls back this run's local acts — the
tag, the bump commit, the stored files — inside a critical section a second Ctrl-C cannot cut.
After it nothing is undone: the error says what is done, and the same command finishes the job
with the bytes that were built (their sha256 is in the journal), never with other ones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from releasekit import vcs
from releasekit.config import Config
from releasekit.errors import BurntError, Interrupted, ReleaseError
from releasekit.release import journal
from releasekit.release.killpoints import pause
from releasekit.release.model import Destination, Phase, Plan, StepName
from releasekit.release.reporter import Reporter
from releasekit.release.signals import critical
from releasekit.release.steps.registry import STEPS
from releasekit.release.steps.run import Run
from releasekit.versioning import pep440

if TYPE_CHECKING:
    from releasekit.dists.standby import Standby
    from releasekit.release.state import ReleaseState


Outcome = str  # "done" | "skipped" | "failed"


@dataclass(frozen=True)
class StepResult:
    name: StepName
    outcome: Outcome
    seconds: float
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name.value, "outcome": self.outcome, "seconds": round(self.seconds, 3),
                "detail": self.detail}  # fmt: skip


@dataclass
class Summary:
    """What went where: printed at the end, and as JSON with --json."""

    name: str
    version: str
    tag: str
    commit: str = ""
    files: list[dict[str, Any]] = field(default_factory=list)
    destinations: list[Destination] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    pushed: bool = False
    remote: str = ""
    complete: bool = False
    already_released: bool = False
    release_notes: str = ""
    next_version: str = ""  # the .dev0 the files moved on to (post-release = "dev")

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "tag": self.tag,
            "commit": self.commit,
            "files": self.files,
            "destinations": [d.as_dict() for d in self.destinations],
            "steps": [s.as_dict() for s in self.steps],
            "pushed": self.pushed,
            "remote": self.remote,
            "complete": self.complete,
            "already_released": self.already_released,
            "release_notes": self.release_notes,
            "next_version": self.next_version,
        }


def execute(
    state: ReleaseState,
    plan: Plan,
    config: Config,
    reporter: Reporter,
    command: list[str],
    *,
    standby: Standby | None = None,
) -> Summary:
    """Run every step of the plan; on failure, roll back or say how to finish.

    `standby` holds build-backend processes started ahead (dists.standby).
    """
    repo = vcs.open_repo(state.project)
    log = journal.load(state.git_dir)
    record = log.records().get(plan.version)
    run = Run(state, plan, config, reporter, repo, log, head=state.head, standby=standby)
    run.published = any(t.holds for t in plan.targets) or bool(
        record is not None and record.open and record.published
    )
    summary = Summary(
        state.name, plan.version, plan.tag, remote=state.remote_name, release_notes=plan.release_notes.text
    )
    log.begin(plan.version, command)
    try:
        for step in STEPS:
            if step.phase is not Phase.POST:
                summary.steps.append(_run_step(run, step.name, step.run))
    except BaseException as exc:
        raise _explain(run, exc) from exc
    pause("finish")
    _finish(run, summary)
    for step in STEPS:
        if step.phase is Phase.POST:
            try:
                summary.steps.append(_run_step(run, step.name, step.run))
            except ReleaseError as exc:  # the release is complete: this can only warn
                target = pep440.next_dev(plan.version)
                reporter.warn(f"post-release bump to {target} skipped: {exc}")
                summary.steps.append(StepResult(step.name, "failed", 0.0, str(exc)))
    summary.next_version = run.next_version
    return summary


def _run_step(run: Run, name: StepName, action: Any) -> StepResult:
    plan = run.plan
    why = plan.why(name)
    if not plan.will(name):
        run.reporter.step(name.value, "skipped", why)
        return StepResult(name, "skipped", 0.0, why)
    pause(f"before:{name.value}")
    start = time.monotonic()
    try:
        detail = action(run)
    except BaseException:
        run.reporter.step(name.value, "failed", why, time.monotonic() - start)
        raise
    seconds = time.monotonic() - start
    run.reporter.step(name.value, "done", detail, seconds)
    return StepResult(name, "done", seconds, detail)


def _finish(run: Run, summary: Summary) -> None:
    plan = run.plan
    for target in plan.in_play:
        dest = run.destinations[target.label]
        for name in plan.artifacts.expected or {a.filename: "" for a in run.artifacts}:
            dest.files.setdefault(name, "present")
        dest.verified = dest.verified or target.verified
    summary.destinations = list(run.destinations.values())
    summary.files = [
        {"filename": a.filename, "size": a.size, "sha256": a.sha256, "path": str(a.path)}
        for a in run.artifacts
    ]
    summary.commit = plan.tag_commit if plan.tag_commit != run.state.head else run.head
    summary.pushed = not plan.test_only
    summary.complete = not plan.test_only
    summary.already_released = plan.complete
    if plan.test_only:
        run.log.record(plan.version, "tested", True)
    else:
        run.log.close(plan.version, "finished")


def _rollback(run: Run) -> tuple[list[str], list[str]]:
    """Undo this run's local acts, newest first; a second signal cannot interrupt it."""
    undone: list[str] = []
    failed: list[str] = []
    with critical(reraise=False):
        pause("rollback")
        for step in reversed(STEPS):
            if step.name in run.made and step.undo is not None:
                try:
                    what = step.undo(run)
                except (ReleaseError, OSError) as exc:
                    failed.append(f"could not undo {step.name.value} ({exc})")
                    continue
                if what:
                    undone.append(what)
        record = run.log.records().get(run.plan.version)
        if record is not None and not (record.bump_commit or record.tag or record.published):
            run.log.close(run.plan.version, "rolled-back")
    return undone, failed


def _explain(run: Run, exc: BaseException) -> BaseException:
    """The same error, with what state the release is in and how to go on."""
    if isinstance(exc, ReleaseError):
        base: ReleaseError = exc
    elif isinstance(exc, KeyboardInterrupt):
        base = Interrupted(f"interrupted during the release of {run.plan.version}")
    elif isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        base = ReleaseError(f"{exc.strerror or exc}{where}", "fix the cause (disk space, permissions)")
    else:
        base = ReleaseError(f"internal error: {type(exc).__name__}")
    if not run.published:
        undone, failed = _rollback(run)
        if not isinstance(exc, (ReleaseError, KeyboardInterrupt, OSError)):
            return exc  # a bug keeps its traceback; the local acts are undone all the same
        hint = "nothing was published" + (f"; rolled back {', '.join(undone)}" if undone else "")
        if failed:
            hint += "; " + "; ".join(failed)
        return type(base)(base.message, f"{base.hint}; {hint}" if base.hint else hint)
    done = [
        f"{d.index}: {sum(1 for o in d.files.values() if o in ('uploaded', 'present'))} file(s)"
        for d in run.destinations.values()
        if d.files
    ]
    so_far = f"done so far: {', '.join(done)}" if done else "no file is confirmed on an index yet"
    if isinstance(base, BurntError):
        state = f"{so_far}; nothing else was published"
    else:
        state = f"{so_far}; re-run the same command to finish {run.plan.version} (it never bumps past it)"
    hint = f"{base.hint}; {state}" if base.hint and "re-run" not in base.hint else (base.hint or state)
    if base.hint and "re-run" in base.hint:
        hint = f"{base.hint}; {so_far}"
    return type(base)(base.message, hint)
