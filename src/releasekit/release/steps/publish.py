"""The publishing steps: upload to an index, then prove the release installs from it.

Uploads never repeat a file the index holds with the same sha256 and refuse one it holds with
other bytes; the verification environment is prepared while the files go up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from releasekit import redact
from releasekit.dists import artifact, verify
from releasekit.dists.artifact import Artifact
from releasekit.errors import ReleaseError
from releasekit.indexes import upload
from releasekit.indexes.resolve import Repository
from releasekit.release import journal
from releasekit.release.killpoints import pause

if TYPE_CHECKING:
    from releasekit.release.model import Plan
from releasekit.release.model import StepName
from releasekit.release.steps.artifacts import load_artifacts
from releasekit.release.steps.run import Decide, Run


def decide_upload(test: bool) -> Decide:
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


def upload_to(test: bool) -> Callable[[Run], str]:
    def run_upload(run: Run) -> str:
        load_artifacts(run)
        preparation = _prepare_verify(run, test)
        try:
            return _upload_files(run, test)
        except BaseException:
            if preparation is not None:
                preparation.discard()
            raise

    return run_upload


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
    return [str(r) for r in artifact.read_metadata(wheel).get_all("Requires-Dist") or []]


def _upload_files(run: Run, test: bool) -> str:
    plan = run.plan
    repo, held = (plan.test, plan.test_files) if test else (plan.live, plan.live_files)
    dest = _destination(run, repo)
    for art in run.artifacts:  # wheels first: collect() orders them so
        if art.filename in held:
            dest["files"][art.filename] = "present"
            continue
        if repo.label in run.minted:  # a trusted-publishing token lives 15 minutes
            from releasekit.indexes import trusted_publishing

            repo, run.minted[repo.label] = trusted_publishing.renewed(
                repo, run.minted[repo.label], timeout=run.config.timeout
            )
        run.log.record_upload_intent(plan.version, repo.label, art.filename)
        run.published = True  # from here on an upload may have landed
        result = upload.upload(
            repo,
            art,
            timeout=run.config.timeout,
            new_project=repo.label in plan.new_on,
            check_first=False,
            progress=run.reporter.progress,
        )
        dest["files"][art.filename] = result.outcome
        run.log.record_upload(plan.version, repo.label, art.filename, result.outcome)
        run.reporter.note(f"  {result.outcome} {art.filename} ({result.seconds:.1f}s)")
        pause(f"{'upload-test' if test else 'upload-live'}:one")
    upload.confirm(repo, run.artifacts, run.config.timeout)
    counts = list(dest["files"].values())
    return f"{repo.label}: {counts.count('uploaded')} uploaded, {counts.count('present')} already there"


def decide_verify(test: bool) -> Decide:
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


def verify_on(test: bool) -> Callable[[Run], str]:
    def run_verify(run: Run) -> str:
        load_artifacts(run)
        plan = run.plan
        repo = plan.test if test else plan.live
        wheel = _wheel_for_this_machine(run.artifacts)
        result = verify.verify_install(
            name=plan.name,
            version=plan.version,
            index_url=repo.simple_url,
            dependencies=_requirements(run.artifacts),
            dependency_index_url=plan.live.simple_url,
            modules=artifact.top_level_modules(wheel),
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
