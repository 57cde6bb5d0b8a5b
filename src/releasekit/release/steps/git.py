"""The git steps: the bump commit, the annotated tag, the atomic push, the post-release commit.

Each act is journaled before it is made and made inside a critical section with its record,
so a kill at any point leaves a state the next run recognises.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from releasekit import vcs
from releasekit.changelog import keep_a_changelog
from releasekit.errors import VersionError
from releasekit.release.killpoints import pause
from releasekit.release.signals import critical
from releasekit.versioning import detect, pep440

if TYPE_CHECKING:
    import git

    from releasekit.release.model import Plan
from releasekit.release.model import StepName
from releasekit.release.steps.run import Run


def decide_bump(plan: Plan) -> tuple[bool, str]:
    if plan.complete:
        return False, "already released"
    parts = [f"{plan.current_version} -> {plan.version}" if plan.bump else f"version stays {plan.version}"]
    if plan.bump and not plan.writes_files:
        parts.append("the tag is the bump (the version comes from git tags)")
    if plan.roll_changelog and plan.changelog is not None:
        parts.append(f"{plan.changelog.name}: Unreleased becomes {plan.version}")
    writes = plan.bump and plan.writes_files
    return writes or plan.roll_changelog, ", ".join(parts)


def bump(run: Run) -> str:
    plan = run.plan
    source = detect.read_version(plan.project)
    files = list(source.files) if plan.bump and source.writes_files else []
    if plan.roll_changelog and plan.changelog is not None:
        files.append(plan.changelog)
    root = Path(run.repo.working_dir)
    run.record(bump_parent=run.head, bump_files=[str(p.resolve().relative_to(root.resolve())) for p in files])
    run.made.add(StepName.BUMP)  # from here on, rollback restores the files and HEAD
    changed: list[Path] = []
    if plan.bump and source.writes_files:
        changed += detect.write_version(plan.project, source, plan.version)
    if plan.roll_changelog and plan.changelog is not None:
        keep_a_changelog.roll(
            plan.changelog, plan.version, datetime.date.today().isoformat(), plan.tag_format
        )
        changed.append(plan.changelog)
    pause("bump:written")
    message = run.config.commit_message.format(version=plan.version)
    with critical():
        run.head = vcs.commit_files(run.repo, changed, message)
        pause("bump:committed")
        run.record(bump_commit=run.head)
    left, _ = vcs.unclean_paths(run.repo, plan.project)
    if left:  # a file the version source rewrote without saying so: never release a dirty tree
        raise VersionError(
            f"the bump rewrote {', '.join(left[:3])} but {source.describe()} did not report it",
            "this is a releasekit bug for this layout: please report it; the bump was rolled back",
        )
    return plan.why(StepName.BUMP) + ", committed"


def undo_bump(run: Run) -> str:
    parent = run.log.release(run.plan.version).get("bump_parent") or run.plan.head
    vcs.reset_hard(run.repo, parent)  # the tree was clean before the bump: nothing else is lost
    run.record(bump_commit="", bump_parent="")
    return f"bump to {run.plan.version}"


def decide_tag(plan: Plan) -> tuple[bool, str]:
    if plan.complete:
        return False, "already released"
    if plan.retag:
        return True, f"move the unpushed {plan.tag} of the unfinished release to HEAD"
    if plan.tag_exists:
        return False, f"{plan.tag} at {plan.tag_commit[:10]}"
    return True, f"create annotated {plan.tag}"


def tag_commit(run: Run) -> str:
    """HEAD (after this run's bump), or the release commit of a published release being finished."""
    return run.plan.tag_commit if run.plan.tag_commit != run.plan.head else run.head


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


def decide_push(plan: Plan) -> tuple[bool, str]:
    if plan.test_only:
        return False, "--test: nothing is pushed"
    if plan.pushed:
        return False, f"{plan.tag} is on {plan.remote}"
    return True, f"{plan.branch} and {plan.tag} to {plan.remote}"


def push(run: Run) -> str:
    plan = run.plan
    run.record(pushing=True)
    vcs.push(run.repo, plan.remote, plan.branch, plan.tag, run.config.timeout, tag_commit=tag_commit(run))
    pause("push:pushed")
    run.record(pushed=True)
    return f"{plan.branch} and {plan.tag} to {plan.remote}"


def probe_push(plan: Plan, repo: git.Repo, timeout: float) -> None:
    """Preflight: would the remote take the branch and the tag, both, atomically?"""
    source = f"refs/tags/{plan.tag}" if plan.tag_exists else None
    vcs.push_dry_run(repo, plan.remote, plan.branch, plan.tag, timeout, tag_source=source)


def decide_post(plan: Plan) -> tuple[bool, str]:
    if not plan.post_release:
        return False, 'post-release is not "dev"'
    if not plan.writes_files:
        return False, "the version comes from git tags: no file to move on"
    return True, f"move the files on to {pep440.next_dev(plan.version)}"


def post_release(run: Run) -> str:
    """Move the files on to the next .dev0, so they never claim a released version."""
    target = pep440.next_dev(run.plan.version)
    source = detect.read_version(run.plan.project)
    changed = detect.write_version(run.plan.project, source, target)
    vcs.commit_files(run.repo, list(changed), f"Start {target}")
    run.next_version = target
    return f"{target} committed (push it with your next work)"
