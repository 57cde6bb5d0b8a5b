"""Where a release stands: read-only, fast, and honest about what it could not fetch.

Nothing here changes anything. Each fact that needs the network (the remote, each index) is
fetched with a short timeout; when it cannot be had, the report says which fact is unknown
instead of failing, so `status` also works on a plane.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from packaging.version import Version

from . import changelog, dists, indexes, journal, vcs, version
from .config import Config
from .errors import ReleaseError
from .plan import files_for, project_name, tag_versions

BUMPS = (("major", None), ("minor", None), ("patch", None), ("minor", "rc"), ("pre", None), ("final", None))


def gather(project: Path, config: Config, *, offline: bool = False) -> dict[str, Any]:
    """Every fact of the release's state, as plain data (the --json output)."""
    timeout = min(config.timeout, 10.0)
    repo = vcs.open_repo(project)
    git_dir = vcs.git_dir(repo)
    name = project_name(project)
    current = version.normalise(version.read_version(project).version)
    unknown: list[str] = []
    head = vcs.head_sha(repo)
    branch = vcs.current_branch(repo)
    changed, untracked = vcs.unclean_paths(repo)
    tags = vcs.local_tags(repo)
    released = tag_versions(tags, config.tag_format)
    last_tag = max(released, key=lambda t: Version(released[t])) if released else None
    report: dict[str, Any] = {
        "name": name,
        "version": current,
        "head": head,
        "branch": branch,
        "clean": not changed and not untracked,
        "changed": changed,
        "untracked": untracked,
        "last_release": {
            "tag": last_tag,
            "version": released.get(last_tag) if last_tag else None,
            "commits_since": vcs.count_commits(repo, f"{last_tag}..HEAD") if last_tag else None,
        },
        "remote": _remote(repo, config, branch, head, timeout, offline, unknown),
        "next": _next_versions(current),
    }
    tag = config.tag_for(current)
    stored = journal.artifacts_dir(git_dir, current)
    artifacts = dists.collect(stored) if stored.is_dir() else []
    roles: tuple[tuple[Literal["test", "live"], str], ...] = (
        ("test", config.test_repository),
        ("live", config.repository),
    )
    report["indexes"] = {
        role: _index(role, target, config, name, current, artifacts, timeout, offline, unknown)
        for role, target in roles
    }
    report["in_progress"] = _in_progress(report, tags.get(tag) == head, tag)
    report["release_notes"] = _notes(project, config, current)
    report["unknown"] = unknown
    return report


def _remote(
    repo: Any,
    config: Config,
    branch: str | None,
    head: str,
    timeout: float,
    offline: bool,
    unknown: list[str],
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": config.remote,
        "reachable": False,
        "ahead": None,
        "behind": None,
        "tags": [],
    }
    if offline:
        unknown.append(f"the remote {config.remote} (offline)")
        return out
    try:
        state = vcs.read_remote(repo, config.remote, timeout)
    except ReleaseError as exc:
        unknown.append(f"the remote {config.remote} ({exc.message})")
        return out
    out["reachable"] = True
    out["tags"] = sorted(state.tags)
    remote_head = state.heads.get(branch or "")
    if remote_head:
        out["ahead"] = vcs.count_commits(repo, f"{remote_head}..HEAD")
        out["behind"] = vcs.count_commits(repo, f"HEAD..{remote_head}")
        if out["behind"] is None:  # the remote has commits this clone never fetched
            out["behind"] = "unknown (not fetched)"
    return out


def _index(
    role: Literal["test", "live"],
    target: str,
    config: Config,
    name: str,
    current: str,
    artifacts: list[dists.Artifact],
    timeout: float,
    offline: bool,
    unknown: list[str],
) -> dict[str, Any]:
    # The role decides whose environment credentials apply (TWINE_* only to the live index).
    repo = indexes.resolve_repository(
        target, simple_overrides=config.simple_index, role=role, timeout=timeout
    )
    out: dict[str, Any] = {"index": repo.label, "simple_url": repo.simple_url, "reachable": False}
    if offline:
        unknown.append(f"what {repo.label} holds (offline)")
        return out
    try:
        files = indexes.list_files(repo, name, timeout)
    except ReleaseError as exc:
        unknown.append(f"what {repo.label} holds ({exc.message})")
        return out
    versions = sorted({p[2] for p in map(dists.parse_filename, files) if p}, key=Version)
    mine = files_for(files, name, current)
    ours = {a.filename: a.sha256 for a in artifacts}
    out.update(
        reachable=True,
        latest=versions[-1] if versions else None,
        has_current=bool(mine),
        files=sorted(mine),
        complete=bool(mine) and (set(ours) <= set(mine) if ours else len(mine) >= 2),
        identical=(all(mine[f].sha256 == ours.get(f) for f in mine) if ours and mine else None),
    )
    return out


def _in_progress(report: dict[str, Any], tagged_at_head: bool, tag: str) -> dict[str, Any] | None:
    live, test = report["indexes"]["live"], report["indexes"]["test"]
    pushed = tag in report["remote"]["tags"]
    if live.get("complete") and pushed:
        return None
    if not tagged_at_head and not test.get("has_current"):
        return None
    done = [f"on {i['index']}" for i in (test, live) if i.get("has_current")]
    if pushed:
        done.append(f"{tag} pushed")
    return {"version": report["version"], "done": done, "finish_with": "release --yes"}


def _next_versions(current: str) -> dict[str, str]:
    out = {}
    for part, pre in BUMPS:
        key = f"--bump {part}" + (f" --pre {pre}" if pre else "")
        try:
            out[key] = version.next_version(current, part, pre)
        except ReleaseError as exc:
            out[key] = f"refused: {exc.message}"
    return out


def _notes(project: Path, config: Config, current: str) -> str | None:
    path = project / config.changelog if config.changelog else None
    if path is None or not path.is_file():
        return None
    try:
        return changelog.notes_for(path, current).text
    except ReleaseError:
        return None
