"""towncrier: release notes written as news fragments, turned into the section by towncrier itself.

A project with `[tool.towncrier]` (pyproject.toml or towncrier.toml) is released the way its
maintainers release it: `towncrier build --version X --date D --yes` renders the fragments into
the news file and removes them, and both land in the release commit. towncrier runs from a
cached environment of its own (`dists.tools`), never reimplemented. The plan's notes are
towncrier's own draft (`--draft`), made when the release observes the project.
"""

from __future__ import annotations

import datetime
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releasekit.changelog.fragments import PLACEHOLDER, FragmentNotes, without_heading
from releasekit.dists import tools
from releasekit.errors import ChangelogError

REQUIREMENT = "towncrier>=23.6"
# Files towncrier itself never treats as fragments.
_NOT_FRAGMENTS = {".gitignore", ".gitkeep", ".keep", "readme", "readme.md", "readme.rst", "readme.txt"}
_HINT = "check [tool.towncrier] (`towncrier build --draft` shows what it would write)"


def _config(project: Path) -> tuple[Path, dict[str, Any]] | None:
    """towncrier's own precedence: towncrier.toml, then pyproject.toml; the [tool.towncrier] table."""
    for name in ("towncrier.toml", "pyproject.toml"):
        path = project / name
        if not path.is_file():
            continue
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("towncrier")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            raise ChangelogError(f"{name} cannot be read: {exc}", f"fix {name}") from exc
        if isinstance(table, dict):
            return path, table
    return None


def _fragment_dir(project: Path, config: dict[str, Any]) -> Path:
    if isinstance(config.get("directory"), str):
        return project / str(config["directory"])
    package_dir = config.get("package_dir", ".")
    package = str(config.get("package", "")).replace(".", "/")
    return project / str(package_dir) / package / "newsfragments"


def _fragments(directory: Path, template: str) -> tuple[Path, ...]:
    if not directory.is_dir():
        return ()
    return tuple(
        p
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name.lower() not in _NOT_FRAGMENTS and p.name != Path(template).name
    )


def _run(project: Path, config_file: Path, what: str, args: list[str]) -> str:
    command = ["-m", "towncrier", "build", "--config", str(config_file), "--dir", str(project), *args]
    return tools.run_tool(
        REQUIREMENT, command, cwd=project, what=f"towncrier {what}", error=ChangelogError, hint=_HINT
    ).stdout


@dataclass(frozen=True, kw_only=True)
class Towncrier(FragmentNotes):
    """A towncrier project: its news file, its fragments, and towncrier's draft of the next section."""

    config_file: Path
    kind = "towncrier"
    create = "towncrier create"
    hint = _HINT

    @classmethod
    def detect(cls, project: Path, setting: str) -> Towncrier | None:
        found = _config(project)
        if found is None:
            return None
        config_file, config = found
        path = project / str(config.get("filename", "NEWS.rst"))
        fragments = _fragments(_fragment_dir(project, config), str(config.get("template", "")))
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        draft, error = "", ""
        if fragments:
            try:
                today = datetime.date.today().isoformat()
                args = ["--draft", "--version", PLACEHOLDER, "--name", "draft", "--date", today]
                draft = without_heading(_run(project, config_file, "--draft", args))
            except ChangelogError as exc:
                error = str(exc)
        return cls(project, path, fragments, text, draft, error, config_file=config_file)

    def roll(self, version: str, date: str, tag_format: str) -> tuple[Path, ...]:
        """towncrier writes the section and removes the fragments (it stages both with git)."""
        _run(
            self.project,
            self.config_file,
            f"build {version}",
            ["--version", version, "--date", date, "--yes"],
        )
        return self.files
