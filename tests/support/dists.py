"""Hand-made wheels and sdists, written with zipfile and tarfile: no build backend, milliseconds each.

One `make_wheel` and one `make_sdist` serve every test. By default each is a valid pure-Python
distribution (twine reads it, pypiserver stores it, uv installs it); each keyword bends the one
thing a test needs bent: the file name (tags, spelling), the metadata fields, the module's text,
extra members, or a large incompressible payload.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import secrets
import tarfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

Fields = Mapping[str, str | Sequence[str]]

# A random block repeated: deflate looks back 32 KiB, so this is as incompressible as random bytes
# of the full length, and far cheaper to make.
_BLOCK = os.urandom(1 << 20)


def unique_name() -> str:
    """A project name no other test uses, for the indexes the whole session shares."""
    return f"rk-handmade-{secrets.token_hex(4)}"


class Incompressible(io.RawIOBase):
    """`size` bytes of incompressible data, produced as they are read."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), self.left, len(_BLOCK))
        buffer[:count] = _BLOCK[:count]
        self.left -= count
        return count


def core_metadata(name: str, version: str, fields: Fields | None = None) -> bytes:
    """METADATA (or PKG-INFO): Metadata-Version 2.1, Name, Version and a Summary, then `fields`.

    A field in `fields` replaces the default one; a value of "" drops the field; a list gives one
    line per item, as Classifier and Requires-Dist take.
    """
    merged: dict[str, str | Sequence[str]] = {
        "Metadata-Version": "2.1", "Name": name, "Version": version, "Summary": "handmade",
    }  # fmt: skip
    merged.update(fields or {})
    lines = [
        f"{key}: {item}"
        for key, value in merged.items()
        for item in ([value] if isinstance(value, str) else value)
        if item != ""
    ]
    return ("\n".join(lines) + "\n\n").encode()


def _dist(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _text(init: str | bytes | None, version: str) -> bytes:
    if init is None:
        return f'__version__ = "{version}"\n'.encode()
    return init if isinstance(init, bytes) else init.encode()


def _record_row(member: str, digest: bytes, size: int) -> str:
    return f"{member},sha256={base64.urlsafe_b64encode(digest).rstrip(b'=').decode()},{size}"


def _payload_blocks(size: int) -> Iterator[bytes]:
    source = Incompressible(size)
    return iter(lambda: source.read(1 << 20), b"")


def make_wheel(
    directory: Path,
    name: str,
    version: str = "0.1.0",
    *,
    filename: str | None = None,
    fields: Fields | None = None,
    init: str | bytes | None = None,
    files: Mapping[str, bytes] | None = None,
    payload: int | None = None,
) -> Path:
    """Write a wheel into `directory` and return its path.

    By default a minimal valid pure-Python wheel: `<dist>/__init__.py` setting `__version__`,
    then METADATA, WHEEL and an honest RECORD. `filename` replaces the file name (its first two
    parts name the .dist-info and its last three the WHEEL tag, as in a real wheel); `fields`
    go into the metadata (see `core_metadata`); `init` replaces the module's text; `files` adds
    members (archive path -> bytes); `payload` adds `<dist>/data.bin` holding that many
    incompressible bytes, stored (as numpy's .so files are) and written in blocks, so a 256 MiB
    wheel costs no memory to make.
    """
    dist = _dist(name)
    filename = filename or f"{dist}-{version}-py3-none-any.whl"
    stem = filename.removesuffix(".whl").split("-")
    dist_info = f"{stem[0]}-{stem[1]}.dist-info"
    tag = "-".join(stem[-3:])
    members = {f"{dist}/__init__.py": _text(init, version), **(files or {})}
    record: list[str] = []
    path = directory / filename
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
            record.append(_record_row(member, hashlib.sha256(data).digest(), len(data)))
        if payload is not None:
            member, digest = f"{dist}/data.bin", hashlib.sha256()
            with archive.open(zipfile.ZipInfo(member), "w", force_zip64=True) as out:  # ZIP_STORED
                for block in _payload_blocks(payload):
                    digest.update(block)
                    out.write(block)
            record.append(_record_row(member, digest.digest(), payload))
        wheel = f"Wheel-Version: 1.0\nGenerator: releasekit-tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
        for member, data in (
            (f"{dist_info}/METADATA", core_metadata(name, version, fields)),
            (f"{dist_info}/WHEEL", wheel.encode()),
        ):
            archive.writestr(member, data)
            record.append(_record_row(member, hashlib.sha256(data).digest(), len(data)))
        record.append(f"{dist_info}/RECORD,,")
        archive.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return path


def make_sdist(
    directory: Path,
    name: str,
    version: str = "0.1.0",
    *,
    filename: str | None = None,
    fields: Fields | None = None,
    init: str | bytes | None = None,
    files: Mapping[str, bytes] | None = None,
    payload: int | None = None,
) -> Path:
    """Write an sdist (.tar.gz) into `directory` and return its path; the keywords are
    `make_wheel`'s, with `files` relative to the sdist's top folder.

    Its members are `src/<dist>/__init__.py`, `files`, `src/<dist>/data.bin` when `payload` is
    given, and PKG-INFO last: backends write it early, so a reader that finds it anyway does not
    depend on that, and reading it means passing the payload.
    """
    dist = _dist(name)
    filename = filename or f"{dist}-{version}.tar.gz"
    top = filename.removesuffix(".tar.gz")
    path = directory / filename
    with tarfile.open(path, "w:gz", compresslevel=1) as archive:

        def add(member: str, data: bytes) -> None:
            info = tarfile.TarInfo(f"{top}/{member}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))

        for member, data in {f"src/{dist}/__init__.py": _text(init, version), **(files or {})}.items():
            add(member, data)
        if payload is not None:
            info = tarfile.TarInfo(f"{top}/src/{dist}/data.bin")
            info.size = payload
            archive.addfile(info, io.BufferedReader(Incompressible(payload), 1 << 20))
        add("PKG-INFO", core_metadata(name, version, fields))
    return path
