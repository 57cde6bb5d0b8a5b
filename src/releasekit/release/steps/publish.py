"""The publishing steps: upload to an index, then prove the release installs from it.

Uploads never repeat a file the index holds with the same sha256 and refuse one it holds with
other bytes; the verification environment is prepared while the files go up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from releasekit.dists import artifact, verify
from releasekit.dists.artifact import Artifact
from releasekit.errors import ReleaseError
from releasekit.indexes import upload
from releasekit.release import journal
from releasekit.release.killpoints import pause
from releasekit.release.model import IndexTarget, Role
from releasekit.release.steps.artifacts import load_artifacts
from releasekit.release.steps.run import Decide, Run

if TYPE_CHECKING:
    from releasekit.release.model import Plan
    from releasekit.release.state import ReleaseState


def _not_this_index(plan: Plan, role: Role) -> tuple[bool, str] | None:
    """Why nothing happens on this index at all: the release is done, or --test spares the live one."""
    if plan.complete:
        return False, "already released"
    if role is Role.LIVE and plan.test_only:
        return False, "--test: the live index is not touched"
    return None


def decide_upload(role: Role) -> Decide:
    def decide(state: ReleaseState, plan: Plan) -> tuple[bool, str]:
        target = plan.target(role)
        skipped = _not_this_index(plan, role)
        if skipped is not None:
            return skipped
        if target.missing == ():
            return False, f"{target.label} holds every file"
        return True, target.label

    return decide


def upload_to(role: Role) -> Callable[[Run], str]:
    def run_upload(run: Run) -> str:
        load_artifacts(run)
        target = run.plan.target(role)
        preparation = _prepare_verify(run, target)
        try:
            return _upload_files(run, target)
        except BaseException:
            if preparation is not None:
                preparation.discard()
            raise

    return run_upload


def _dependency_index(run: Run) -> str:
    """Dependencies always come from the live index: the test index holds only this release."""
    return run.plan.target(Role.LIVE).access.repository.simple_url


def _prepare_verify(run: Run, target: IndexTarget) -> verify.Preparation | None:
    """Start making the environment the next verify step installs into, while the files go up.

    Only the environment (its dependencies, from the live index) is made early; nothing is
    installed from the index being uploaded to until the verify step, after the upload. A
    failure to start is no failure of the upload: the verify step makes its own and reports.
    """
    if not run.plan.will(target.role.verify_step):
        return None
    try:
        preparation = verify.Preparation(
            name=run.state.name,
            dependencies=_requirements(run.artifacts),
            dependency_index_url=_dependency_index(run),
            timeout=run.config.timeout * 5,
        )
    except (ReleaseError, OSError):  # the verify step tries again and reports it there
        return None
    run.environments[target.label] = preparation
    return preparation


def _requirements(artifacts: list[Artifact]) -> list[str]:
    wheel = _wheel_for_this_machine(artifacts)
    return [str(r) for r in artifact.read_metadata(wheel).get_all("Requires-Dist") or []]


def _upload_files(run: Run, target: IndexTarget) -> str:
    version = run.plan.version
    dest = run.destinations[target.label]
    for art in run.artifacts:  # wheels first: collect() orders them so
        if art.filename in target.holds:
            dest.files[art.filename] = "present"
            continue
        repo = target.access.for_upload()  # a trusted-publishing token is renewed before it expires
        run.log.record_upload_intent(version, target.label, art.filename)
        run.published = True  # from here on an upload may have landed
        result = upload.upload(
            repo,
            art,
            timeout=run.config.timeout,
            new_project=target.new,
            check_first=False,
            progress=run.reporter.progress,
        )
        dest.files[art.filename] = result.outcome
        run.log.record_upload(version, target.label, art.filename, result.outcome)
        run.reporter.note(f"  {result.outcome} {art.filename} ({result.seconds:.1f}s)")
        pause(f"{target.role.upload_step.value}:one")
    upload.confirm(target.access.repository, run.artifacts, run.config.timeout)
    counts = list(dest.files.values())
    return f"{target.label}: {counts.count('uploaded')} uploaded, {counts.count('present')} already there"


def decide_verify(role: Role) -> Decide:
    def decide(state: ReleaseState, plan: Plan) -> tuple[bool, str]:
        target = plan.target(role)
        skipped = _not_this_index(plan, role)
        if skipped is not None:
            return skipped
        if not plan.verify:
            return False, "verify = false"
        if target.verified:
            return False, f"verified on {target.label} by an earlier run"
        return True, f"install {state.name}=={plan.version} from {target.label}"

    return decide


def verify_on(role: Role) -> Callable[[Run], str]:
    def run_verify(run: Run) -> str:
        load_artifacts(run)
        target = run.plan.target(role)
        wheel = _wheel_for_this_machine(run.artifacts)
        result = verify.verify_install(
            name=run.state.name,
            version=run.plan.version,
            index_url=target.access.repository.simple_url,
            dependencies=_requirements(run.artifacts),
            dependency_index_url=_dependency_index(run),
            modules=artifact.import_names(wheel, run.state.name),
            timeout=run.config.timeout * 5,
            prepared=run.environments.pop(target.label, None),
            extra_only=frozenset(artifact.extra_only_requirements(wheel)),
        )
        for optional in result.optional:
            run.reporter.warn(f"{target.label}: {optional}; not fatal: only an extra brings it")
        hashes = {a.filename: a.sha256 for a in run.artifacts}
        run.log.record_verified(run.plan.version, journal.verify_key(target.label, hashes))
        run.destinations[target.label].verified = True
        return f"{run.state.name}=={result.version} imports {', '.join(result.modules)}"

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
