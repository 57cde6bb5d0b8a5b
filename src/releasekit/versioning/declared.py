"""Versions written as one literal in a file that the build backend reads.

One class per kind, all alike: the literal is found when the source is detected and is the only
thing a bump rewrites (never a dependency pin that equals it). Finding the module behind
setuptools' `attr:` follows its `package-dir` the way setuptools does, and one re-export
(`from ._version import __version__`) to where the literal really is.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from releasekit.errors import VersionError
from releasekit.versioning import literals
from releasekit.versioning.literals import Literal

# hatchling's default for [tool.hatch.version] path (its regex version source).
HATCH_PATTERN = r"(?i)^(__version__|VERSION) *= *([\'\"])v?(?P<version>.+?)\2"


@dataclass(frozen=True)
class _FileLiteralSource:
    """The version as one literal; `where` completes the human name (the file, the attr)."""

    kind: ClassVar[str]
    label: ClassVar[str]
    writes_files: ClassVar[bool] = True
    generated_files: ClassVar[tuple[Path, ...]] = ()
    literal: Literal
    where: str = ""

    @property
    def version(self) -> str:
        return self.literal.value

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.literal.path,)

    def describe(self) -> str:
        return self.label.format(where=self.where, file=self.literal.path.name)

    def write(self, new: str) -> tuple[Path, ...]:
        """Rewrite the literal in place, or leave the file untouched if that fails."""
        with literals.all_or_nothing(self.files, self.describe()) as snapshot:
            literals.rewrite([self.literal], new)
        return literals.changed(snapshot)


class StaticPyprojectSource(_FileLiteralSource):
    kind = "static"
    label = "static [project] version in pyproject.toml"


class PoetrySource(_FileLiteralSource):
    kind = "poetry"
    label = "[tool.poetry] version"


class SetupCfgSource(_FileLiteralSource):
    kind = "setup.cfg"
    label = "setup.cfg [metadata] version{where}"


class SetuptoolsAttrSource(_FileLiteralSource):
    kind = "setuptools-attr"
    label = "setuptools attr: {where}"


class SetuptoolsFileSource(_FileLiteralSource):
    kind = "setuptools-file"
    label = "setuptools file: {where}"


class HatchPathSource(_FileLiteralSource):
    kind = "hatch-path"
    label = "hatch version path ({where})"


class FlitSource(_FileLiteralSource):
    kind = "flit"
    label = "flit __version__ ({where})"


class PdmFileSource(_FileLiteralSource):
    kind = "pdm-file"
    label = "pdm-backend file ({where})"


class SetupPyLiteralSource(_FileLiteralSource):
    kind = "setup.py"
    label = "setup.py literal"


class SetupPyModuleSource(_FileLiteralSource):
    kind = "setup.py-module"
    label = "setup.py reads {where}"


def rel(project: Path, path: Path) -> str:
    """A path as the project spells it, for messages and names."""
    try:
        return path.relative_to(project).as_posix()
    except ValueError:
        return path.as_posix()


def require(literal: Literal | None, what: str, path: Path, hint: str) -> Literal:
    """The literal, or a VersionError that names where releasekit looked."""
    if literal is None:
        raise VersionError(f"{what}: no version literal found in {path.name}", hint)
    return literal


def module_file(project: Path, dotted: str, package_dir: dict[str, str]) -> Path | None:
    """The file of module `dotted`, as setuptools maps it through `package-dir` (else root or src/)."""
    parts = dotted.split(".")
    for cut in range(len(parts), -1, -1):
        prefix = ".".join(parts[:cut])
        if prefix in package_dir:
            bases, rest = [project / package_dir[prefix]], parts[cut:]
            break
    else:
        bases, rest = [project, project / "src"], parts
    for base in bases:
        stem = base.joinpath(*rest)
        for candidate in (stem / "__init__.py", stem.with_name(stem.name + ".py") if rest else None):
            if candidate is not None and candidate.is_file():
                return candidate
    return None


def attr_literal(project: Path, spec: str, package_dir: dict[str, str]) -> Literal:
    """The literal behind setuptools' `attr: pkg.__version__`, following one re-export."""
    module, _, name = spec.strip().rpartition(".")
    path = module_file(project, module, package_dir) if module else None
    if path is None:
        raise VersionError(
            f"the version comes from attr: {spec}, but module {module or spec} is not in the project",
            "check the attr and [tool.setuptools] package-dir (or setup.cfg [options] package_dir)",
        )
    found = literals.python_assignment(path, name)
    if found is None:
        target = _reexport(path, module, name)
        if target is not None:
            target_path = module_file(project, target[0], package_dir)
            found = literals.python_assignment(target_path, target[1]) if target_path else None
    hint = f'write {name} = "1.2.3" as a plain string in {rel(project, path)}'
    return require(found, f"attr: {spec}", path, hint)


def _reexport(path: Path, module: str, name: str) -> tuple[str, str] | None:
    """`from ._version import __version__` (or `import … as name`) in `path`: where name comes from."""
    tree = literals.parse_python(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in tree.body if tree else ():
        if not isinstance(node, ast.ImportFrom):
            continue
        for alias in node.names:
            if (alias.asname or alias.name) == name:
                base = package.split(".")
                base = base[: len(base) - node.level + 1] if node.level else []
                return ".".join([*base, *filter(None, [node.module])]), alias.name
    return None
