"""Undo a release that never published: its tag, its bump commit, its stored artifacts.

Normally a failure before the first upload rolls back by itself; this is for the run that could
not (killed, power lost) or a release the user decides against after a local dry start. Once any
index holds a file of the version, nothing is undone: the version is taken there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from . import dists, indexes, journal, vcs, version
from .config import Config
from .errors import GitError, ReleaseError
from .plan import project_name


def abort(project: Path, config: Config, *, test_repository: str | None, repository: str | None) -> list[str]:
    """Undo the unpublished release at HEAD; return what was undone, one line each."""
    repo = vcs.open_repo(project)
    git_dir = vcs.git_dir(repo)
    current = version.normalise(version.read_version(project).version)
    tag = config.tag_for(current)
    head = vcs.head_sha(repo)
    tagged_at = vcs.local_tags(repo).get(tag)
    if tagged_at is None:
        raise ReleaseError(f"no release of {current} to abort: there is no tag {tag}")
    if tagged_at != head:
        raise ReleaseError(
            f"tag {tag} is at {tagged_at[:10]}, not at HEAD {head[:10]}",
            "--abort only undoes the release at HEAD",
        )
    changed, _ = vcs.unclean_paths(repo)
    if changed:
        raise GitError("the work tree has uncommitted changes", "commit or stash them before --abort")
    if vcs.read_remote(repo, config.remote, config.timeout).tags.get(tag):
        raise ReleaseError(f"{tag} is already on {config.remote}", "a pushed release cannot be aborted")
    name = project_name(project)
    for target in (test_repository or config.test_repository, repository or config.repository):
        repo_index = indexes.resolve_repository(target, simple_overrides=config.simple_index)
        listed = indexes.list_files(repo_index, name, config.timeout)
        held = sorted(f for f in listed if (dists.parse_filename(f) or ("", "", ""))[2] == current)
        if held:
            raise ReleaseError(
                f"{current} is published on {repo_index.label} ({', '.join(held)}); it cannot be undone",
                "finish it (re-run the release) or bump to a new version",
            )
    record = journal.load(git_dir).release(current)
    undone = []
    vcs.delete_tag(repo, tag)
    undone.append(f"deleted tag {tag}")
    if record.get("bump_commit") == head and record.get("bump_parent"):
        vcs.reset_hard(repo, record["bump_parent"])
        undone.append(f"removed the release commit {head[:10]} (back to {record['bump_parent'][:10]})")
    store = journal.artifacts_dir(git_dir, current)
    if store.exists():
        shutil.rmtree(store)
        undone.append(f"deleted the stored artifacts of {current}")
    log = journal.load(git_dir)
    log.record(current, "aborted", True)
    return undone
