"""The release steps, in one ordered registry: name, phase, decision, action, undo.

Adding a step means adding one `Step` to `STEPS`. Each step decides from the plan alone whether
it runs (and says why), and acts through the job modules. A LOCAL step is undone when the
release fails before anything is published; a PUBLISHED step is never undone; the POST step
runs after a complete release and can only warn. Intent is journaled before every act that is
hard to undo, inside a critical section with the act's own record (see `critical`).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import changelog, dists, indexes, journal, publish, pypirules, redact, vcs, verify, version
from .config import Config
from .critical import critical
from .dists import Artifact
from .errors import PackageIndexError, ReleaseError, VersionError
from .indexes import Repository
from .report import Reporter
from .testhook import pause

if TYPE_CHECKING:
    import git

    from .hookstandby import Standby
    from .plan import Plan


class StepName(enum.StrEnum):
    BUMP = "bump"
    TAG = "tag"
    BUILD = "build"
    DOWNLOAD = "download"
    CHECK = "check"
    UPLOAD_TEST = "upload-test"
    VERIFY_TEST = "verify-test"
    UPLOAD_LIVE = "upload-live"
    VERIFY_LIVE = "verify-live"
    PUSH = "push"
    POST_RELEASE = "post-release"


class Phase(enum.StrEnum):
    LOCAL = "local"  # undone when the release fails before anything is published
    PUBLISHED = "published"  # never undone: the world has seen it
    POST = "post"  # after a complete release; a failure is a warning


@dataclass
class Run:
    """One execution: the plan, the open repository and journal, and what this run changed."""

    plan: Plan
    config: Config
    reporter: Reporter
    repo: git.Repo
    log: journal.Journal
    head: str
    artifacts: list[Artifact] = field(default_factory=list)
    made: set[StepName] = field(default_factory=set)  # local acts of this run, for rollback
    published: bool = False  # an upload was at least attempted by this run or an earlier one
    destinations: list[dict[str, Any]] = field(default_factory=list)
    verified: set[str] = field(default_factory=set)
    next_version: str = ""
    minted: dict[str, Any] = field(default_factory=dict)  # index label -> oidc.MintedToken
    environments: dict[str, verify.Preparation] = field(default_factory=dict)  # index label -> env
    standby: Standby | None = None  # build-backend processes started ahead (hookstandby)

    @property
    def store(self) -> Path:
        return journal.artifacts_dir(self.plan.git_dir, self.plan.version)

    def record(self, **values: Any) -> None:
        self.log.update(self.plan.version, **values)


Decide = Callable[["Plan"], tuple[bool, str]]


@dataclass(frozen=True)
class Step:
    name: StepName
    phase: Phase
    decide: Decide
    run: Callable[[Run], str]
    undo: Callable[[Run], str] | None = None


def _done(plan: Plan) -> tuple[bool, str] | None:
    return (False, "already released") if plan.complete else None


# -- bump ---------------------------------------------------------------------------------------


def _decide_bump(plan: Plan) -> tuple[bool, str]:
    if plan.complete:
        return False, "already released"
    parts = [f"{plan.current_version} -> {plan.version}" if plan.bump else f"version stays {plan.version}"]
    if plan.bump and not plan.writes_files:
        parts.append("the tag is the bump (the version comes from git tags)")
    if plan.roll_changelog and plan.changelog is not None:
        parts.append(f"{plan.changelog.name}: Unreleased becomes {plan.version}")
    writes = plan.bump and plan.writes_files
    return writes or plan.roll_changelog, ", ".join(parts)


def _bump(run: Run) -> str:
    plan = run.plan
    source = version.read_version(plan.project)
    files = list(source.files) if plan.bump and source.writes_files else []
    if plan.roll_changelog and plan.changelog is not None:
        files.append(plan.changelog)
    root = Path(run.repo.working_dir)
    run.record(bump_parent=run.head, bump_files=[str(p.resolve().relative_to(root.resolve())) for p in files])
    run.made.add(StepName.BUMP)  # from here on, rollback restores the files and HEAD
    changed: list[Path] = []
    if plan.bump and source.writes_files:
        changed += version.write_version(plan.project, source, plan.version)
    if plan.roll_changelog and plan.changelog is not None:
        changelog.roll(plan.changelog, plan.version, datetime.date.today().isoformat(), plan.tag_format)
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


def _undo_bump(run: Run) -> str:
    parent = run.log.release(run.plan.version).get("bump_parent") or run.plan.head
    vcs.reset_hard(run.repo, parent)  # the tree was clean before the bump: nothing else is lost
    run.record(bump_commit="", bump_parent="")
    return f"bump to {run.plan.version}"


# -- tag ----------------------------------------------------------------------------------------


def _decide_tag(plan: Plan) -> tuple[bool, str]:
    if plan.complete:
        return False, "already released"
    if plan.retag:
        return True, f"move the unpushed {plan.tag} of the unfinished release to HEAD"
    if plan.tag_exists:
        return False, f"{plan.tag} at {plan.tag_commit[:10]}"
    return True, f"create annotated {plan.tag}"


def _tag_commit(run: Run) -> str:
    """HEAD (after this run's bump), or the release commit of a published release being finished."""
    return run.plan.tag_commit if run.plan.tag_commit != run.plan.head else run.head


def _tag(run: Run) -> str:
    plan = run.plan
    commit = _tag_commit(run)
    run.record(tag=plan.tag, tag_commit=commit)
    run.made.add(StepName.TAG)
    with critical():
        if plan.retag:
            vcs.delete_tag(run.repo, plan.tag)
        vcs.create_tag(run.repo, plan.tag, run.config.tag_message.format(version=plan.version), commit)
        pause("tag:created")
        run.record(tagged=True)
    return f"{plan.tag} at {commit[:10]}"


def _undo_tag(run: Run) -> str:
    if run.plan.tag in vcs.local_tags(run.repo):
        vcs.delete_tag(run.repo, run.plan.tag)
    run.record(tag="", tag_commit="", tagged=False)
    return f"tag {run.plan.tag}"


# -- artifacts ----------------------------------------------------------------------------------


def _decide_build(plan: Plan) -> tuple[bool, str]:
    if plan.complete:
        return False, "already released"
    if plan.prebuilt:
        return (
            True,
            f"take the {len(plan.prebuilt)} prebuilt files in {plan.prebuilt_dir} instead of building",
        )
    if plan.artifacts:
        return False, f"the {len(plan.artifacts)} files built by an earlier run are stored"
    if plan.downloads or plan.expected:
        return False, "this release's files are on an index; they are fetched back, not rebuilt"
    return True, "sdist, then wheel from the sdist"


def _build(run: Run) -> str:
    plan = run.plan
    store = run.store
    journal.remove(store)  # leftovers of a release that was rolled back or never recorded
    store.parent.mkdir(parents=True, exist_ok=True)
    run.record(building=True, artifacts={})
    run.made.add(StepName.BUILD)
    publish.preload()  # twine's import overlaps the backend's work
    fresh = Path(tempfile.mkdtemp(prefix=f".{plan.version}-", dir=store.parent))
    try:
        built: list[Artifact] = []
        if plan.prebuilt:
            (fresh / "dist").mkdir()
            for art in plan.prebuilt:
                shutil.copyfile(art.path, fresh / "dist" / art.filename)
        else:
            warn = run.reporter.warn
            built = dists.build_dists(plan.project, fresh / "dist", warn=warn, standby=run.standby)
        pause("build:built")
        (fresh / "dist").rename(store)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    # Built files were hashed as they were collected, and a rename keeps their bytes; copies of
    # prebuilt files are hashed here, to compare with what the plan read (1 GiB: ~1 s a hash).
    run.artifacts = [dataclasses.replace(a, path=store / a.filename) for a in built] or dists.collect(store)
    if plan.prebuilt and {a.filename: a.sha256 for a in run.artifacts} != plan.expected:
        raise PackageIndexError(f"the files in {plan.prebuilt_dir} changed while they were copied")
    run.record(building=False, artifacts={a.filename: a.sha256 for a in run.artifacts})
    for art in run.artifacts:
        run.reporter.note(f"  {art.filename}  {art.size:,} bytes  sha256 {art.sha256}")
    if plan.prebuilt:
        return f"{len(run.artifacts)} prebuilt files from {plan.prebuilt_dir}"
    return f"{len(run.artifacts)} files"


def _undo_build(run: Run) -> str:
    journal.remove(run.store)
    run.record(building=False, artifacts={})
    return ""


def _decide_download(plan: Plan) -> tuple[bool, str]:
    if plan.complete:
        return False, "already released"
    if not plan.downloads:
        return False, "nothing to fetch"
    return (
        True,
        f"fetch {len(plan.downloads)} file(s) back, each checked against the sha256 this release built",
    )


def _download(run: Run) -> str:
    store = run.store
    store.mkdir(parents=True, exist_ok=True)
    for entry in run.plan.downloads:
        journal.remove(store / entry.filename)  # never trust what a killed download left
        expected = run.plan.expected[entry.filename]
        try:  # streamed, hashed as it arrives, kept only with the sha256 this release built
            indexes.download(entry, store, run.config.timeout * 5, expected_sha256=expected)
        except PackageIndexError as exc:
            raise PackageIndexError(
                f"{redact.printable(entry.filename)} fetched from the index is not usable: {exc.message}",
                exc.hint or "re-run the same command; if it persists, bump the version (--bump patch)",
            ) from exc
        pause("download:one")
    return f"{len(run.plan.downloads)} file(s), sha256 as built"


def _load_artifacts(run: Run) -> None:
    """The release's artifacts: this run's build, or the stored files the plan trusts."""
    if run.artifacts:
        return
    expected = run.plan.expected
    store = run.store
    found = dists.collect(store) if store.is_dir() else []
    run.artifacts = [a for a in found if expected.get(a.filename) == a.sha256] if expected else found
    if expected and {a.filename for a in run.artifacts} != set(expected):
        raise PackageIndexError(
            f"the stored files of {run.plan.version} are not the ones this release built",
            "re-run the same command; if it persists, bump the version (--bump patch)",
        )


def _decide_check(plan: Plan) -> tuple[bool, str]:
    return _done(plan) or (True, "twine check --strict; names and metadata agree")


def _check(run: Run) -> str:
    _load_artifacts(run)
    plan = run.plan
    dists.check_consistency(run.artifacts, plan.name, plan.version)
    tracked = vcs.tracked_files(run.repo, plan.project) | set(plan.generated_files)
    in_use = [r.password for r in (plan.test, plan.live) if r.password]  # never inside the package
    dists.check_contents(run.artifacts, tracked, secrets=in_use)
    publish.check(run.artifacts)
    if pypirules.applies(run.config.pypi_rules, [plan.test.upload_url, plan.live.upload_url]):
        pypirules.check(run.artifacts)  # what PyPI's upload endpoint refuses, before any upload
        return "twine check --strict; PyPI's upload rules"
    return "twine check --strict"


# -- publishing ---------------------------------------------------------------------------------


def _decide_upload(test: bool) -> Decide:
    def decide(plan: Plan) -> tuple[bool, str]:
        repo, missing = (plan.test, plan.test_missing) if test else (plan.live, plan.live_missing)
        if plan.complete:
            return False, "already released"
        if not test and plan.test_only:
            return False, "--test: the live index is not touched"
        if missing == ():
            return False, f"{repo.label} holds every file"
        return True, repo.label

    return decide


def _destination(run: Run, repo: Repository) -> dict[str, Any]:
    for dest in run.destinations:
        if dest["index"] == repo.label:
            return dest
    dest = {
        "index": repo.label,
        "upload_url": redact.scrub(repo.upload_url),
        "simple_url": redact.scrub(repo.simple_url),
        "files": {},
        "verified": False,
    }
    run.destinations.append(dest)
    return dest


def _upload(test: bool) -> Callable[[Run], str]:
    def upload(run: Run) -> str:
        _load_artifacts(run)
        preparation = _prepare_verify(run, test)
        try:
            return _upload_files(run, test)
        except BaseException:
            if preparation is not None:
                preparation.discard()
            raise

    return upload


def _prepare_verify(run: Run, test: bool) -> verify.Preparation | None:
    """Start making the environment the next verify step installs into, while the files go up.

    Only the environment (its dependencies, from the live index) is made early; nothing is
    installed from the index being uploaded to until the verify step, after the upload. A
    failure to start is no failure of the upload: the verify step makes its own and reports.
    """
    plan = run.plan
    if not plan.will(StepName.VERIFY_TEST if test else StepName.VERIFY_LIVE):
        return None
    repo = plan.test if test else plan.live
    try:
        preparation = verify.Preparation(
            name=plan.name,
            dependencies=_requirements(run.artifacts),
            dependency_index_url=plan.live.simple_url,
            timeout=run.config.timeout * 5,
        )
    except (ReleaseError, OSError):  # the verify step tries again and reports it there
        return None
    run.environments[repo.label] = preparation
    return preparation


def _requirements(artifacts: list[Artifact]) -> list[str]:
    wheel = _wheel_for_this_machine(artifacts)
    return [str(r) for r in dists.read_metadata(wheel).get_all("Requires-Dist") or []]


def _upload_files(run: Run, test: bool) -> str:
    plan = run.plan
    repo, held = (plan.test, plan.test_files) if test else (plan.live, plan.live_files)
    dest = _destination(run, repo)
    for art in run.artifacts:  # wheels first: collect() orders them so
        if art.filename in held:
            dest["files"][art.filename] = "present"
            continue
        if repo.label in run.minted:  # a trusted-publishing token lives 15 minutes
            from . import oidc

            repo, run.minted[repo.label] = oidc.renewed(
                repo, run.minted[repo.label], timeout=run.config.timeout
            )
        run.log.record_upload_intent(plan.version, repo.label, art.filename)
        run.published = True  # from here on an upload may have landed
        result = publish.upload(
            repo,
            art,
            timeout=run.config.timeout,
            new_project=repo.label in plan.new_on,
            check_first=False,
        )
        dest["files"][art.filename] = result.outcome
        run.log.record_upload(plan.version, repo.label, art.filename, result.outcome)
        run.reporter.note(f"  {result.outcome} {art.filename} ({result.seconds:.1f}s)")
        pause(f"{'upload-test' if test else 'upload-live'}:one")
    publish.confirm(repo, run.artifacts, run.config.timeout)
    counts = list(dest["files"].values())
    return f"{repo.label}: {counts.count('uploaded')} uploaded, {counts.count('present')} already there"


def _decide_verify(test: bool) -> Decide:
    def decide(plan: Plan) -> tuple[bool, str]:
        repo = plan.test if test else plan.live
        if plan.complete:
            return False, "already released"
        if not test and plan.test_only:
            return False, "--test: the live index is not touched"
        if not plan.verify:
            return False, "verify = false"
        if repo.label in plan.verified:
            return False, f"verified on {repo.label} by an earlier run"
        return True, f"install {plan.name}=={plan.version} from {repo.label}"

    return decide


def _verify(test: bool) -> Callable[[Run], str]:
    def run_verify(run: Run) -> str:
        _load_artifacts(run)
        plan = run.plan
        repo = plan.test if test else plan.live
        wheel = _wheel_for_this_machine(run.artifacts)
        result = verify.verify_install(
            name=plan.name,
            version=plan.version,
            index_url=repo.simple_url,
            dependencies=_requirements(run.artifacts),
            dependency_index_url=plan.live.simple_url,
            modules=dists.top_level_modules(wheel),
            timeout=run.config.timeout * 5,
            prepared=run.environments.pop(repo.label, None),
        )
        run.log.record_verified(
            plan.version, journal.verify_key(repo.label, {a.filename: a.sha256 for a in run.artifacts})
        )
        run.verified.add(repo.label)
        return f"{plan.name}=={result.version} imports {', '.join(result.modules)}"

    return run_verify


def _wheel_for_this_machine(artifacts: list[Artifact]) -> Artifact:
    """The wheel an install here would choose (its metadata and modules are what is checked)."""
    from packaging.tags import sys_tags
    from packaging.utils import parse_wheel_filename

    wheels = [a for a in artifacts if a.kind == "wheel"]
    ranked = {str(tag): rank for rank, tag in enumerate(sys_tags())}

    def rank(art: Artifact) -> int:
        tags = parse_wheel_filename(art.filename)[3]
        return min((ranked.get(str(t), len(ranked)) for t in tags), default=len(ranked))

    return min(wheels, key=rank)


def _decide_push(plan: Plan) -> tuple[bool, str]:
    if plan.test_only:
        return False, "--test: nothing is pushed"
    if plan.pushed:
        return False, f"{plan.tag} is on {plan.remote}"
    return True, f"{plan.branch} and {plan.tag} to {plan.remote}"


def _push(run: Run) -> str:
    plan = run.plan
    run.record(pushing=True)
    vcs.push(run.repo, plan.remote, plan.branch, plan.tag, run.config.timeout, tag_commit=_tag_commit(run))
    pause("push:pushed")
    run.record(pushed=True)
    return f"{plan.branch} and {plan.tag} to {plan.remote}"


def probe_push(plan: Plan, repo: git.Repo, timeout: float) -> None:
    """Preflight: would the remote take the branch and the tag, both, atomically?"""
    source = f"refs/tags/{plan.tag}" if plan.tag_exists else None
    vcs.push_dry_run(repo, plan.remote, plan.branch, plan.tag, timeout, tag_source=source)


# -- after the release --------------------------------------------------------------------------


def _decide_post(plan: Plan) -> tuple[bool, str]:
    if not plan.post_release:
        return False, 'post-release is not "dev"'
    if not plan.writes_files:
        return False, "the version comes from git tags: no file to move on"
    return True, f"move the files on to {version.next_dev(plan.version)}"


def _post_release(run: Run) -> str:
    """Move the files on to the next .dev0, so they never claim a released version."""
    target = version.next_dev(run.plan.version)
    source = version.read_version(run.plan.project)
    changed = version.write_version(run.plan.project, source, target)
    vcs.commit_files(run.repo, list(changed), f"Start {target}")
    run.next_version = target
    return f"{target} committed (push it with your next work)"


STEPS: tuple[Step, ...] = (
    Step(StepName.BUMP, Phase.LOCAL, _decide_bump, _bump, _undo_bump),
    Step(StepName.TAG, Phase.LOCAL, _decide_tag, _tag, _undo_tag),
    Step(StepName.BUILD, Phase.LOCAL, _decide_build, _build, _undo_build),
    Step(StepName.DOWNLOAD, Phase.LOCAL, _decide_download, _download),
    Step(StepName.CHECK, Phase.LOCAL, _decide_check, _check),
    Step(StepName.UPLOAD_TEST, Phase.PUBLISHED, _decide_upload(True), _upload(True)),
    Step(StepName.VERIFY_TEST, Phase.PUBLISHED, _decide_verify(True), _verify(True)),
    Step(StepName.UPLOAD_LIVE, Phase.PUBLISHED, _decide_upload(False), _upload(False)),
    Step(StepName.VERIFY_LIVE, Phase.PUBLISHED, _decide_verify(False), _verify(False)),
    Step(StepName.PUSH, Phase.PUBLISHED, _decide_push, _push),
    Step(StepName.POST_RELEASE, Phase.POST, _decide_post, _post_release),
)
