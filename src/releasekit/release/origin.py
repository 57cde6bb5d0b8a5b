"""Where a release's bytes come from: a fresh build, the store, --dist, or the indexes themselves.

The one rule behind every branch: bytes this repository cannot prove it built (by the sha256 the
journal recorded when it built them) go nowhere. A stored build is trusted only when it is
exactly what the journal says; copies on an index only when their sha256 is the journal's.
"""

from __future__ import annotations

from releasekit.dists.artifact import Artifact
from releasekit.errors import PackageIndexError
from releasekit.indexes.listing import IndexFile
from releasekit.release.journal import Record
from releasekit.release.model import ArtifactOrigin
from releasekit.release.state import ReleaseState


def _check_prebuilt(state: ReleaseState, target: str) -> tuple[Artifact, ...]:
    """--dist: every file must be this project's, of this version; one sdist and some wheels."""
    given = state.prebuilt or ()
    where = state.prebuilt_dir
    for art in given:
        if art.name != state.name:
            raise PackageIndexError(
                f"{art.filename} in {where} is a file of '{art.name}', not of {state.name}",
                f"remove it from {where}: only {state.name}'s files are published",
            )
        if art.version != target:
            raise PackageIndexError(
                f"{art.filename} in {where} is version {art.version}, but the release is {target}",
                f"build the distributions of {target} into {where}, or release {art.version}",
            )
    sdists = [a for a in given if a.kind == "sdist"]
    if len(sdists) != 1 or len(given) < 2:
        raise PackageIndexError(
            f"{where} holds {len(sdists)} sdist(s) and {len(given) - len(sdists)} wheel(s) of {target}",
            "a release publishes exactly one sdist and at least one wheel",
        )
    if state.stray:
        raise PackageIndexError(
            f"{where} holds files that are not distributions ({', '.join(state.stray[:3])})",
            "keep only the sdist and the wheels there",
        )
    return given


def _artifacts(
    state: ReleaseState, record: Record | None, target: str, test_files: dict[str, IndexFile],
    live_files: dict[str, IndexFile], notes: list[str],
) -> tuple[tuple[Artifact, ...], dict[str, str], tuple[IndexFile, ...]]:  # fmt: skip
    """(trusted stored artifacts, the hashes this release built, files to fetch back).

    Stored artifacts are trusted when they are exactly what the journal says was built; the
    index copies only when their sha256 is the journal's. Bytes that this repository cannot
    prove it built never go anywhere.
    """
    recorded = dict(record.artifacts) if record is not None and record.version == target else {}
    stored = state.stored.get(target, ())
    stored_hashes = {a.filename: a.sha256 for a in stored}
    complete = {a.kind for a in stored} == {"sdist", "wheel"}
    if stored and ((recorded and stored_hashes == recorded) or (not recorded and complete)):
        return stored, stored_hashes, ()
    if not test_files and not live_files:
        return (), {}, ()  # nothing published: build (any stray store is replaced)
    if not recorded:
        where = state.test.label if test_files else state.live.label
        raise PackageIndexError(
            f"{where} holds {target} but this repository has no record of the bytes it built",
            "refusing to publish bytes it cannot prove are its own: bump the version (--bump patch)",
        )
    fetch: list[IndexFile] = []
    for filename, sha in recorded.items():
        entry = next((f[filename] for f in (test_files, live_files) if filename in f), None)
        if filename in stored_hashes and stored_hashes[filename] == sha:
            continue
        if entry is None or entry.sha256 != sha:
            raise PackageIndexError(
                f"{filename} of {target} is neither stored locally nor on an index with the bytes built",
                "bump the version (--bump patch)",
            )
        fetch.append(entry)
    notes.append(
        f"{len(fetch)} file(s) will be fetched back from the index, checked against the sha256 built"
    )
    return (), recorded, tuple(fetch)


def artifact_origin(
    state: ReleaseState,
    record: Record | None,
    version: str,
    held: tuple[dict[str, IndexFile], dict[str, IndexFile]],
    released: bool,
    notes: list[str],
) -> ArtifactOrigin:
    """Where the release's bytes come from: the live index (done), --dist, the store, or a build."""
    test_files, live_files = held
    if released:
        # Complete already (live index and tag): nothing local is needed to say so. This is also
        # "release locally, CI confirms", whose own build has other bytes than the released ones.
        if state.prebuilt is not None:
            notes.append(
                f"{version} is already on {state.live.label} with its tag: {state.prebuilt_dir} is unused"
            )
        return ArtifactOrigin(expected={f: e.sha256 or "" for f, e in live_files.items()})
    if state.prebuilt is not None:  # the given files are the release's bytes: the indexes must agree
        prebuilt = _check_prebuilt(state, version)
        expected = {a.filename: a.sha256 for a in prebuilt}
        recorded = record.artifacts if record is not None else {}
        if recorded and recorded != expected:
            raise PackageIndexError(
                f"the files in {state.prebuilt_dir} are not the ones this release built before",
                "finish the release without --dist, or bump the version",
            )
        return ArtifactOrigin(prebuilt=prebuilt, expected=expected)
    stored, expected, downloads = _artifacts(state, record, version, test_files, live_files, notes)
    return ArtifactOrigin(stored=stored, downloads=downloads, expected=expected)
