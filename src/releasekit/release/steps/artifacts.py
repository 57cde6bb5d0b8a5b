"""The artifact steps: build (or take --dist files), fetch back the release's own files, check them.

The bytes a release publishes are the ones whose sha256 the journal recorded when they were
built; nothing else is ever uploaded.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from releasekit import redact, vcs
from releasekit.dists import artifact, builder
from releasekit.dists.artifact import Artifact
from releasekit.errors import PackageIndexError
from releasekit.indexes import listing, pypi_rules, upload
from releasekit.release import journal
from releasekit.release.killpoints import pause
from releasekit.versioning import copies

if TYPE_CHECKING:
    from releasekit.release.model import Plan
    from releasekit.release.state import ReleaseState
from releasekit.release.model import StepName
from releasekit.release.steps.run import Run, done


def decide_build(state: ReleaseState, plan: Plan) -> tuple[bool, str]:
    origin = plan.artifacts
    if plan.complete:
        return False, "already released"
    if origin.prebuilt:
        count = len(origin.prebuilt)
        return True, f"take the {count} prebuilt files in {state.prebuilt_dir} instead of building"
    if origin.stored:
        return False, f"the {len(origin.stored)} files built by an earlier run are stored"
    if origin.downloads or origin.expected:
        return False, "this release's files are on an index; they are fetched back, not rebuilt"
    return True, "sdist, then wheel from the sdist"


def build(run: Run) -> str:
    plan = run.plan
    prebuilt = plan.artifacts.prebuilt
    store = run.store
    journal.remove(store)  # leftovers of a release that was rolled back or never recorded
    store.parent.mkdir(parents=True, exist_ok=True)
    run.record(building=True, artifacts={})
    run.made.add(StepName.BUILD)
    upload.preload()  # twine's import overlaps the backend's work
    fresh = Path(tempfile.mkdtemp(prefix=f".{plan.version}-", dir=store.parent))
    try:
        built: list[Artifact] = []
        if prebuilt:
            (fresh / "dist").mkdir()
            for art in prebuilt:
                shutil.copyfile(art.path, fresh / "dist" / art.filename)
        else:
            warn = run.reporter.warn
            with run.reporter.progress(f"building {run.state.name} {plan.version}"):
                built = builder.build_dists(run.state.project, fresh / "dist", warn=warn, standby=run.standby)
        pause("build:built")
        (fresh / "dist").rename(store)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    # Built files were hashed as they were collected, and a rename keeps their bytes; copies of
    # prebuilt files are hashed here, to compare with what the plan read (1 GiB: ~1 s a hash).
    run.artifacts = [dataclasses.replace(a, path=store / a.filename) for a in built] or artifact.collect(
        store
    )
    if prebuilt and {a.filename: a.sha256 for a in run.artifacts} != plan.artifacts.expected:
        raise PackageIndexError(f"the files in {run.state.prebuilt_dir} changed while they were copied")
    run.record(building=False, artifacts={a.filename: a.sha256 for a in run.artifacts})
    for art in run.artifacts:
        run.reporter.note(f"  {art.filename}  {art.size:,} bytes  sha256 {art.sha256}")
    if prebuilt:
        return f"{len(run.artifacts)} prebuilt files from {run.state.prebuilt_dir}"
    return f"{len(run.artifacts)} files"


def undo_build(run: Run) -> str:
    journal.remove(run.store)
    run.record(building=False, artifacts={})
    return ""


def decide_download(state: ReleaseState, plan: Plan) -> tuple[bool, str]:
    if plan.complete:
        return False, "already released"
    downloads = plan.artifacts.downloads
    if not downloads:
        return False, "nothing to fetch"
    return (
        True,
        f"fetch {len(downloads)} file(s) back, each checked against the sha256 this release built",
    )


def download(run: Run) -> str:
    store = run.store
    store.mkdir(parents=True, exist_ok=True)
    origin = run.plan.artifacts
    for entry in origin.downloads:
        journal.remove(store / entry.filename)  # never trust what a killed download left
        expected = origin.expected[entry.filename]
        try:  # streamed, hashed as it arrives, kept only with the sha256 this release built
            listing.download(
                entry, store, run.config.timeout * 5, expected_sha256=expected, progress=run.reporter.progress
            )
        except PackageIndexError as exc:
            raise PackageIndexError(
                f"{redact.printable(entry.filename)} fetched from the index is not usable: {exc.message}",
                exc.hint or "re-run the same command; if it persists, bump the version (--bump patch)",
            ) from exc
        pause("download:one")
    return f"{len(origin.downloads)} file(s), sha256 as built"


def load_artifacts(run: Run) -> None:
    """The release's artifacts: this run's build, or the stored files the plan trusts."""
    if run.artifacts:
        return
    expected = run.plan.artifacts.expected
    store = run.store
    found = artifact.collect(store) if store.is_dir() else []
    run.artifacts = [a for a in found if expected.get(a.filename) == a.sha256] if expected else found
    if expected and {a.filename for a in run.artifacts} != set(expected):
        raise PackageIndexError(
            f"the stored files of {run.plan.version} are not the ones this release built",
            "re-run the same command; if it persists, bump the version (--bump patch)",
        )


def decide_check(state: ReleaseState, plan: Plan) -> tuple[bool, str]:
    return done(plan) or (True, "twine check; names and metadata agree")


def check(run: Run) -> str:
    load_artifacts(run)
    plan = run.plan
    state = run.state
    artifact.check_consistency(run.artifacts, state.name, plan.version)
    for wheel in (a for a in run.artifacts if a.kind == "wheel"):
        copies.check_built(wheel, plan.version)
    tracked = vcs.tracked_files(run.repo, state.project) | set(state.generated_files)
    repos = [t.access.repository for t in plan.targets]
    in_use = [r.password for r in repos if r.password]  # never inside the package
    artifact.check_contents(run.artifacts, tracked, secrets=in_use)
    for warning in upload.check(run.artifacts, strict=run.config.strict_check):
        run.reporter.warn(warning)
    if pypi_rules.applies(run.config.pypi_rules, [r.upload_url for r in repos]):
        pypi_rules.check(run.artifacts)  # what PyPI's upload endpoint refuses, before any upload
        return "twine check; PyPI's upload rules"
    return "twine check"
