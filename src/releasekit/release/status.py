"""Where a release stands: read-only, fast, and honest about what it could not fetch.

Nothing here changes anything. Each fact that needs the network (the remote, each index) is
fetched with a short timeout; when it cannot be had, the report says which fact is unknown
instead of failing, so `status` also works on a plane.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.version import Version

from releasekit.config import Config
from releasekit.errors import ReleaseError
from releasekit.release.resume import open_record
from releasekit.release.state import IndexView, ReleaseState, observe
from releasekit.versioning import pep440
from releasekit.versioning.tags import release_tags

BUMPS = (("major", None), ("minor", None), ("patch", None), ("minor", "rc"), ("pre", None), ("final", None))


def gather(project: Path, config: Config, *, offline: bool = False) -> dict[str, Any]:
    """Every fact of the release's state, as plain data (the --json output)."""
    timeout = min(config.timeout, 10.0)
    state = observe(project, _with_timeout(config, timeout), offline=offline, lenient=True)
    return report(state, config)


def _with_timeout(config: Config, timeout: float) -> Config:
    import dataclasses

    return dataclasses.replace(config, timeout=timeout)


def report(state: ReleaseState, config: Config) -> dict[str, Any]:
    """The status report: a pure function of the observed state."""
    current = state.public_version
    released = release_tags(state.local_tags, state.tag_format)
    last_tag = max(released, key=lambda t: Version(released[t])) if released else None
    unknown: list[str] = []
    out: dict[str, Any] = {
        "name": state.name,
        "version": current,
        "head": state.head,
        "version_source": state.version_source,
        "changelog": state.changelog.describe(),
        "tag_format": state.tag_format,
        "tag_style": state.tag_style,
        "branch": state.branch,
        "clean": not state.changed and not state.untracked,
        "changed": list(state.changed),
        "untracked": list(state.untracked),
        "last_release": {
            "tag": last_tag,
            "version": released.get(last_tag) if last_tag else None,
            "commits_since": state.commits_since if last_tag else None,
        },
        "remote": _remote(state, config, unknown),
        "next": _next_versions(current),
    }
    record = open_record(state)
    shown = record.version if record is not None else current
    artifacts = state.stored.get(shown, ())
    ours = (
        dict(record.artifacts)
        if record is not None and record.artifacts
        else {a.filename: a.sha256 for a in artifacts}
    )
    out["indexes"] = {
        role: _index(view, state.name, shown, ours, unknown)
        for role, view in (("test", state.test), ("live", state.live))
    }
    out["in_progress"] = _in_progress(state, config, out, record, shown)
    out["release_notes"] = _notes(state, current)
    out["unknown"] = unknown
    return out


def _remote(state: ReleaseState, config: Config, unknown: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": config.remote,
        "reachable": False,
        "ahead": None,
        "behind": None,
        "tags": [],
    }
    if state.remote is None:
        unknown.append(f"the remote {config.remote} ({state.remote_error})")
        return out
    out["reachable"] = True
    out["tags"] = sorted(state.remote.tags)
    counts = state.remote_counts
    if counts is not None:
        out["ahead"], out["behind"] = counts
    return out


def _index(
    view: IndexView, name: str, current: str, ours: dict[str, str], unknown: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {"index": view.label, "simple_url": view.repository.simple_url, "reachable": False}
    if view.files is None:
        unknown.append(f"what {view.label} holds ({view.error})")
        return out
    versions = sorted(view.versions(), key=Version)
    mine = view.holds(name, current)
    out.update(
        reachable=True,
        latest=versions[-1] if versions else None,
        has_current=bool(mine),
        files=sorted(mine),
        complete=bool(mine) and (set(ours) <= set(mine) if ours else len(mine) >= 2),
        identical=(all(mine[f].sha256 == ours.get(f) for f in mine) if ours and mine else None),
    )
    return out


def _in_progress(
    state: ReleaseState, config: Config, out: dict[str, Any], record: Any, shown: str
) -> dict[str, Any] | None:
    """The unfinished release and the exact command that finishes it (the planner's own rule)."""
    live, test = out["indexes"]["live"], out["indexes"]["test"]
    tag = state.tag_for(shown)
    pushed = tag in out["remote"]["tags"]
    tagged_at_head = state.local_tags.get(tag) == state.head
    if live.get("complete") and pushed:
        return None
    if record is None and not tagged_at_head and not test.get("has_current"):
        return None
    done = [f"on {i['index']}" for i in (test, live) if i.get("has_current")]
    if pushed:
        done.append(f"{tag} pushed")
    return {"version": shown, "done": done, "finish_with": " ".join(finish_command(record))}


def finish_command(record: Any) -> list[str]:
    """The journal's command with --test dropped and --yes added: what finishes the release."""
    command = list(record.command) if record is not None and record.command else ["release"]
    command = [part for part in command if part != "--test"]
    return command if "--yes" in command else [*command, "--yes"]


def _next_versions(current: str) -> dict[str, str]:
    out = {}
    for part, pre in BUMPS:
        key = f"--bump {part}" + (f" --pre {pre}" if pre else "")
        try:
            out[key] = pep440.next_version(current, part, pre)
        except ReleaseError as exc:
            out[key] = f"refused: {exc.message}"
    return out


def _notes(state: ReleaseState, current: str) -> str | None:
    if state.changelog.path is None:
        return None
    try:
        return state.changelog.notes_for(current).text
    except ReleaseError:
        return None
