"""The git steps: the bump commit, the annotated tag, the atomic push, the post-release commit.

Each act is journaled before it is made and made inside a critical section with its record,
so a kill at any point leaves a state the next run recognises.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from releasekit import vcs
from releasekit.errors import VersionError
from releasekit.release.killpoints import pause
from releasekit.release.signals import critical
from releasekit.versioning import detect, pep440

if TYPE_CHECKING:
    import git

    from releasekit.release.model import Plan
    from releasekit.release.state import ReleaseState
from releasekit.release.model import StepName
from releasekit.release.steps.run import Run


def decide_bump(state: ReleaseState, plan: Plan) -> tuple[bool, str]:
    if plan.complete:
        return False, "already released"
    parts = [f"{plan.current_version} -> {plan.version}" if plan.bump else f"version stays {plan.version}"]
    if plan.bump and not state.writes_files:
        parts.append("the tag is the bump (the version comes from git tags)")
    notes = plan.release_notes
    if notes.roll:
        parts.append(f"{state.changelog.describe()}: the notes become {plan.version}'s")
    writes = plan.bump and state.writes_files
    return writes or notes.roll, ", ".join(parts)


def bump(run: Run) -> str:
    plan = run.plan
    source = run.state.source
    notes = plan.release_notes
    files = list(source.files) if plan.bump and source.writes_files else []
    if notes.roll:
        files += run.state.changelog.files
    root = Path(run.repo.working_dir)
    run.record(bump_parent=run.head, bump_files=[str(p.resolve().relative_to(root.resolve())) for p in files])
    run.made.add(StepName.BUMP)  # from here on, rollback restores the files and HEAD
    changed: list[Path] = []
    if plan.bump and source.writes_files:
        changed += detect.write_version(run.state.project, source, plan.version)
    if notes.roll and notes.path is not None:
        today = datetime.date.today().isoformat()
        changed += run.state.changelog.roll(plan.version, today, run.state.tag_format)
    pause("bump:written")
    message = run.config.commit_message.format(version=plan.version)
    with critical():
        run.head = vcs.commit_files(run.repo, changed, message)
        pause("bump:committed")
        run.record(bump_commit=run.head)
    left, _ = vcs.unclean_paths(run.repo, run.state.project)
    if left:  # a file the version source rewrote without saying so: never release a dirty tree
        raise VersionError(
            f"the bump rewrote {', '.join(left[:3])} but {source.describe()} did not report it",
            "this is a releasekit bug for this layout: please report it; the bump was rolled back",
        )
    return plan.why(StepName.BUMP) + ", committed"


def undo_bump(run: Run) -> str:
    parent = run.log.release(run.plan.version).get("bump_parent") or run.state.head
    vcs.reset_hard(run.repo, parent)  # the tree was clean before the bump: nothing else is lost
    run.record(bump_commit="", bump_parent="")
    return f"bump to {run.plan.version}"


def decide_tag(state: ReleaseState, plan: Plan) -> tuple[bool, str]:
    if plan.complete:
        return False, "already released"
    if plan.retag:
        return True, f"move the unpushed {plan.tag} of the unfinished release to HEAD"
    if plan.tag_exists:
        return False, f"{plan.tag} at {plan.tag_commit[:10]}"
    return True, f"create annotated {plan.tag}"


def tag_commit(run: Run) -> str:
    """HEAD (after this run's bump), or the release commit of a published release being finished."""
    return run.plan.tag_commit if run.plan.tag_commit != run.state.head else run.head


def tag(run: Run) -> str:
    plan = run.plan
    commit = tag_commit(run)
    run.record(tag=plan.tag, tag_commit=commit)
    run.made.add(StepName.TAG)
    with critical():
        if plan.retag:
            vcs.delete_tag(run.repo, plan.tag)
        vcs.create_tag(run.repo, plan.tag, run.config.tag_message.format(version=plan.version), commit)
        pause("tag:created")
        run.record(tagged=True)
    return f"{plan.tag} at {commit[:10]}"


def undo_tag(run: Run) -> str:
    if run.plan.tag in vcs.local_tags(run.repo):
        vcs.delete_tag(run.repo, run.plan.tag)
    run.record(tag="", tag_commit="", tagged=False)
    return f"tag {run.plan.tag}"


def decide_push(state: ReleaseState, plan: Plan) -> tuple[bool, str]:
    if plan.test_only:
        return False, "--test: nothing is pushed"
    if plan.pushed:
        return False, f"{plan.tag} is on {state.remote_name}"
    return True, f"{plan.branch} and {plan.tag} to {state.remote_name}"


def push(run: Run) -> str:
    plan = run.plan
    run.record(pushing=True)
    remote = run.state.remote_name
    vcs.push(run.repo, remote, plan.branch, plan.tag, run.config.timeout, tag_commit=tag_commit(run))
    pause("push:pushed")
    run.record(pushed=True)
    return f"{plan.branch} and {plan.tag} to {remote}"


def probe_push(state: ReleaseState, plan: Plan, repo: git.Repo, timeout: float) -> None:
    """Preflight: would the remote take the branch and the tag, both, atomically?"""
    source = f"refs/tags/{plan.tag}" if plan.tag_exists else None
    vcs.push_dry_run(repo, state.remote_name, plan.branch, plan.tag, timeout, tag_source=source)


def decide_post(state: ReleaseState, plan: Plan) -> tuple[bool, str]:
    if not plan.post_release:
        return False, 'post-release is not "dev"'
    if not state.writes_files:
        return False, "the version comes from git tags: no file to move on"
    return True, f"move the files on to {pep440.next_dev(plan.version)}"


def post_release(run: Run) -> str:
    """Move the files on to the next .dev0, so they never claim a released version."""
    target = pep440.next_dev(run.plan.version)
    # The bump changed the files since the state was observed: the source is read again.
    project = run.state.project
    changed = detect.write_version(project, detect.read_version(project), target)
    vcs.commit_files(run.repo, list(changed), f"Start {target}")
    run.next_version = target
    return f"{target} committed (push it with your next work)"
