"""Decide a release from the observed state: a pure function, so it is also how a release resumes.

`make_plan(state, config, intent)` reads nothing and changes nothing. An unfinished release named
by the journal is resumed, not bumped past (whatever `--bump` says); a version that reached the
live index is always finished (its tag pushed) before anything else can start. Each step of the
registry then decides from the state and the plan whether it runs and why. Every refusal happens
here, or in `preflight`, with nothing changed.

`make_plan` runs in phases, each a function of its own: the git checks, the target version, what
the indexes hold of it, the tag, where the files come from, each index's target, completion.
"""

from __future__ import annotations

import dataclasses
import datetime

from packaging.version import InvalidVersion, Version

from releasekit.config import Config
from releasekit.dists import artifact
from releasekit.errors import BurntError, GitError, PackageIndexError, VersionError
from releasekit.indexes import pypi_rules, urls
from releasekit.indexes.listing import IndexFile
from releasekit.release import journal
from releasekit.release.journal import Record
from releasekit.release.model import (
    ArtifactOrigin,
    IndexTarget,
    Intent,
    Plan,
    PlannedStep,
    ReleaseNotes,
    Role,
)
from releasekit.release.origin import artifact_origin
from releasekit.release.resume import open_record, published_live, to_resume
from releasekit.release.state import IndexView, ReleaseState
from releasekit.release.steps.registry import STEPS
from releasekit.versioning import pep440
from releasekit.versioning.tags import released_versions


def make_plan(
    state: ReleaseState, config: Config, intent: Intent, now: datetime.datetime | None = None
) -> Plan:
    """Decide every step from the observed state; raise on anything unsafe.

    `now` (default: the clock) is the one outside fact: PyPI's 14-day window for new files.
    """
    notes: list[str] = []
    branch, tag_checkout = _git_checks(state, config, intent)
    resume = to_resume(state, open_record(state), notes)
    current, version, bump = _target(state, intent, resume, notes)
    if resume is None:
        _moves_forward(state, version, notes)
    tag = state.tag_for(version)
    test_files, live_files = _held_by_indexes(state, version, resume, tag)
    published = bool(test_files or live_files) or (resume is not None and resume.published)
    tag_commit, tag_exists, retag = _tag_checks(state, config, tag, bump, resume, published)
    record = resume if resume is not None else state.records.get(version)
    released = _released(state, intent, live_files, tag, tag_commit)
    origin = artifact_origin(state, record, version, (test_files, live_files), released, notes)
    when = now or datetime.datetime.now(datetime.UTC)
    targets = _targets(state, config, record, version, origin, (test_files, live_files), released, when)
    pushed = _pushed(state, tag, tag_commit, branch, tag_checkout)
    complete = bool(live_files) and targets[1].missing == () and pushed and not intent.test_only
    release_notes = _release_notes(state, config, intent, version, tag_exists or complete, notes)
    _closing_notes(state, config, intent, targets, notes, complete=complete, version=version, tag=tag)
    plan = Plan(
        version=version, current_version=current, bump=bump, tag=tag, tag_commit=tag_commit,
        branch=branch, targets=targets, test_only=intent.test_only, artifacts=origin,
        release_notes=release_notes, tag_exists=tag_exists, retag=retag, pushed=pushed,
        resumed=resume is not None, complete=complete,
        post_release=config.post_release == "dev" and not intent.test_only and not complete,
        verify=config.verify, finish_command=resume.command if resume is not None else (),
        notes=tuple(notes),
    )  # fmt: skip
    steps = tuple(PlannedStep(s.name, s.phase, *s.decide(state, plan)) for s in STEPS)
    return dataclasses.replace(plan, steps=steps)


def _git_checks(state: ReleaseState, config: Config, intent: Intent) -> tuple[str, bool]:
    """(the branch released from, whether this is CI's checkout of a pushed tag); refusals."""
    if urls.same_index(state.test.repository.upload_url, state.live.repository.upload_url):
        raise PackageIndexError(
            f"the test and live repositories are the same ({state.test.repository.upload_url})",
            "set test-repository and repository to different indexes",
        )
    release_branch = _release_branch(config, state)
    tag_checkout = _tag_checkout(state) and not intent.bump and not intent.new_version
    branch = release_branch if tag_checkout else _check_tree(state, release_branch)
    if tag_checkout and (state.changed or state.untracked):
        _check_tree(state, release_branch)
    remote_head = state.remote.heads.get(branch) if state.remote else None
    if remote_head and not state.contains(remote_head):
        raise GitError(
            f"branch '{branch}' is behind {config.remote}/{branch}",
            f"git pull {config.remote} {branch} first, then re-run",
        )
    return branch, tag_checkout


def _release_branch(config: Config, state: ReleaseState) -> str:
    if config.release_branch:
        return config.release_branch
    if state.remote is not None and state.remote.default_branch:
        return state.remote.default_branch
    for candidate in ("main", "master"):
        if candidate in state.branches:
            return candidate
    raise GitError("cannot tell the release branch", "set release-branch in [tool.releasekit]")


def _tag_checkout(state: ReleaseState) -> bool:
    """A detached HEAD at a release tag that is on the remote: how CI checks out a tag push."""
    if state.branch is not None:
        return False
    tag = state.tag_for(pep440.normalise(state.version_text))
    remote_sha = state.remote.tags.get(tag) if state.remote else None
    return state.local_tags.get(tag) == state.head and remote_sha == state.head


def _check_tree(state: ReleaseState, release_branch: str) -> str:
    if state.changed:
        raise GitError(
            f"the work tree has uncommitted changes ({', '.join(state.changed[:3])})",
            "commit or stash them first",
        )
    if state.untracked:
        raise GitError(
            f"untracked files would be swept into the sdist ({', '.join(state.untracked[:3])})",
            "commit them, delete them, or add them to .gitignore",
        )
    if state.branch is None:
        raise GitError("HEAD is detached", f"check out the release branch: git switch {release_branch}")
    if state.branch != release_branch:
        raise GitError(
            f"on branch '{state.branch}', not the release branch '{release_branch}'",
            f"git switch {release_branch}, or set release-branch in [tool.releasekit]",
        )
    return state.branch


def _target(
    state: ReleaseState, intent: Intent, resume: Record | None, notes: list[str]
) -> tuple[str, str, bool]:
    """(current, target, bump) from the files, the flags and the release being resumed."""
    current = _current(state, intent, notes)
    if resume is not None:
        return _resumed_target(state, intent, resume, current, notes)
    if intent.new_version is not None:
        return _requested_target(state, intent.new_version, current, notes)
    if current != state.version_text and not intent.bump:
        unfinished = Version(current).is_devrelease or Version(current).is_prerelease
        raise VersionError(
            f"the version in the files, '{state.version_text}', is not in canonical form ('{current}')",
            (f"--bump final releases {Version(current).base_version}; " if unfinished else "")
            + f"--new-version {current} releases it as it is, written canonically",
        )
    if intent.bump:
        return _bumped_target(state, intent, current, notes)
    if Version(current).is_devrelease:
        raise VersionError(
            f"{current} is a development version (the files moved on after the last release)",
            f"release {Version(current).base_version} with --bump final, or name it with --new-version",
        )
    return current, current, False


def _current(state: ReleaseState, intent: Intent, notes: list[str]) -> str:
    """The version in the files, canonical; a local marker between releases (`0.16.0+dev`) goes
    with a bump or an explicit version, as a `.devN` would."""
    try:
        local = Version(state.version_text).local
    except InvalidVersion:
        local = None
    if local is None:
        return pep440.normalise(state.version_text)
    public = state.public_version
    if not (intent.bump or intent.new_version):
        raise VersionError(
            f"the version in the files, '{state.version_text}', is a local version (+{local}); "
            "PyPI refuses them",
            f"--bump patch releases {pep440.next_version(public, 'patch')}, or name one with --new-version",
        )
    notes.append(f"the local marker of '{state.version_text}' is dropped: the release starts from {public}")
    return public


def _resumed_target(
    state: ReleaseState, intent: Intent, resume: Record, current: str, notes: list[str]
) -> tuple[str, str, bool]:
    asked = intent.new_version and pep440.normalise(intent.new_version)
    if asked and asked != resume.version:
        raise VersionError(
            f"the release of {resume.version} is unfinished; {asked} cannot start before it ends",
            f"finish it: {' '.join(resume.command) or 'releasekit release --yes'}"
            + ("" if published_live(state, resume) else "; or undo it: releasekit release --abort"),
        )
    if intent.bump:
        notes.append(f"resuming the unfinished release of {resume.version} (not bumping again)")
    return current, resume.version, False


def _requested_target(
    state: ReleaseState, new_version: str, current: str, notes: list[str]
) -> tuple[str, str, bool]:
    requested = pep440.normalise(new_version)
    if requested != new_version:
        notes.append(f"version '{new_version}' normalised to '{requested}' (PEP 440)")
    if Version(requested) < Version(current):
        raise VersionError(
            f"version {requested} is not greater than the current one ({current})",
            "versions only move forward: choose a greater --new-version",
        )
    # A non-canonical spelling in the files (2.3.0.dev) is rewritten canonically.
    bump = (requested != state.version_text and state.writes_files) or requested != current
    return current, requested, bump


def _bumped_target(
    state: ReleaseState, intent: Intent, current: str, notes: list[str]
) -> tuple[str, str, bool]:
    assert intent.bump is not None
    proposed = pep440.next_version(current, intent.bump, intent.pre)
    tag_at_head = state.local_tags.get(state.tag_for(current)) == state.head
    remote_tag = state.remote.tags.get(state.tag_for(current)) if state.remote else None
    if tag_at_head and remote_tag != state.head:
        notes.append(f"resuming {current}: its bump and tag were made by an earlier run (not {proposed})")
        return current, current, False
    finished = state.records.get(current)
    rerun = finished is not None and finished.closed == "finished" and finished.command == intent.command
    if rerun and tag_at_head and remote_tag == state.head and state.live.holds(state.name, current):
        # The very command that released this commit, again: a re-run after a kill that came
        # after the release was recorded complete, not a new release (rc -> final, another
        # command, goes on; so does --new-version).
        notes.append(f"{current} was released from this commit by this same command; nothing to do")
        return current, current, False
    return current, proposed, True


def _moves_forward(state: ReleaseState, target: str, notes: list[str]) -> None:
    """Versions only move forward along this branch; above a release of another branch or on the
    index (a maintenance release of an older series) is allowed, and said."""
    remote_tags = state.remote.tags if state.remote else {}
    tags = {**state.local_tags, **remote_tags}
    here = {tag: sha for tag, sha in tags.items() if tag in state.merged_tags}
    on_branch = released_versions(here, state.name, state.tag_format) - {target}
    elsewhere = (released_versions(tags, state.name, state.tag_format) | state.live.versions()) - {target}
    newer = [v for v in on_branch if Version(v) >= Version(target)]
    if newer:
        raise VersionError(
            f"version {target} is not greater than the last released one ({max(newer, key=Version)})",
            "bump the version (--bump patch or --new-version)",
        )
    above = [v for v in elsewhere - on_branch if Version(v) > Version(target)]
    if above:
        notes.append(
            f"{target} is below {max(above, key=Version)}, released from another branch or on "
            f"{state.live.label}: a maintenance release"
        )


def _compare(ours: dict[str, str], files: dict[str, IndexFile], label: str, ver: str) -> tuple[str, ...]:
    """Names of our files the index lacks; stop if it holds anything else for this version."""
    for filename, entry in files.items():
        if filename not in ours:
            raise BurntError(
                f"{label} holds {filename} for {ver}, which this release did not build",
                "the version is taken there: bump the version (--bump patch)",
            )
        if entry.sha256 != ours[filename]:
            raise BurntError(
                f"{label} holds {filename} with other bytes than this release built",
                "refusing to publish bytes this release did not build: bump the version (--bump patch)",
            )
    return tuple(f for f in ours if f not in files)


def _tag_checks(
    state: ReleaseState, config: Config, tag: str, bump: bool, resume: Record | None, published: bool
) -> tuple[str, bool, bool]:
    """(tag commit, tag exists locally, retag) — or a refusal when the tag is someone else's."""
    head = state.head
    local = state.local_tags.get(tag)
    remote_sha = state.remote.tags.get(tag) if state.remote else None
    recorded = resume.tag_commit if resume is not None else ""
    if bump and local:
        raise GitError(f"tag {tag} already exists at {local[:10]}", f"delete it (git tag -d {tag}) or bump")
    if published and resume is not None:
        commit = local or recorded or head
        if remote_sha and remote_sha != commit:
            raise GitError(
                f"tag {tag} is on {config.remote} at {remote_sha[:10]}, not at the release commit "
                f"{commit[:10]}",
                f"the published {resume.version} must be tagged at {commit[:10]}: fix the tag on "
                f"{config.remote}",
            )
        return commit, bool(local), False
    retag = bool(local and local != head and resume is not None and resume.tag == tag and not remote_sha)
    if local and local != head and not retag:
        raise GitError(
            f"tag {tag} already exists at {local[:10]}, not at HEAD {head[:10]}",
            f"bump the version (--bump patch) or delete the local tag (git tag -d {tag})",
        )
    if remote_sha and (bump or remote_sha != head):
        raise GitError(
            f"tag {tag} already exists on {config.remote} at {remote_sha[:10]}", "bump the version"
        )
    return head, bool(local) and not retag, retag


def _release_notes(
    state: ReleaseState, config: Config, intent: Intent, target: str, tagged: bool, notes: list[str]
) -> ReleaseNotes:
    """The changelog's notes for this version; refuse a live release that has none."""
    source = state.changelog
    if source.path is None:
        if config.changelog:
            notes.append(f"no {config.changelog}: release notes skipped")
        return ReleaseNotes()
    found = source.notes_for(target)
    if not found.text:
        missing = source.missing_notes(target)
        if not (intent.test_only or intent.allow_empty_changelog):
            raise missing
        notes.append(f"warning: {missing.message}")
    return ReleaseNotes(source.path, found.text, found.needs_roll and not tagged)


def _held(view: IndexView, name: str, ver: str) -> dict[str, IndexFile]:
    if view.files is None:
        raise PackageIndexError(f"{view.label} could not be read ({view.error})", "re-run when it answers")
    return view.holds(name, ver)


def _held_by_indexes(
    state: ReleaseState, version: str, resume: Record | None, tag: str
) -> tuple[dict[str, IndexFile], dict[str, IndexFile]]:
    """What each index holds of the version; a version there that no release here made is refused."""
    test_files, live_files = _held(state.test, state.name, version), _held(state.live, state.name, version)
    ours = resume is not None or state.local_tags.get(tag) == state.head
    if test_files and not ours:
        raise PackageIndexError(
            f"{state.test.label} already holds {version} ({', '.join(sorted(test_files))}), "
            "from no release at HEAD",
            "bump the version (--bump patch)",
        )
    if live_files and not ours:
        raise PackageIndexError(
            f"{version} is already on {state.live.label}", "bump the version (--bump patch)"
        )
    return test_files, live_files


def _released(
    state: ReleaseState, intent: Intent, live_files: dict[str, IndexFile], tag: str, tag_commit: str
) -> bool:
    """The live index holds an sdist and a wheel and the remote has the tag at the release commit."""
    remote_tag = state.remote.tags.get(tag) if state.remote else None
    kinds = {k for k, *_ in filter(None, map(artifact.parse_filename, live_files))}
    done = kinds == {"sdist", "wheel"} and remote_tag is not None and remote_tag == tag_commit
    return done and not intent.test_only


def _targets(
    state: ReleaseState,
    config: Config,
    record: Record | None,
    version: str,
    origin: ArtifactOrigin,
    held: tuple[dict[str, IndexFile], dict[str, IndexFile]],
    released: bool,
    now: datetime.datetime,
) -> tuple[IndexTarget, IndexTarget]:
    """Each index's part: what it holds, what it lacks, whether an earlier run verified it there."""
    rules = pypi_rules.applies(
        config.pypi_rules, [state.test.repository.upload_url, state.live.repository.upload_url]
    )
    out = []
    for role, view, files in ((Role.TEST, state.test, held[0]), (Role.LIVE, state.live, held[1])):
        missing: tuple[str, ...] | None = None
        if role is Role.TEST and released:
            missing = ()  # the release is done; what the test index holds no longer matters
        elif origin.expected:
            missing = _compare(origin.expected, files, view.label, version)
        if files and missing and rules:  # adding files to an existing release
            first = min((e.upload_time for e in files.values() if e.upload_time), default=None)
            pypi_rules.check_upload_window(first, now, release=f"{version} on {view.label}")
        verified = record is not None and _verified(record, view.label, origin.expected)
        out.append(IndexTarget(role, view.access, files, missing, verified, new=not view.files))
    return out[0], out[1]


def _pushed(state: ReleaseState, tag: str, tag_commit: str, branch: str, tag_checkout: bool) -> bool:
    remote = state.remote
    return bool(
        remote
        and remote.tags.get(tag) == tag_commit
        and (tag_checkout or remote.heads.get(branch) in (state.head, tag_commit))
    )


def _closing_notes(
    state: ReleaseState,
    config: Config,
    intent: Intent,
    targets: tuple[IndexTarget, ...],
    notes: list[str],
    *,
    complete: bool,
    version: str,
    tag: str,
) -> None:
    """Where the version and tag style came from (first), new projects, and "already released"."""
    for target in targets:
        if target.new and (target.role is Role.TEST or not intent.test_only):
            notes.append(
                f"first release of {state.name} on {target.label}: the first upload creates the project there"
            )
    notes.insert(0, f"version from {state.version_source}; tag style {state.tag_format} ({state.tag_style})")
    notes.insert(1, f"release notes from {state.changelog.describe()}")
    if complete:
        notes.append(f"{version} is already released ({state.live.label}, tag {tag} on {config.remote})")


def _verified(record: Record, label: str, expected: dict[str, str]) -> bool:
    return bool(expected) and journal.verify_key(label, expected) in record.verified
