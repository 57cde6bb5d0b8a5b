"""Undo a release that never published: its tag, its bump commit, its stored artifacts.

Normally a failure before the first upload rolls back by itself; this is for the run that could
not (killed, power lost) or a release the user decides against after a local dry start. Once any
index holds a file of the version, nothing is undone: the version is taken there. What to undo
is decided from the observed state alone (`abort_actions`), then carried out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from releasekit import vcs
from releasekit.config import Config
from releasekit.errors import GitError, ReleaseError
from releasekit.release import journal
from releasekit.release.resume import open_record
from releasekit.release.state import ReleaseState, observe
from releasekit.versioning import pep440


@dataclass(frozen=True)
class AbortPlan:
    version: str
    delete_tag: str  # empty: no tag to delete
    reset_to: str  # empty: no bump commit to remove
    removed_commit: str
    drop_store: bool


def abort_actions(state: ReleaseState, config: Config) -> AbortPlan:
    """What --abort would undo; refuses anything published or pushed."""
    record = open_record(state)
    ver = record.version if record is not None else pep440.normalise(state.version_text)
    tag = state.tag_for(ver)
    tagged_at = state.local_tags.get(tag)
    if state.changed:
        raise GitError("the work tree has uncommitted changes", "commit or stash them before --abort")
    if state.remote is not None and state.remote.tags.get(tag):
        raise ReleaseError(f"{tag} is already on {config.remote}", "a pushed release cannot be aborted")
    for view in (state.test, state.live):
        held = sorted(view.holds(state.name, ver))
        if held or (record is not None and record.published_on(view.label)):
            raise ReleaseError(
                f"{ver} is published on {view.label} ({', '.join(held) or 'an upload was begun'}); "
                "it cannot be undone",
                "finish it (re-run the release) or bump to a new version",
            )
    ours = record is not None and (record.tag == tag or not record.tag)
    delete = (
        tag if tagged_at and (tagged_at == state.head or (record is not None and record.tag == tag)) else ""
    )
    if tagged_at and not delete:
        raise ReleaseError(
            f"tag {tag} is at {tagged_at[:10]}, not at HEAD {state.head[:10]}",
            "--abort only undoes the release at HEAD",
        )
    bump_commit = record.bump_commit if record is not None else ""
    if record is not None and not bump_commit and state.parents.get(state.head) == record.bump_parent:
        bump_commit = state.head  # committed, then killed before the journal noted it
    reset_to = ""
    if record is not None and bump_commit == state.head and record.bump_parent and ours:
        reset_to = record.bump_parent
    drop = ver in state.stored
    if not (delete or reset_to or drop):
        raise ReleaseError(f"no release of {ver} to abort: there is no tag {tag} and no release commit")
    return AbortPlan(ver, delete, reset_to, state.head, drop)


def abort(project: Path, config: Config) -> list[str]:
    """Undo the unpublished release; return what was undone, one line each."""
    state = observe(project, config)
    actions = abort_actions(state, config)
    repo = vcs.open_repo(project)
    undone = []
    if actions.delete_tag:
        vcs.delete_tag(repo, actions.delete_tag)
        undone.append(f"deleted tag {actions.delete_tag}")
    if actions.reset_to:
        vcs.reset_hard(repo, actions.reset_to)
        undone.append(
            f"removed the release commit {actions.removed_commit[:10]} (back to {actions.reset_to[:10]})"
        )
    if actions.drop_store:
        journal.remove(journal.artifacts_dir(state.git_dir, actions.version))
        undone.append(f"deleted the stored artifacts of {actions.version}")
    journal.load(state.git_dir).close(actions.version, "aborted")
    return undone
