"""Plan a release from the real state, then refuse anything unsafe before a byte changes.

The plan is computed from what git, the files and both indexes say now, so it is also how an
interrupted release resumes: a tag at HEAD, artifacts in `.git/releasekit/` and identical files
on an index mean those steps are done. Every refusal here happens with nothing changed.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from . import changelog, dists, indexes, indexurls, journal, vcs, version
from .config import Config, read_pyproject
from .dists import Artifact
from .errors import Aborted, BurntError, CredentialsError, GitError, PackageIndexError, VersionError
from .indexes import IndexFile, Repository


@dataclass(frozen=True)
class Options:
    """What the user asked for on the command line."""

    test_only: bool = False
    bump: str | None = None
    pre: str | None = None
    new_version: str | None = None
    dry_run: bool = False
    yes: bool = False
    allow_empty_changelog: bool = False
    can_confirm: bool = False  # a terminal is there to type a confirmation
    repository: str | None = None
    test_repository: str | None = None


@dataclass(frozen=True)
class Step:
    name: str
    run: bool
    why: str = ""


@dataclass(frozen=True)
class Plan:
    project: Path
    name: str
    current_version: str
    version: str
    tag: str
    branch: str
    remote: str
    head: str
    bump: bool
    create_tag: bool
    test: Repository
    live: Repository
    test_only: bool
    artifacts: tuple[Artifact, ...]  # known from an earlier run; empty means build
    test_files: dict[str, IndexFile]
    live_files: dict[str, IndexFile]
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=())
    new_on: tuple[str, ...] = field(default=())  # labels of indexes that hold nothing of this project
    changelog: Path | None = None
    release_notes: str = ""
    roll_changelog: bool = False  # the release commit turns Unreleased into this version

    def will(self, step: str) -> bool:
        return any(s.name == step and s.run for s in self.steps)

    @property
    def needs_confirmation(self) -> bool:
        return not self.test_only and (self.will("upload-live") or self.will("push"))


def project_name(project: Path) -> str:
    name = read_pyproject(project).get("project", {}).get("name")
    if not isinstance(name, str) or not name:
        raise VersionError("pyproject.toml has no [project] name", "add name = ... under [project]")
    return canonicalize_name(name)


def tag_versions(tags: dict[str, str], tag_format: str) -> dict[str, str]:
    """Tag name -> canonical version, for tags that match the tag format."""
    prefix, _, suffix = tag_format.partition("{version}")
    pattern = re.compile(re.escape(prefix) + r"(.+)" + re.escape(suffix) + r"\Z")
    out: dict[str, str] = {}
    for tag in tags:
        match = pattern.match(tag)
        if match:
            try:
                out[tag] = str(Version(match.group(1)))
            except ValueError:
                continue
    return out


def files_for(files: dict[str, IndexFile], name: str, ver: str) -> dict[str, IndexFile]:
    out = {}
    for filename, entry in files.items():
        parsed = dists.parse_filename(filename)
        if parsed and parsed[1] == name and parsed[2] == ver:
            out[filename] = entry
    return out


def _index_versions(files: dict[str, IndexFile]) -> set[str]:
    return {p[2] for p in map(dists.parse_filename, files) if p}


def _release_branch(config: Config, repo_branches: list[str], remote_default: str | None) -> str:
    if config.release_branch:
        return config.release_branch
    if remote_default:
        return remote_default
    for candidate in ("main", "master"):
        if candidate in repo_branches:
            return candidate
    raise GitError("cannot tell the release branch", "set release-branch in [tool.releasekit]")


def _check_tree(repo: object, branch: str | None, release_branch: str) -> None:
    changed, untracked = vcs.unclean_paths(repo)  # type: ignore[arg-type]
    if changed:
        raise GitError(
            f"the work tree has uncommitted changes ({', '.join(changed[:3])})", "commit or stash them first"
        )
    if untracked:
        raise GitError(
            f"untracked files would be swept into the sdist ({', '.join(untracked[:3])})",
            "commit them, delete them, or add them to .gitignore",
        )
    if branch is None:
        raise GitError("HEAD is detached", f"check out the release branch: git switch {release_branch}")
    if branch != release_branch:
        raise GitError(
            f"on branch '{branch}', not the release branch '{release_branch}'",
            f"git switch {release_branch}, or set release-branch in [tool.releasekit]",
        )


def _known_artifacts(git_dir: Path, ver: str, tag_at_head: bool) -> list[Artifact]:
    """Artifacts of an unfinished release at this HEAD: the stored ones, never a rebuild."""
    store = journal.artifacts_dir(git_dir, ver)
    return dists.collect(store) if tag_at_head and store.is_dir() else []


def _compare(artifacts: list[Artifact], files: dict[str, IndexFile], label: str, ver: str) -> list[str]:
    """Names of our files the index lacks; stop if it holds anything else for this version."""
    ours = {a.filename: a.sha256 for a in artifacts}
    for filename, entry in files.items():
        if filename not in ours:
            raise BurntError(
                f"{label} holds {filename} for {ver}, which this release did not build",
                "the version is taken there: bump the version (--bump patch)",
            )
        if entry.sha256 != ours[filename]:
            raise BurntError(
                f"{label} holds {filename} with other bytes than the artifacts at hand",
                "refusing to publish unverified bytes: bump the version (--bump patch)",
            )
    return [a.filename for a in artifacts if a.filename not in files]


def make_plan(project: Path, config: Config, options: Options) -> Plan:
    """Read the state of the repository, the remote and both indexes; decide every step."""
    notes: list[str] = []
    warnings = indexes.pypirc_warnings(indexes.pypirc_path())
    repo = vcs.open_repo(project)
    git_dir = vcs.git_dir(repo)
    branch = vcs.current_branch(repo)
    vcs.remote_url(repo, config.remote)  # a missing remote is a config error, not a git failure
    name = project_name(project)
    test, live = _repositories(config, options)
    # The three network reads run together; each answer is awaited where it is first needed.
    pool = ThreadPoolExecutor(max_workers=3)
    remote_future = pool.submit(vcs.read_remote, repo, config.remote, config.timeout)
    test_future = pool.submit(indexes.list_files, test, name, config.timeout)
    live_future = pool.submit(indexes.list_files, live, name, config.timeout)
    pool.shutdown(wait=False)
    remote_state = remote_future.result()
    release_branch = _release_branch(config, vcs.local_branches(repo), remote_state.default_branch)
    _check_tree(repo, branch, release_branch)
    assert branch is not None
    head = vcs.head_sha(repo)
    remote_head = remote_state.heads.get(branch)
    if remote_head and not vcs.contains(repo, remote_head, head):
        raise GitError(
            f"branch '{branch}' is behind {config.remote}/{branch}",
            f"git pull {config.remote} {branch} first, then re-run",
        )

    source = version.read_version(project)
    current = version.normalise(source.version)
    if current != source.version:
        raise VersionError(
            f"the version in the files, '{source.version}', is not in canonical form ('{current}')",
            f"release with --new-version {current}",
        )
    local_tags = vcs.local_tags(repo)
    current_tag = config.tag_for(current)
    in_progress = local_tags.get(current_tag) == head
    target, bump = current, False
    if options.new_version:
        requested = version.normalise(options.new_version)
        if requested != options.new_version:
            notes.append(f"version '{options.new_version}' normalised to '{requested}' (PEP 440)")
        target, bump = requested, requested != current
        if bump and Version(requested) < Version(current):
            raise VersionError(
                f"version {requested} is not greater than the current one ({current})",
                "versions only move forward: choose a greater --new-version",
            )
    elif options.bump:
        proposed = version.next_version(current, options.bump, options.pre)
        if in_progress and not _is_released(remote_state, current_tag, head):
            notes.append(f"resuming {current}: its bump and tag were made by an earlier run (not {proposed})")
        else:
            target, bump = proposed, True
    if Version(target).is_devrelease and not options.new_version:
        raise VersionError(
            f"{target} is a development version (the files moved on after the last release)",
            f"release {Version(target).base_version} with --bump final, or name it with --new-version",
        )
    tag = config.tag_for(target)

    test_all, live_all = test_future.result(), live_future.result()
    new_on = tuple(r.label for r, files in ((test, test_all), (live, live_all)) if not files)
    for label in new_on:
        if label == test.label or not options.test_only:
            notes.append(f"first release of {name} on {label}: the first upload creates the project there")
    test_files = files_for(test_all, name, target)
    live_files = files_for(live_all, name, target)

    # Versions must move forward past every release we can see (tags, live index).
    all_tags = {**local_tags, **remote_state.tags}
    released = set(tag_versions(all_tags, config.tag_format).values()) | _index_versions(live_all)
    released.discard(target)
    newer = [v for v in released if Version(v) >= Version(target)]
    if newer:
        raise VersionError(
            f"version {target} is not greater than the last released one ({max(newer, key=Version)})",
            "bump the version (--bump patch or --new-version)",
        )

    local_tag_sha = local_tags.get(tag)
    if bump and local_tag_sha:
        raise GitError(
            f"tag {tag} already exists at {local_tag_sha[:10]}", f"delete it (git tag -d {tag}) or bump"
        )
    if not bump and local_tag_sha and local_tag_sha != head:
        raise GitError(
            f"tag {tag} already exists at {local_tag_sha[:10]}, not at HEAD {head[:10]}",
            f"bump the version (--bump patch) or delete the local tag (git tag -d {tag})",
        )
    remote_tag_sha = remote_state.tags.get(tag)
    if remote_tag_sha and (bump or remote_tag_sha != head):
        raise GitError(
            f"tag {tag} already exists on {config.remote} at {remote_tag_sha[:10]}",
            "bump the version (--bump patch)",
        )
    tag_at_head = not bump and local_tag_sha == head

    artifacts = _known_artifacts(git_dir, target, tag_at_head)
    if test_files and not tag_at_head:
        raise PackageIndexError(
            f"{test.label} already holds {target} ({', '.join(sorted(test_files))}), from no release at HEAD",
            "bump the version (--bump patch)",
        )
    if test_files and not artifacts:
        if {dists.parse_filename(f)[0] for f in test_files} != {"sdist", "wheel"}:  # type: ignore[index]
            raise PackageIndexError(
                f"{test.label} holds only part of {target} and the local artifacts are gone",
                "bump the version (--bump patch)",
            )
        notes.append(f"the artifacts will be downloaded from {test.label}, where they were verified")
    if artifacts:
        test_missing = _compare(artifacts, test_files, test.label, target)
    else:  # either everything is built and uploaded, or everything is downloaded from the test index
        test_missing = [] if test_files else ["(all)"]
    if live_files:
        if not artifacts and not test_files:
            raise PackageIndexError(
                f"{target} is already on {live.label}", "already released; bump the version (--bump patch)"
            )
        live_missing = _compare(artifacts or _stand_in(test_files), live_files, live.label, target)
    else:
        live_missing = ["(all)"]
    pushed = _is_released(remote_state, tag, head) and remote_state.heads.get(branch) == head
    changelog_path, release_notes, roll = _release_notes(project, config, options, target, tag_at_head, notes)
    if live_files and not live_missing and pushed:
        raise VersionError(
            f"{target} is already released ({live.label}, tag {tag} on {config.remote})", "bump"
        )

    steps = (
        Step("bump", bump or roll, _commit_detail(current, target, bump, roll, changelog_path)),
        Step("tag", not tag_at_head, f"{tag} at HEAD" if tag_at_head else f"create annotated {tag}"),
        Step("build", not artifacts and not test_files, "sdist, then wheel from the sdist"),
        Step("check", True, "twine check --strict; names and metadata agree"),
        Step("upload-test", bool(test_missing), test.label),
        Step("verify-test", config.verify, f"install {name}=={target} from {test.label}"),
        Step("upload-live", not options.test_only and bool(live_missing), live.label),
        Step("verify-live", not options.test_only and config.verify, f"install from {live.label}"),
        Step("push", not options.test_only and not pushed, f"{branch} and {tag} to {config.remote}"),
    )
    plan = Plan(
        project, name, current, target, tag, branch, config.remote, head, bump, not tag_at_head,
        test, live, options.test_only, tuple(artifacts), test_files, live_files, steps,
        tuple(notes), tuple(warnings), new_on, changelog_path, release_notes, roll,
    )  # fmt: skip
    return plan


def _commit_detail(current: str, target: str, bump: bool, roll: bool, changelog: Path | None) -> str:
    parts = [f"{current} -> {target}" if bump else f"version stays {current}"]
    if roll and changelog is not None:
        parts.append(f"{changelog.name}: Unreleased becomes {target}")
    return ", ".join(parts)


def _release_notes(
    project: Path, config: Config, options: Options, target: str, tag_at_head: bool, notes: list[str]
) -> tuple[Path | None, str, bool]:
    """The changelog's notes for this version; refuse a live release that has none."""
    path = project / config.changelog if config.changelog else None
    if path is None or not path.is_file():
        if config.changelog:
            notes.append(f"no {config.changelog}: release notes skipped")
        return None, "", False
    found = changelog.notes_for(path, target)
    roll = found.needs_roll and not tag_at_head
    if not found.text:
        message = f"{path.name} has no notes for {target} (its Unreleased section is empty)"
        if options.test_only or options.allow_empty_changelog:
            notes.append(f"warning: {message}")
        else:
            raise changelog.ChangelogError(
                message, "write what changed under '## [Unreleased]', or pass --allow-empty-changelog"
            )
    return path, found.text, roll


def _repositories(config: Config, options: Options) -> tuple[Repository, Repository]:
    test = indexes.resolve_repository(
        options.test_repository or config.test_repository,
        simple_overrides=config.simple_index, role="test", timeout=config.timeout,
    )  # fmt: skip
    live = indexes.resolve_repository(
        options.repository or config.repository,
        simple_overrides=config.simple_index, role="live", timeout=config.timeout,
    )  # fmt: skip
    if indexurls.same_index(test.upload_url, live.upload_url):
        raise PackageIndexError(
            f"the test and live repositories are the same ({test.upload_url})",
            "set test-repository and repository to different indexes",
        )
    return test, live


def _stand_in(files: dict[str, IndexFile]) -> list[Artifact]:
    # The test index's files stand in for artifacts we will download from it.
    return [Artifact(Path(f), "", "", "", 0, entry.sha256 or "") for f, entry in files.items()]


def _is_released(remote_state: vcs.RemoteState, tag: str, head: str) -> bool:
    return remote_state.tags.get(tag) == head


def preflight(plan: Plan, options: Options, config: Config) -> None:
    """The refusals that need the whole plan: credentials, confirmation, and the push."""
    if plan.will("upload-test") and not plan.test.has_credentials:
        raise CredentialsError(
            f"no credentials for {plan.test.label}",
            f"add a [{plan.test.label}] section with an API token to ~/.pypirc, "
            "or set RELEASEKIT_TEST_PASSWORD (TWINE_PASSWORD is for the live index only)",
        )
    if plan.will("upload-live") and not plan.live.has_credentials:
        raise CredentialsError(
            f"no credentials for {plan.live.label}",
            f"add a [{plan.live.label}] section with an API token to ~/.pypirc, or set TWINE_PASSWORD",
        )
    if plan.needs_confirmation and not (options.yes or options.can_confirm or options.dry_run):
        raise Aborted(
            f"a live release of {plan.version} needs confirmation and there is no terminal",
            "pass --yes to release without asking",
        )
    for index, step in ((plan.test, "upload-test"), (plan.live, "upload-live")):
        if plan.will(step):
            indexes.check_readable(index, plan.name, config.timeout)
    if plan.will("push"):
        repo = vcs.open_repo(plan.project)
        vcs.push_dry_run(repo, plan.remote, [f"HEAD:refs/heads/{plan.branch}"], config.timeout)
