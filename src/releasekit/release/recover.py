"""Clear what a killed run left in the work tree, as its journal says, before anything else runs."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from releasekit import vcs
from releasekit.release import journal
from releasekit.release.journal import Record
from releasekit.versioning.detect import project_name

if TYPE_CHECKING:
    pass


def recover(project: Path) -> list[str]:
    """Clear what a killed run left in the work tree, as its journal says; one line per repair.

    Only two things, both provably this tool's: files rewritten by a bump that never became a
    commit (restored from HEAD, which was clean when the bump began), and a build's staging
    leftovers (`name-X.Y.Z/`, `*.egg-info`, `build/`) that git does not track.
    """
    repo = vcs.open_repo(project)
    log = journal.load(vcs.git_dir(repo, project))
    head = vcs.head_sha(repo)
    done: list[str] = []
    for record in log.records().values():
        if not record.open:
            continue
        changed, untracked = vcs.unclean_paths(repo, project)
        interrupted_bump = record.bump_parent == head and not record.bump_commit
        if interrupted_bump and changed and set(changed) <= set(record.bump_files):
            vcs.restore(repo, changed)
            log.update(record.version, bump_parent="", bump_files=[])
            done.append(f"restored {len(changed)} file(s) an interrupted bump to {record.version} rewrote")
        if record.building and not record.artifacts:
            removed = _remove_droppings(project, repo, record, untracked)
            log.update(record.version, building=False)
            if removed:
                done.append(f"removed what an interrupted build left: {', '.join(removed)}")
    return done


def _remove_droppings(project: Path, repo: Any, record: Record, untracked: list[str]) -> list[str]:
    """Untracked `name-X.Y.Z/` staging folders, `*.egg-info` and `build/` of the killed build."""
    root = Path(repo.working_dir).resolve()
    prefix = project.resolve().relative_to(root).as_posix()
    name = project_name(project)
    staging_names = {f"{n}-{record.version}" for n in (name, name.replace("-", "_"))}
    tops = {p.name for p in project.iterdir() if p.is_dir() and p.name in staging_names}
    for path in untracked:
        relative = path if prefix in ("", ".") else path.removeprefix(prefix + "/")
        tops.add(relative.split("/", 1)[0])
    tracked_tops = {name.split("/", 1)[0] for name in vcs.tracked_files(repo, project)}
    removed = []
    for top in sorted(tops - tracked_tops):
        if top in staging_names or top.endswith(".egg-info") or top == "build":
            target = project / top
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
                removed.append(top + "/")
    return removed
