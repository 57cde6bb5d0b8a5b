"""towncrier: release notes written as news fragments, turned into the section by towncrier itself.

A project with `[tool.towncrier]` (pyproject.toml or towncrier.toml) is released the way its
maintainers release it: `towncrier build --version X --date D --yes` renders the fragments into
the news file and removes them, and both land in the release commit. towncrier runs from a
cached environment of its own (`dists.tools`), never reimplemented. The plan's notes are
towncrier's own draft (`--draft`), made when the release observes the project.
"""

from __future__ import annotations

import datetime
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from releasekit.changelog import sections
from releasekit.changelog.source import Notes
from releasekit.dists import tools
from releasekit.errors import ChangelogError

REQUIREMENT = "towncrier>=23.6"
_PLACEHOLDER = "0.0.0.dev987654321"  # the draft's version: its heading is dropped, only the body is kept
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


def _draft_body(output: str) -> str:
    """The draft without its heading (the line naming the placeholder version, and an RST underline)."""
    lines = output.splitlines()
    at = next((i for i, line in enumerate(lines) if _PLACEHOLDER in line), None)
    if at is not None:
        drop = 2 if at + 1 < len(lines) and re.fullmatch(r"([=\-~^*+#])\1+", lines[at + 1].strip()) else 1
        lines = lines[:at] + lines[at + drop :]
    return "\n".join(lines).strip()


@dataclass(frozen=True)
class Towncrier:
    """A towncrier project: its news file, its fragments, and towncrier's draft of the next section."""

    project: Path
    config_file: Path
    path: Path
    fragments: tuple[Path, ...]
    text: str = field(repr=False)  # the news file as observed ("" before the first release)
    draft: str = ""  # towncrier's rendering of the fragments, without its heading
    draft_error: str = ""  # why the draft could not be made
    kind = "towncrier"

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
                args = ["--draft", "--version", _PLACEHOLDER, "--name", "draft", "--date", today]
                draft = _draft_body(_run(project, config_file, "--draft", args))
            except ChangelogError as exc:
                error = str(exc)
        return cls(project, config_file, path, fragments, text, draft, error)

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.path, *self.fragments)

    def describe(self) -> str:
        where = self.fragments[0].parent.relative_to(self.project).as_posix() if self.fragments else "none"
        return f"towncrier ({len(self.fragments)} fragment(s) in {where} -> {self.path.name})"

    def notes_for(self, version: str) -> Notes:
        if self.draft_error:
            raise ChangelogError(self.draft_error, _HINT)
        if self.fragments:
            return Notes(self.path, self.draft, needs_roll=True)
        rst = sections.is_rst(self.path.name)
        for section in sections.sections(self.text, rst=rst):
            if section.version == version:
                return Notes(self.path, section.text(self.text).strip(), needs_roll=False)
        return Notes(self.path, "", needs_roll=False)

    def missing_notes(self, version: str) -> ChangelogError:
        return ChangelogError(
            f"no towncrier news fragments for {version}, and {self.path.name} has no section for it",
            "add a fragment (towncrier create), or pass --allow-empty-changelog",
        )

    def roll(self, version: str, date: str, tag_format: str) -> tuple[Path, ...]:
        """towncrier writes the section and removes the fragments (it stages both with git)."""
        _run(
            self.project,
            self.config_file,
            f"build {version}",
            ["--version", version, "--date", date, "--yes"],
        )
        return self.files
