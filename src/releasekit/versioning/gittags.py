"""Versions derived from git tags: setuptools-scm, hatch-vcs, pdm-backend scm, versioneer.

No file holds the version, so a bump writes nothing: the release's annotated tag is the bump,
and it must exist before the build so the backend reads it. What these sources tell the release
is their name and the generated, git-ignored version files (`version_file`, `write_to`, in
[tool.setuptools_scm] or setup.py's `use_scm_version={...}`, hatch-vcs' `version-file`) that
the backend writes into the sdist.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar


@dataclass(frozen=True)
class _GitTagSource:
    """A version the build backend computes from `git describe`."""

    kind: ClassVar[str]
    label: ClassVar[str]
    writes_files: ClassVar[bool] = False
    version: ClassVar[str] = ""  # the tag holds it; the release reads tags itself
    files: ClassVar[tuple[Path, ...]] = ()
    generated_files: tuple[Path, ...] = ()

    def describe(self) -> str:
        return self.label

    def write(self, new: str) -> tuple[Path, ...]:
        """Nothing to write: tagging `new` is the bump."""
        return ()


class HatchVcsSource(_GitTagSource):
    kind = "hatch-vcs"
    label = "hatch-vcs (git tags)"


class SetuptoolsScmSource(_GitTagSource):
    kind = "setuptools-scm"
    label = "setuptools-scm (git tags)"


class PdmScmSource(_GitTagSource):
    kind = "pdm-scm"
    label = "pdm-backend scm (git tags)"


class VersioneerSource(_GitTagSource):
    kind = "versioneer"
    label = "versioneer (git tags)"


def _paths(project: Path, *names: object) -> tuple[Path, ...]:
    return tuple(project / n for n in names if isinstance(n, str) and n)


def hatch_vcs(project: Path, tool: dict[str, Any]) -> HatchVcsSource | None:
    """`[tool.hatch.version] source = "vcs"`; the build hook's `version-file` is generated."""
    hatch = tool.get("hatch", {})
    if hatch.get("version", {}).get("source") != "vcs":
        return None
    hook = hatch.get("build", {}).get("hooks", {}).get("vcs", {})
    return HatchVcsSource(_paths(project, hook.get("version-file")))


def setuptools_scm(
    project: Path, tool: dict[str, Any], requires: list[str], setup_py: str
) -> SetuptoolsScmSource | None:
    """`[tool.setuptools_scm]`, setuptools-scm among the build requirements, or `use_scm_version`."""
    table = tool.get("setuptools_scm")
    wants = any(r.replace("-", "_").lower().startswith("setuptools_scm") for r in requires)
    if table is None and not wants and "use_scm_version" not in setup_py:
        return None
    table = {**_use_scm_version(setup_py), **(table or {})}
    return SetuptoolsScmSource(_paths(project, table.get("version_file"), table.get("write_to")))


def _use_scm_version(setup_py: str) -> dict[str, Any]:
    """The string options of `setup(use_scm_version={...})`, read statically (never run)."""
    try:
        tree = ast.parse(setup_py)
    except (SyntaxError, ValueError):
        return {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.keyword)
            and node.arg == "use_scm_version"
            and isinstance(node.value, ast.Dict)
        ):
            return {
                str(k.value): v.value
                for k, v in zip(node.value.keys, node.value.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(v, ast.Constant) and isinstance(v.value, str)
            }
    return {}


def pdm_scm(project: Path, tool: dict[str, Any]) -> PdmScmSource | None:
    """`[tool.pdm.version] source = "scm"`; `write_to` is relative to the package root (src/ if any)."""
    table = tool.get("pdm", {}).get("version", {})
    if table.get("source") != "scm":
        return None
    write_to = table.get("write_to")
    root = project / "src" if (project / "src").is_dir() else project
    return PdmScmSource(_paths(root, write_to))


def versioneer(tool: dict[str, Any], setup_cfg_sections: list[str]) -> VersioneerSource | None:
    """`[tool.versioneer]` or setup.cfg `[versioneer]`; its `_version.py` is tracked, not generated."""
    if "versioneer" in tool or "versioneer" in setup_cfg_sections:
        return VersioneerSource()
    return None
