"""Observe a release's world once: the files, git, the remote, both indexes, the journal.

Everything the planner, `status` and `--abort` decide is a pure function of the one frozen
`ReleaseState` made here; nothing downstream re-reads git or an index to be sure, except the
confirmation that an upload or a push really landed. The three network reads (the remote and
the two indexes) run in parallel.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from packaging.version import InvalidVersion, Version

from releasekit import vcs
from releasekit.changelog import detect as changelog
from releasekit.changelog.none import NoChangelog
from releasekit.changelog.source import ChangelogSource
from releasekit.config import Config
from releasekit.dists import artifact
from releasekit.dists.artifact import Artifact
from releasekit.errors import ReleaseError
from releasekit.indexes import listing, pypirc
from releasekit.indexes.credentials import IndexAccess, open_index
from releasekit.indexes.listing import IndexFile
from releasekit.indexes.resolve import Repository
from releasekit.release import journal
from releasekit.release.journal import Record
from releasekit.versioning import detect, pep440
from releasekit.versioning.detect import project_name
from releasekit.versioning.source import VersionSource
from releasekit.versioning.tags import choose_tag_format, release_tags, version_from_tags

if TYPE_CHECKING:
    import git

T = TypeVar("T")


@dataclass(frozen=True)
class IndexView:
    """One index as seen at the start: None files means it was not read (offline, or down)."""

    access: IndexAccess
    files: dict[str, IndexFile] | None
    error: str = ""

    @property
    def repository(self) -> Repository:
        return self.access.repository

    @property
    def label(self) -> str:
        return self.access.label

    def holds(self, name: str, ver: str) -> dict[str, IndexFile]:
        """The files of exactly this name and version."""
        out = {}
        for filename, entry in (self.files or {}).items():
            parsed = artifact.parse_filename(filename)
            if parsed and parsed[1] == name and parsed[2] == ver:
                out[filename] = entry
        return out

    def versions(self) -> set[str]:
        return {p[2] for p in map(artifact.parse_filename, self.files or {}) if p}


@dataclass(frozen=True)
class ReleaseState:
    """The release's world at one moment; see `observe`."""

    project: Path
    git_dir: Path
    name: str
    source: VersionSource  # where the version lives, detected once
    version_text: str  # as written in the files; for a git-derived version, the newest release tag's
    head: str
    branch: str | None
    branches: tuple[str, ...]
    changed: tuple[str, ...]
    untracked: tuple[str, ...]
    local_tags: dict[str, str]
    remote: vcs.RemoteState | None  # None: not read (offline, or unreachable)
    remote_error: str
    test: IndexView
    live: IndexView
    records: dict[str, Record]
    stored: dict[str, tuple[Artifact, ...]]  # version -> artifacts kept in .git/releasekit
    reachable: frozenset[str]  # the commits of interest that HEAD contains (itself included)
    parents: dict[str, str | None] = field(default_factory=dict)  # commit of interest -> first parent
    changelog: ChangelogSource = field(default_factory=lambda: NoChangelog(""))  # release notes, read once
    commits_since: int | None = None  # since the newest release tag of the tag format
    remote_counts: tuple[int | None, int | str | None] | None = None  # (ahead, behind) the remote branch
    tag_format: str = "v{version}"  # configured, or followed from the repository's tags
    tag_style: str = ""  # how the tag format was chosen, for the plan and status
    prebuilt: tuple[Artifact, ...] | None = None  # --dist DIR: the files to publish instead of a build
    prebuilt_dir: Path | None = None
    stray: tuple[str, ...] = ()  # files in DIR that are not distributions
    warnings: tuple[str, ...] = ()
    remote_name: str = "origin"  # the remote that was read, and that the release pushes to
    merged_tags: frozenset[str] = frozenset()  # local tags HEAD contains: this branch's releases

    @property
    def version_source(self) -> str:
        """Where the version lives, as the plan and status name it."""
        return self.source.describe()

    @property
    def writes_files(self) -> bool:
        """False: the version comes from git tags, and the tag is the bump."""
        return self.source.writes_files

    @property
    def generated_files(self) -> tuple[str, ...]:
        """Git-ignored files the backend puts in the sdist, relative to the project."""
        return tuple(_relative(self.project, p) for p in self.source.generated_files)

    @property
    def public_version(self) -> str:
        """The version in the files, canonical, without a local marker (`0.16.0+dev` -> 0.16.0)."""
        try:
            public = Version(self.version_text).public
        except InvalidVersion:
            public = self.version_text  # normalise raises the one-line error for it
        return pep440.normalise(public)

    def tag_for(self, version: str) -> str:
        return self.tag_format.format(version=version)

    def contains(self, sha: str | None) -> bool:
        """True when HEAD is `sha` or descends from it."""
        return bool(sha) and sha in self.reachable

    def view(self, role: str) -> IndexView:
        return self.test if role == "test" else self.live


def _result(future: Future[T] | None, lenient: bool, errors: list[str]) -> T | None:
    if future is None:
        return None
    try:
        return future.result()
    except ReleaseError as exc:
        if not lenient:
            raise
        errors.append(exc.message)
        return None


@dataclass
class _Network:
    """The three network reads, started before the local ones so those run while they wait."""

    remote: Future[vcs.RemoteState] | None
    indexes: list[Future[dict[str, IndexFile]]]

    @classmethod
    def start(
        cls, repo: git.Repo, config: Config, remote: bool, name: str, accesses: tuple[IndexAccess, ...]
    ) -> _Network:
        pool = ThreadPoolExecutor(max_workers=3)
        remote_read = pool.submit(vcs.read_remote, repo, config.remote, config.timeout) if remote else None
        reads = [pool.submit(listing.list_files, a.repository, name, config.timeout) for a in accesses]
        pool.shutdown(wait=False)
        return cls(remote_read, reads)

    def results(
        self, accesses: tuple[IndexAccess, ...], lenient: bool
    ) -> tuple[vcs.RemoteState | None, str, list[IndexView]]:
        """(remote, why it was not read, index views); with `lenient` a failure is recorded, not raised."""
        errors: list[str] = []
        remote_state = _result(self.remote, lenient, errors)
        remote_error = errors[-1] if errors else ""
        views = []
        for access, future in zip(accesses, self.indexes, strict=True):
            before = len(errors)
            files = _result(future, lenient, errors)
            views.append(IndexView(access, files, errors[-1] if len(errors) > before else ""))
        return remote_state, remote_error, views


def observe(
    project: Path,
    config: Config,
    *,
    offline: bool = False,
    lenient: bool = False,
    remote: bool = True,
    dist: Path | None = None,
) -> ReleaseState:
    """Read the whole state once.

    `lenient` turns an unreachable remote or index into a recorded error instead of a failure
    (for `status`); `offline` reads neither; `remote=False` lets a repository without the
    remote through (a `--test` release pushes nothing); `dist` is a directory of prebuilt
    artifacts (a CI build matrix) to publish instead of building.
    """
    repo = vcs.open_repo(project)
    if remote and not lenient:
        vcs.remote_url(repo, config.remote)  # a missing remote is a config error, not a git failure
    else:
        remote = vcs.has_remote(repo, config.remote)
    name = project_name(project)
    accesses = _accesses(config)
    network = None if offline else _Network.start(repo, config, remote, name, accesses)
    source = detect.read_version(project)
    git_dir = vcs.git_dir(repo, project)
    records = journal.load(git_dir).records()
    local_tags = vcs.local_tags(repo)
    if network is None:
        remote_state, remote_error = None, "offline"
        views = [IndexView(access, None, "offline") for access in accesses]
    else:
        remote_state, remote_error, views = network.results(accesses, lenient)
        remote_error = remote_error if remote else f"no remote {config.remote}"
    all_tags = {**local_tags, **(remote_state.tags if remote_state is not None else {})}
    tag_format, tag_style = choose_tag_format(config, all_tags, name)
    version_text = source.version or version_from_tags(local_tags, tag_format)
    return ReleaseState(
        project=project, git_dir=git_dir, name=name, source=source, version_text=version_text,
        **_git_facts(repo, project, records, local_tags, remote_state, tag_format, version_text),
        remote=remote_state, remote_error=remote_error, remote_name=config.remote,
        test=views[0], live=views[1], records=records,
        stored=_stores(git_dir, version_text, records), changelog=changelog.detect(project, config.changelog),
        tag_format=tag_format, tag_style=tag_style,
        prebuilt=_prebuilt(dist) if dist is not None else None, prebuilt_dir=dist,
        stray=_stray(dist) if dist is not None else (),
        warnings=tuple(pypirc.pypirc_warnings(pypirc.pypirc_path())),
    )  # fmt: skip


def _git_facts(
    repo: git.Repo,
    project: Path,
    records: dict[str, Record],
    local_tags: dict[str, str],
    remote_state: vcs.RemoteState | None,
    tag_format: str,
    version_text: str,
) -> dict[str, Any]:
    """HEAD, the branch, the tree, and the ancestry of the commits the planner asks about."""
    head = vcs.head_sha(repo)
    changed, untracked = vcs.unclean_paths(repo, project)
    interesting = _interesting(records, local_tags, remote_state, tag_format, _canonical(version_text))
    open_commits = {r.bump_commit for r in records.values() if r.open and r.bump_commit}
    branch = vcs.current_branch(repo)
    return {
        "head": head,
        "branch": branch,
        "branches": tuple(vcs.local_branches(repo)),
        "changed": tuple(changed),
        "untracked": tuple(untracked),
        "local_tags": local_tags,
        "merged_tags": vcs.merged_tags(repo),
        "reachable": frozenset({head, *(sha for sha in interesting if vcs.contains(repo, sha, head))}),
        "parents": {sha: vcs.parent(repo, sha) for sha in {head, *open_commits}},
        "commits_since": _commits_since(repo, local_tags, tag_format),
        "remote_counts": _remote_counts(repo, remote_state, branch),
    }


def _canonical(text: str) -> str:
    try:
        return pep440.normalise(text)
    except ReleaseError:
        return text


def _relative(project: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(project.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _prebuilt(dist: Path) -> tuple[Artifact, ...]:
    if not dist.is_dir():
        raise ReleaseError(
            f"--dist {dist} is not a directory", "pass the folder that holds the sdist and wheels"
        )
    files = [p for p in sorted(dist.iterdir()) if p.is_file() and artifact.parse_filename(p.name)]
    return tuple(sorted((artifact.describe(p) for p in files), key=lambda a: (a.kind != "wheel", a.filename)))


def _stray(dist: Path) -> tuple[str, ...]:
    if not dist.is_dir():
        return ()
    return tuple(p.name for p in sorted(dist.iterdir()) if not artifact.parse_filename(p.name))


def _commits_since(repo: Any, tags: dict[str, str], tag_format: str) -> int | None:
    released = release_tags(tags, tag_format)
    if not released:
        return None
    last = max(released, key=lambda t: Version(released[t]))
    return vcs.count_commits(repo, f"{last}..HEAD")


def _remote_counts(
    repo: Any, remote: vcs.RemoteState | None, branch: str | None
) -> tuple[int | None, int | str | None] | None:
    head = remote.heads.get(branch or "") if remote is not None else None
    if not head:
        return None
    behind = vcs.count_commits(repo, f"HEAD..{head}")
    return vcs.count_commits(repo, f"{head}..HEAD"), "unknown (not fetched)" if behind is None else behind


def _accesses(config: Config) -> tuple[IndexAccess, IndexAccess]:
    """The test index, then the live one, each with its credentials (the role decides whose)."""

    def access(name: str, role: Literal["test", "live"]) -> IndexAccess:
        return open_index(
            name,
            role=role,
            simple_overrides=config.simple_index,
            trusted_publishing=config.trusted_publishing,
            timeout=config.timeout,
        )

    return access(config.test_repository, "test"), access(config.repository, "live")


def _interesting(
    records: dict[str, Record],
    tags: dict[str, str],
    remote: vcs.RemoteState | None,
    tag_format: str,
    current: str,
) -> set[str]:
    """The commits whose ancestry the planner asks about, each one git call: the remote's branch
    heads, the open releases' commits, and the tags of the versions in play (not every tag, so
    start-up does not grow with the history)."""
    open_records = [r for r in records.values() if r.open]
    versions = {current, *(r.version for r in open_records)}
    wanted = {tag_format.format(version=v) for v in versions}
    remote_tags = remote.tags if remote is not None else {}
    shas = {sha for tag, sha in {**tags, **remote_tags}.items() if tag in wanted}
    for record in open_records:
        shas |= {record.bump_parent, record.bump_commit, record.tag_commit}
    if remote is not None:
        shas |= set(remote.heads.values())
    return {s for s in shas if s}


def _stores(git_dir: Path, current: str, records: dict[str, Record]) -> dict[str, tuple[Artifact, ...]]:
    """Artifacts kept for the current version and every unfinished release; links are dropped."""
    out: dict[str, tuple[Artifact, ...]] = {}
    versions = {current, *(v for v, r in records.items() if r.open)}
    for text in versions:
        try:
            ver = pep440.normalise(text)
        except ReleaseError:
            continue
        store = journal.stored_dir(git_dir, ver)
        if store is None:
            continue
        files = [
            artifact.describe(p)
            for p in sorted(store.iterdir())
            if p.is_file() and not p.is_symlink() and artifact.parse_filename(p.name)
        ]
        if files:
            out[ver] = tuple(sorted(files, key=lambda a: (a.kind != "wheel", a.filename)))
    return out
