"""Which release is unfinished, and whether it is to be resumed: the journal read against the state.

An open journal record is resumed, not bumped past, when its work is still what HEAD holds (its
bump commit is in HEAD's history, or its tag is at HEAD); a version that reached the live index
is always resumed, since nothing may start before it is tagged. A release that only reached the
test index and whose HEAD moved on is left there: its next `--bump` starts the next version.
"""

from __future__ import annotations

from packaging.version import Version

from releasekit.errors import GitError, VersionError
from releasekit.release.journal import Record
from releasekit.release.state import ReleaseState
from releasekit.versioning import pep440


def open_record(state: ReleaseState) -> Record | None:
    """The unfinished release the journal names, if any: the newest one still open."""
    candidates = [
        r
        for r in state.records.values()
        if r.open and (r.bump_parent or r.tag or r.published or r.tested or r.artifacts)
    ]
    valid = [r for r in candidates if is_version(r.version)]
    return max(valid, key=lambda r: Version(r.version)) if valid else None


def is_version(text: str) -> bool:
    try:
        pep440.parse_version(text)
    except VersionError:
        return False
    return True


def published_live(state: ReleaseState, record: Record) -> bool:
    return record.published_on(state.live.label) or bool(state.live.holds(state.name, record.version))


def to_resume(state: ReleaseState, record: Record | None, notes: list[str]) -> Record | None:
    """The release to resume instead of starting one, or None when there is nothing to finish."""
    if record is None:
        return None
    tag = state.tag_for(record.version)
    tag_commit = record.tag_commit or state.local_tags.get(tag, "")
    if published_live(state, record):
        if tag_commit and not state.contains(tag_commit):
            raise GitError(
                f"{record.version} is published on {state.live.label} from {tag_commit[:10]}, "
                "which this branch does not contain",
                f"check out the branch that holds it and re-run, so {tag} is pushed",
            )
        return record
    on_test = record.published_on(state.test.label) or bool(state.test.holds(state.name, record.version))
    if on_test:
        if tag_commit == state.head:
            return record
        notes.append(
            f"{record.version} stays on {state.test.label} only (tested at {tag_commit[:10] or '?'}; "
            "HEAD moved on since)"
        )
        return None
    bump_commit = record.bump_commit
    if not bump_commit and record.bump_parent and state.parents.get(state.head) == record.bump_parent:
        bump_commit = state.head  # committed, then killed before the journal noted it
    if bump_commit and state.contains(bump_commit) and files_say(state, record.version):
        return record
    if record.tag and tag_commit == state.head and files_say(state, record.version):
        return record
    return None


def files_say(state: ReleaseState, ver: str) -> bool:
    if not state.writes_files:
        return True  # git tags hold the version: no file can disagree
    try:
        return pep440.normalise(state.version_text) == ver
    except VersionError:
        return False
