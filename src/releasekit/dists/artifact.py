"""Build the sdist, then the wheel from the sdist, with `build`'s API; describe artifacts.

This follows `python -m build` semantics (the wheel is built from the unpacked sdist, so a file
missing from the sdist breaks the build here rather than for a user installing from source) in
an isolated environment installed by uv. Artifacts are identified by parsing their file names
with `packaging.utils`, never by globbing a directory.
"""

from __future__ import annotations

import email.message
import email.parser
import hashlib
import re
import tarfile
import urllib.parse
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from releasekit import redact
from releasekit.errors import BuildError

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class Artifact:
    """One distribution file, identified by its parsed name and its bytes' sha256."""

    path: Path
    kind: str  # "sdist" | "wheel"
    name: str  # canonical project name
    version: str  # canonical version
    size: int
    sha256: str

    @property
    def filename(self) -> str:
        return self.path.name


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_filename(filename: str) -> tuple[str, str, str] | None:
    """(kind, canonical name, canonical version) of a distribution file name, or None."""
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            return "wheel", canonicalize_name(name), str(version)
        if filename.endswith(".tar.gz"):
            name, version = parse_sdist_filename(filename)
            return "sdist", canonicalize_name(name), str(version)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def describe(path: Path) -> Artifact:
    parsed = parse_filename(path.name)
    if parsed is None:
        raise BuildError(f"{path.name} is not a wheel or sdist file name")
    kind, name, version = parsed
    return Artifact(path, kind, name, version, path.stat().st_size, sha256_of(path))


def collect(directory: Path) -> list[Artifact]:
    """The distribution files in a directory, wheels first (the order uploads go in)."""
    found = [describe(p) for p in sorted(directory.iterdir()) if parse_filename(p.name)]
    return sorted(found, key=lambda a: (a.kind != "wheel", a.filename))


# Core metadata is a few kB; a description can make it a few hundred. Anything past this is not
# metadata we would publish, and reading it whole is how a hostile file would exhaust memory.
MAX_METADATA_BYTES = 4 << 20


def read_metadata(artifact: Artifact) -> email.message.Message:
    """The core metadata (METADATA or PKG-INFO) inside the artifact.

    Only that member is read, and at most MAX_METADATA_BYTES of it, so the artifact's size does
    not matter; a larger one is refused with a BuildError.
    """
    if artifact.kind == "wheel":
        with zipfile.ZipFile(artifact.path) as zf:
            meta = [
                i
                for i in zf.infolist()
                if i.filename.count("/") == 1 and i.filename.endswith(".dist-info/METADATA")
            ]
            if len(meta) != 1:
                raise BuildError(f"{artifact.filename} has no single .dist-info/METADATA")
            _refuse_large_metadata(artifact, meta[0].filename, meta[0].file_size)
            with zf.open(meta[0]) as fh:
                data = fh.read(MAX_METADATA_BYTES + 1)
            member = meta[0].filename
    else:
        data, member = _read_pkg_info(artifact)
    _refuse_large_metadata(artifact, member, len(data))
    return email.parser.BytesParser().parsebytes(data)


def _read_pkg_info(artifact: Artifact) -> tuple[bytes, str]:
    # Stream mode reads the archive front to back once and stops at PKG-INFO (backends write it
    # early); random access would decompress the whole .gz just to list the members.
    with tarfile.open(artifact.path, mode="r|*") as tf:
        for info in tf:
            if info.isfile() and info.name.count("/") == 1 and info.name.endswith("/PKG-INFO"):
                _refuse_large_metadata(artifact, info.name, info.size)
                fh = tf.extractfile(info)
                if fh is not None:
                    return fh.read(MAX_METADATA_BYTES + 1), info.name
    raise BuildError(f"{artifact.filename} has no top-level PKG-INFO")


def _refuse_large_metadata(artifact: Artifact, member: str, size: int) -> None:
    if size > MAX_METADATA_BYTES:
        raise BuildError(
            f"{artifact.filename}: {member} is {size:,} bytes, more than the {MAX_METADATA_BYTES:,} "
            "core metadata may take",
            "a description that long is usually a data file given as the readme: "
            "point `readme` at the real one",
        )


def top_level_modules(wheel: Artifact) -> list[str]:
    """Importable top-level names the wheel installs, to prove the install imports."""
    names: set[str] = set()
    with zipfile.ZipFile(wheel.path) as zf:
        for entry in zf.namelist():
            head, _, rest = entry.partition("/")
            if head.endswith((".dist-info", ".data")):
                continue
            if rest and rest.split("/")[0] and (head.isidentifier()):
                names.add(head)
            elif not rest and head.endswith(".py") and head[:-3].isidentifier():
                names.add(head[:-3])
    return sorted(names)


def import_names(wheel: Artifact, name: str) -> list[str]:
    """The names that prove this distribution imports: its own, not every module it ships.

    Core metadata 2.5 `Import-Name` fields where present (`; private` ones left out); else the
    top-level module named like the project (black ships blackd too, which needs an extra);
    else every top-level module.
    """
    declared = read_metadata(wheel).get_all("Import-Name") or []
    public = [n.split(";")[0].strip() for n in declared if "private" not in n.partition(";")[2]]
    if public:
        return sorted({n.split(".")[0] for n in public if n})
    modules = top_level_modules(wheel)
    own = re.sub(r"[-_.]+", "_", name).lower()
    matching = [m for m in modules if m.lower() == own]
    return matching or modules


def extra_only_requirements(wheel: Artifact) -> set[str]:
    """Canonical names of the dependencies that only an extra brings (`; extra == "d"`)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    always: set[str] = set()
    optional: set[str] = set()
    for text in read_metadata(wheel).get_all("Requires-Dist") or []:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        target = optional if req.marker is not None and "extra" in str(req.marker) else always
        target.add(canonicalize_name(req.name))
    return optional - always


def check_consistency(artifacts: Sequence[Artifact], name: str, version: str) -> None:
    """File names, metadata and the release agree on one canonical name and version."""
    kinds = {a.kind for a in artifacts}
    if kinds != {"sdist", "wheel"}:
        raise BuildError(f"expected one sdist and at least one wheel, found: {sorted(kinds)}")
    for art in artifacts:
        meta = read_metadata(art)
        meta_name, meta_version = canonicalize_name(meta.get("Name", "")), meta.get("Version", "")
        if art.name != name or meta_name != name:
            raise BuildError(f"{art.filename} is for project '{meta_name}', not '{name}'")
        if art.version != version or str(Version(meta_version or "0")) != version:
            raise BuildError(
                f"{art.filename} carries version {meta_version}, but the release is {version}",
                "the version in the files and the one being released disagree",
            )


# Files a build backend generates into an sdist on its own: PKG-INFO and egg-info (setuptools),
# setup.cfg (setuptools' egg_info), pyproject.toml.orig (uv_build keeps the original beside its
# normalised copy), .gitignore (hatchling writes the ignore rules it built with, even for a package
# in a subfolder whose repository keeps them at the top).
_GENERATED = re.compile(
    r"^(PKG-INFO|setup\.cfg|pyproject\.toml\.orig|\.gitignore|[^/]+\.egg-info/.*|src/[^/]+\.egg-info/.*)$"
)


_TOKEN_SHAPE = re.compile(rb"pypi-[A-Za-z0-9_-]{50,}")


# Members are scanned in blocks of this size, so memory does not grow with the artifact.
SCAN_BLOCK = 1 << 20


# The token pattern matches once it has seen this many bytes; each block is searched together with
# the tail of the one before, at least this long, so a token across a block boundary is found.
_TOKEN_MIN = len("pypi-") + 50


# Shorter credentials are not searched for: in megabytes of compressed data a short string turns
# up by chance, and a false alarm would block every release.
MIN_SECRET_LENGTH = 8


def check_contents(artifacts: Sequence[Artifact], tracked: set[str], *, secrets: Iterable[str] = ()) -> None:
    """Stop untracked files, anything token-shaped and our own credentials from being published.

    An sdist member that git does not track (a .env, a stray dist/) is refused, unless a backend
    generates it. Every member of every artifact is then read in blocks of SCAN_BLOCK bytes and
    searched for a PyPI token and for each of `secrets`, the credentials this release uses (raw
    and URL-encoded, as they sit in a .pypirc or a URL). The error never shows the secret: it
    names the artifact and member that hold it.
    """
    needles = _secret_needles(secrets)
    overlap = max([_TOKEN_MIN, *map(len, needles)]) - 1
    for art in artifacts:
        for member, blocks in _members(art):
            if art.kind == "sdist":
                _refuse_untracked(art, member, tracked)
            found = _scan(blocks, needles, overlap)
            if found == "token":
                raise BuildError(
                    f"{art.filename} contains something shaped like a PyPI token (in {redact.scrub(member)})",
                    "remove the secret from the package and revoke it on PyPI",
                )
            if found == "secret":
                raise BuildError(
                    f"{art.filename} contains one of the credentials this release uses "
                    f"(in {redact.scrub(member)})",
                    "remove that file from the package (or the credential from the file), then "
                    "revoke the credential: it was written where a build could pick it up",
                )


def _secret_needles(secrets: Iterable[str]) -> list[bytes]:
    forms: set[str] = set()
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_LENGTH:
            forms |= {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}
    return sorted((f.encode() for f in forms), key=len, reverse=True)


def _refuse_untracked(art: Artifact, member: str, tracked: set[str]) -> None:
    relative = member.split("/", 1)[1] if "/" in member else ""
    if relative and relative not in tracked and not _GENERATED.match(relative):
        raise BuildError(
            f"the sdist {art.filename} contains {relative}, which git does not track",
            "commit it, or keep it out of the sdist (MANIFEST.in / the backend's excludes)",
        )


def _scan(blocks: Iterable[bytes], needles: Sequence[bytes], overlap: int) -> str | None:
    """ "token" or "secret" when the stream of blocks holds one, else None."""
    tail = b""
    for block in blocks:
        window = tail + block
        if _TOKEN_SHAPE.search(window):
            return "token"
        if any(needle in window for needle in needles):
            return "secret"
        tail = window[-overlap:] if overlap else b""
    return None


def _members(art: Artifact) -> Iterator[tuple[str, Iterator[bytes]]]:
    """Each regular file in the artifact with its bytes as blocks, read as they are consumed."""
    if art.kind == "wheel":
        with zipfile.ZipFile(art.path) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    with zf.open(info) as fh:
                        yield info.filename, _blocks(fh)
        return
    # Stream mode: one pass over the .gz, however many members it has.
    with tarfile.open(art.path, mode="r|*") as tf:
        for entry in tf:
            member = tf.extractfile(entry) if entry.isfile() else None
            if member is not None:
                yield entry.name, _blocks(member)


def _blocks(fh: IO[bytes]) -> Iterator[bytes]:
    return iter(lambda: fh.read(SCAN_BLOCK), b"")
