"""Where a project keeps its version, and its name, whatever its build backend: detection.

`detect(project)` returns the one `VersionSource` the project declares, trying in this order
(the first that applies wins; each step is what a maintainer configured on purpose):

1. a version-bump tool's config, in bump-my-version's own search order: `.bumpversion.cfg`,
   `.bumpversion.toml`, setup.cfg `[bumpversion]`, pyproject `[tool.bumpversion]` — the project
   said which files a bump rewrites;
2. a static `[project] version` in pyproject.toml (also uv_build, flit, hatchling, pdm with one);
3. `[tool.poetry] version`, when `[project]` has none;
4. what the build backend reads for a dynamic version: hatchling `[tool.hatch.version]`
   (`source = "vcs"`, else `path`), pdm-backend `[tool.pdm.version]` (`scm`, `file`), flit's
   module `__version__`, setuptools `[tool.setuptools.dynamic] version` (`attr`, `file`);
5. setuptools without those: setup.cfg `[metadata] version` (literal, `attr:`, `file:`), then
   setuptools-scm, versioneer, then setup.py (a `version=` literal, or the module it reads).

Each kind is one class (see `filesources`, `bumpconfig`, `bumpmyversion`, `gitversion`);
adding a kind is one class plus one line in `_detectors`.
"""

from __future__ import annotations

import ast
import configparser
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from releasekit.config import read_pyproject
from releasekit.errors import VersionError
from releasekit.versioning import bump2version, bump_my_version, copies, gittags, literals, uvlock
from releasekit.versioning import declared as fs
from releasekit.versioning.source import VersionSource


def read_version(project: Path) -> VersionSource:
    """The project's version source (see `detect` for the order), with the package's own other
    copies of the version (`copies`) when the source writes files; `.version` as written."""
    source = detect(project)
    name = _declared_name(_Project.read(project))
    if not source.writes_files or not source.version or name is None:
        return source
    found = copies.find(project, name, source.version, source.files)
    lock = uvlock.find(project, name)
    return copies.WithCopies(source, found, lock) if found or lock else source


def write_version(project: Path, source: VersionSource, new: str) -> tuple[Path, ...]:
    """Write `new` through `source`, all files or none; return the files that changed.

    Afterwards the project must read back as `new`: a source that wrote somewhere the backend
    does not read would otherwise release the old version under the new tag. A git-derived
    source writes nothing (the tag is the bump) and returns ().
    """
    if not source.writes_files:
        return source.write(new)
    # The source checks its own files exist; this snapshot only covers the read-back below.
    with literals.all_or_nothing([f for f in source.files if f.is_file()], source.describe()):
        changed = source.write(new)
        written = read_version(project).version
        if written != new:
            raise VersionError(
                f"the bump to {new} did not take: {source.describe()} now reads {written}",
                "check that the files it rewrites are the ones the build reads",
            )
    return changed


@dataclass
class _Project:
    """What detection reads, read once: pyproject, setup.cfg, setup.py."""

    root: Path
    pyproject: dict[str, Any]
    setup_cfg: configparser.RawConfigParser
    setup_py: str
    table: dict[str, Any] = field(init=False)
    tool: dict[str, Any] = field(init=False)
    backend: str = field(init=False)
    requires: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.table = self.pyproject.get("project", {})
        self.tool = self.pyproject.get("tool", {})
        system = self.pyproject.get("build-system", {})
        self.backend = str(system.get("build-backend", "setuptools.build_meta:__legacy__"))
        self.requires = [str(r) for r in system.get("requires", [])]

    @classmethod
    def read(cls, root: Path) -> _Project:
        parser = configparser.RawConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        if (root / "setup.cfg").is_file():
            try:
                parser.read_string(literals.read_text(root / "setup.cfg"), source="setup.cfg")
            except (configparser.Error, UnicodeDecodeError) as exc:
                raise VersionError(
                    f"setup.cfg cannot be parsed: {exc}", "fix the syntax of setup.cfg"
                ) from exc
        setup_py = (root / "setup.py").read_text("utf-8") if (root / "setup.py").is_file() else ""
        return cls(root, read_pyproject(root), parser, setup_py)

    def uses(self, *backends: str) -> bool:
        return self.backend.split(":")[0] in backends

    @property
    def setuptools(self) -> bool:
        return self.backend.startswith("setuptools.")

    def package_dir(self) -> dict[str, str]:
        """setuptools' package-dir from pyproject, else setup.cfg `[options] package_dir`."""
        mapping = self.tool.get("setuptools", {}).get("package-dir")
        if isinstance(mapping, dict):
            return {str(k): str(v) for k, v in mapping.items()}
        text = self.setup_cfg.get("options", "package_dir", fallback="")
        return {k.strip(): v.strip() for k, _, v in (ln.partition("=") for ln in text.splitlines()) if _}


def detect(project: Path) -> VersionSource:
    """The project's version source, by the precedence in this module's docstring."""
    info = _Project.read(project)
    for detector in _detectors():
        found = detector(info)
        if found is not None:
            return found
    if "version" in info.table.get("dynamic", []):
        raise VersionError(
            f"the version is dynamic in pyproject.toml, and releasekit cannot tell where "
            f"{info.backend} reads it from",
            'write version = "0.1.0" in [project], or use one of the sources in docs-version-sources.md',
        )
    raise VersionError(
        "no version found: no [project] version, bump-version config, setup.cfg or setup.py version",
        'add version = "0.1.0" to [project] in pyproject.toml',
    )


def _detectors() -> tuple[Callable[[_Project], VersionSource | None], ...]:
    return (
        _bump_tool,
        _static,
        _poetry,
        lambda p: gittags.hatch_vcs(p.root, p.tool) if p.uses("hatchling.build") else None,
        _hatch_path,
        lambda p: gittags.pdm_scm(p.root, p.tool) if p.uses("pdm.backend") else None,
        _pdm_file,
        _flit,
        _setuptools_dynamic,
        _setup_cfg,
        lambda p: gittags.setuptools_scm(p.root, p.tool, p.requires, p.setup_py) if p.setuptools else None,
        lambda p: gittags.versioneer(p.tool, p.setup_cfg.sections()) if p.setuptools else None,
        _setup_py,
    )


def _bump_tool(p: _Project) -> VersionSource | None:
    for name in (".bumpversion.cfg", ".bumpversion.toml", "setup.cfg", "pyproject.toml"):
        path = p.root / name
        if name.endswith(".cfg") and bump2version.find_config(p.root) == path:
            return bump2version.Bump2versionSource.load(p.root, path)
        if name.endswith(".toml") and bump_my_version.find_config(p.root) == path:
            return bump_my_version.BumpMyVersionSource.load(p.root, path)
    return None


def _static(p: _Project) -> VersionSource | None:
    if not isinstance(p.table.get("version"), str):
        return None
    path = p.root / "pyproject.toml"
    hint = 'write it on one line as version = "1.2.3" in [project]'
    return fs.StaticPyprojectSource(
        fs.require(literals.toml_string(path, "project", "version"), "[project] version", path, hint)
    )


def _poetry(p: _Project) -> VersionSource | None:
    if not isinstance(p.tool.get("poetry", {}).get("version"), str):
        return None
    path = p.root / "pyproject.toml"
    hint = 'write it on one line as version = "1.2.3" in [tool.poetry]'
    return fs.PoetrySource(
        fs.require(literals.toml_string(path, "tool.poetry", "version"), "[tool.poetry] version", path, hint)
    )


def _hatch_path(p: _Project) -> VersionSource | None:
    table = p.tool.get("hatch", {}).get("version", {})
    if not p.uses("hatchling.build") or "path" not in table:
        return None
    if table.get("source", "regex") != "regex":
        raise VersionError(
            f"[tool.hatch.version] source = {table['source']!r} is not one releasekit can write",
            'use the default regex source (path = "…"), or source = "vcs"',
        )
    path = p.root / str(table["path"])
    if not path.is_file():
        raise VersionError(f"[tool.hatch.version] path {table['path']} does not exist", "fix the path")
    found = literals.pattern_match(path, str(table.get("pattern", fs.HATCH_PATTERN)))
    hint = f'write __version__ = "1.2.3" in {table["path"]}'
    return fs.HatchPathSource(
        fs.require(found, "[tool.hatch.version] path", path, hint), fs.rel(p.root, path)
    )


def _pdm_file(p: _Project) -> VersionSource | None:
    table = p.tool.get("pdm", {}).get("version", {})
    if not p.uses("pdm.backend") or table.get("source") != "file":
        return None
    path = p.root / str(table.get("path", ""))
    if not path.is_file():
        raise VersionError(f"[tool.pdm.version] path {table.get('path')!r} does not exist", "fix the path")
    found = literals.python_assignment(path, "__version__")
    hint = f'write __version__ = "1.2.3" in {fs.rel(p.root, path)}'
    return fs.PdmFileSource(fs.require(found, "pdm-backend file", path, hint), fs.rel(p.root, path))


def _flit(p: _Project) -> VersionSource | None:
    if not p.uses("flit_core.buildapi", "flit.buildapi"):
        return None
    name = p.tool.get("flit", {}).get("module", {}).get("name") or str(p.table.get("name", ""))
    module = name.replace("-", "_").replace(".", "/")
    for candidate in (
        f"{module}/__init__.py",
        f"{module}.py",
        f"src/{module}/__init__.py",
        f"src/{module}.py",
    ):
        path = p.root / candidate
        if path.is_file():
            hint = f'write __version__ = "1.2.3" in {candidate}'
            found = literals.python_assignment(path, "__version__")
            return fs.FlitSource(fs.require(found, "flit", path, hint), candidate)
    raise VersionError(f"flit's module {module} is not in the project", "set [tool.flit.module] name")


def _setuptools_dynamic(p: _Project) -> VersionSource | None:
    spec = p.tool.get("setuptools", {}).get("dynamic", {}).get("version")
    if not p.setuptools or not isinstance(spec, dict):
        return None
    if "attr" in spec:
        lit = fs.attr_literal(p.root, str(spec["attr"]), p.package_dir())
        return fs.SetuptoolsAttrSource(lit, f"{spec['attr']} ({fs.rel(p.root, lit.path)})")
    lit = _version_file(p, spec.get("file"))
    return fs.SetuptoolsFileSource(lit, fs.rel(p.root, lit.path))


def _version_file(p: _Project, names: object) -> literals.Literal:
    name = names[0] if isinstance(names, list) and names else names
    path = p.root / str(name).strip()
    if not isinstance(name, str) or not path.is_file():
        raise VersionError(f"the version file {name!r} does not exist", "fix the file: directive")
    return fs.require(literals.whole_file(path), "file:", path, "write the version alone in it")


def _setup_cfg(p: _Project) -> VersionSource | None:
    path = p.root / "setup.cfg"
    if not p.setuptools or not p.setup_cfg.has_option("metadata", "version"):
        return None
    value = p.setup_cfg.get("metadata", "version").strip()
    if value.startswith("attr:"):
        lit = fs.attr_literal(p.root, value[5:], p.package_dir())
        return fs.SetupCfgSource(lit, f" = {value} ({fs.rel(p.root, lit.path)})")
    if value.startswith("file:"):
        lit = _version_file(p, value[5:].split(",")[0].strip())
        return fs.SetupCfgSource(lit, f" = {value}")
    lit = fs.require(
        literals.ini_value(path, "metadata", "version"), "setup.cfg", path, "write version = 1.2.3"
    )
    return fs.SetupCfgSource(lit)


def _setup_py(p: _Project) -> VersionSource | None:
    path = p.root / "setup.py"
    tree = literals.parse_python(path) if p.setuptools and p.setup_py else None
    if tree is None:
        return None
    node = _setup_keyword(tree, "version")
    if isinstance(node, ast.Name):
        node = _assigned(tree, node.id) or node
    literal = literals.string_node(path, node)
    if literal is not None:
        return fs.SetupPyLiteralSource(literal)
    for candidate in _files_named_in(tree, p.root):
        found = literals.python_assignment(candidate, "__version__") if candidate.suffix == ".py" else (
            literals.whole_file(candidate))  # fmt: skip
        if found is not None and re.fullmatch(r"v?\d[\w.+!-]*", found.value):
            return fs.SetupPyModuleSource(found, fs.rel(p.root, candidate))
    return None


def _assigned(tree: ast.Module, name: str) -> ast.expr | None:
    """The value of a module-level `name = …` (setup.py's `VERSION = "1.2.3"`, then `version=VERSION`)."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return node.value
    return None


def _setup_keyword(tree: ast.Module, name: str) -> ast.expr | None:
    """The value of keyword `name` in the `setup(...)` (or `setuptools.setup(...)`) call."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = (
            func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        )
        if called == "setup":
            return next((k.value for k in node.keywords if k.arg == name), None)
    return None


def _files_named_in(tree: ast.Module, root: Path) -> list[Path]:
    """Files setup.py names as string literals, or as the string arguments of a call, joined."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 200:
            names.append(node.value)
        elif isinstance(node, ast.Call):
            # os.path.join(here, "src", "pkg", "__version__.py"): the string parts, joined.
            parts = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            names.append("/".join(parts))
    found = []
    for name in dict.fromkeys(names):
        path = root / name.lstrip("./")
        if (
            name
            and "\n" not in name
            and path.suffix in {".py", ".txt", ""}
            and path.is_file()
            and path.name != "setup.py"
        ):
            found.append(path)
    return found


def _declared_name(info: _Project) -> str | None:
    candidates = [
        info.table.get("name"),
        info.tool.get("poetry", {}).get("name"),
        info.setup_cfg.get("metadata", "name", fallback=None),
    ]
    tree = literals.parse_python(info.root / "setup.py") if info.setup_py else None
    node = _setup_keyword(tree, "name") if tree else None
    candidates.append(node.value if isinstance(node, ast.Constant) else None)
    return next((c.strip() for c in candidates if isinstance(c, str) and c.strip()), None)


def project_name(project: Path) -> str:
    """The canonical distribution name, from the first place that declares it.

    `[project] name`, `[tool.poetry] name`, setup.cfg `[metadata] name`, a `name=` literal in
    setup.py; only then the build backend's own metadata, which needs its build environment
    (slow, and it runs the project's setup.py): callers compute this once.
    """
    name = _declared_name(_Project.read(project))
    if name is None:
        from releasekit.dists import metadata

        name = metadata.metadata(project)["Name"]
    return canonicalize_name(name.strip())
