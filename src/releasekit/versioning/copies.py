"""Every other copy of the version the project keeps, bumped with the source: its package's own, and uv.lock.

Maintainers keep a `__version__ = "0.47.1"` in `pkg/__version__.py` beside a static `[project]
version`, and move both in their bump commits; a release that bumped only the declared source
would ship a wheel whose `__version__` is the old one. A copy is a module-level `__version__` or
`VERSION` string literal, in the package's own version-bearing modules, that equals the current
version: a dependency pinned to the same number, or any other string, is never touched.
"""

from __future__ import annotations

import ast
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from releasekit import redact
from releasekit.dists.artifact import Artifact
from releasekit.errors import BuildError
from releasekit.versioning import literals, uvlock
from releasekit.versioning.literals import Literal
from releasekit.versioning.source import VersionSource

NAMES = ("__version__", "VERSION")
# The modules real projects keep a version in; only these are read (bounded, no tree walk).
MODULES = ("__init__.py", "__version__.py", "_version.py", "version.py", "__about__.py", "__meta__.py")


def _same(text: str, version: str) -> bool:
    try:
        return Version(text) == Version(version)
    except InvalidVersion:
        return False


def find(project: Path, name: str, version: str, known: tuple[Path, ...]) -> tuple[Literal, ...]:
    """The copies of `version` in the project's package modules that `known` files do not hold."""
    package = name.replace("-", "_").replace(".", "_").lower()
    seen = {p.resolve() for p in known}
    found = []
    for root in (project / "src", project):
        folder = next((p for p in root.glob("*") if p.is_dir() and p.name.lower() == package), None)
        if folder is None:
            continue
        for module in MODULES:
            path = folder / module
            if not path.is_file() or path.resolve() in seen:
                continue
            for literal_name in NAMES:
                hit = literals.python_assignment(path, literal_name)
                if hit is not None and _same(hit.value, version):
                    found.append(hit)
    return tuple(found)


@dataclass(frozen=True)
class WithCopies:
    """A version source that also moves the package's own copies of the version, all or none."""

    source: VersionSource
    copies: tuple[Literal, ...]
    lock: Path | None = None  # a uv.lock that records the project's version

    @property
    def kind(self) -> str:
        return self.source.kind

    @property
    def version(self) -> str:
        return self.source.version

    @property
    def files(self) -> tuple[Path, ...]:
        lock = (self.lock,) if self.lock is not None else ()
        return (*self.source.files, *dict.fromkeys(c.path for c in self.copies), *lock)

    @property
    def writes_files(self) -> bool:
        return self.source.writes_files

    @property
    def generated_files(self) -> tuple[Path, ...]:
        return self.source.generated_files

    def describe(self) -> str:
        names = ", ".join(sorted({c.path.name for c in self.copies}))
        copies = f", and the copy in {names}" if names else ""
        return f"{self.source.describe()}{copies}" + ("; uv.lock follows" if self.lock else "")

    def write(self, new: str) -> tuple[Path, ...]:
        with literals.all_or_nothing(self.files, self.describe()) as snapshot:
            self.source.write(new)
            literals.rewrite(self.copies, new)
            if self.lock is not None:
                uvlock.update(self.lock)
        return literals.changed(snapshot)


_MAX_MODULE = 1 << 20  # a version-bearing module is small; a larger one is not read


def check_built(wheel: Artifact, version: str) -> None:
    """Refuse a wheel whose own `__version__`/`VERSION` literal names another version than its
    metadata: the copy the bump missed, caught before a byte is uploaded."""
    with zipfile.ZipFile(wheel.path) as zf:
        for info in zf.infolist():
            parts = info.filename.split("/")
            if len(parts) != 2 or parts[1] not in MODULES or info.file_size > _MAX_MODULE:
                continue
            try:
                tree = ast.parse(zf.read(info))
            except (SyntaxError, ValueError):
                continue
            for node in tree.body:
                name, found = _assigned(node) or ("", "")
                if found and _parses(found) and not _same(found, version):
                    raise BuildError(
                        f"{wheel.filename}: {info.filename} says {name} = "
                        f"{redact.printable(found)!r}, but the release is {version}",
                        "bump that copy too (the version source does not rewrite it); nothing was uploaded",
                    )


def _assigned(node: ast.stmt) -> tuple[str, str] | None:
    """(name, value) of a module-level `__version__ = "…"` / `VERSION: str = "…"`, else None."""
    targets = (
        node.targets
        if isinstance(node, ast.Assign)
        else [node.target]
        if isinstance(node, ast.AnnAssign)
        else []
    )
    value = getattr(node, "value", None)
    name = next((t.id for t in targets if isinstance(t, ast.Name) and t.id in NAMES), None)
    if name is None or not isinstance(value, ast.Constant) or not isinstance(value.value, str):
        return None
    return name, value.value


def _parses(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True
