"""scriv: release notes written as fragments in `changelog.d/`, collected by scriv itself.

A project with a scriv configuration (`[tool.scriv]` in pyproject.toml, `[scriv]` in setup.cfg or
tox.ini, or `changelog.d/scriv.ini`) is released as its maintainers release it: `scriv collect
--version X` writes the entry and deletes the fragments, and both land in the release commit.
scriv runs from a cached environment of its own (`dists.tools`), never reimplemented. The plan's
notes are scriv's own rendering, collected into a scratch copy (`--keep`) when the release
observes the project; scriv has no draft mode.
"""

from __future__ import annotations

import configparser
import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from releasekit.changelog.fragments import PLACEHOLDER, FragmentNotes, without_heading
from releasekit.dists import tools
from releasekit.errors import ChangelogError

REQUIREMENT = "scriv>=1.5"
_HINT = "check the scriv configuration (`scriv collect --keep` in a scratch copy shows what it would write)"
_CONFIG_FILES = ("pyproject.toml", "setup.cfg", "tox.ini")


def _settings(project: Path) -> dict[str, str] | None:
    """scriv's settings from the first place that has them; None: the project does not use scriv."""
    pyproject = project / "pyproject.toml"
    if pyproject.is_file():
        try:
            table = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("scriv")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            raise ChangelogError(f"pyproject.toml cannot be read: {exc}", "fix pyproject.toml") from exc
        if isinstance(table, dict):
            return {str(k): str(v) for k, v in table.items()}
    for path in (project / "setup.cfg", project / "tox.ini", project / "changelog.d" / "scriv.ini"):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError) as exc:
            raise ChangelogError(f"{path.name} cannot be read: {exc}", f"fix {path.name}") from exc
        if parser.has_section("scriv"):
            return dict(parser.items("scriv"))
    return None


def _fragments(directory: Path) -> tuple[Path, ...]:
    """scriv's fragments: the .rst and .md files of the fragment directory, its README excepted."""
    if not directory.is_dir():
        return ()
    found = sorted(directory.glob("*"))
    return tuple(
        p for p in found if p.is_file() and p.suffix in (".rst", ".md") and p.stem.upper() != "README"
    )


def _collect(project: Path, version: str, *extra: str) -> None:
    tools.run_tool(
        REQUIREMENT,
        ["-m", "scriv", "collect", "--version", version, *extra],
        cwd=project,
        what=f"scriv collect {version}",
        error=ChangelogError,
        hint=_HINT,
    )


def _inserted(before: str, after: str) -> str:
    """What scriv added to the changelog: after minus the common head and tail."""
    head = 0
    while head < min(len(before), len(after)) and before[head] == after[head]:
        head += 1
    tail = 0
    while tail < min(len(before), len(after)) - head and before[-1 - tail] == after[-1 - tail]:
        tail += 1
    return after[head : len(after) - tail]


@dataclass(frozen=True)
class Scriv(FragmentNotes):
    """A scriv project: its changelog, its fragments, and scriv's rendering of the next entry."""

    kind = "scriv"
    create = "scriv create"
    hint = _HINT

    @classmethod
    def detect(cls, project: Path, setting: str) -> Scriv | None:
        settings = _settings(project)
        if settings is None:
            return None
        directory = project / settings.get("fragment_directory", "changelog.d")
        fmt = settings.get("format", "rst")
        path = project / settings.get("changelog", f"CHANGELOG.{fmt}").replace("${config:format}", fmt)
        fragments = _fragments(directory)
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        draft, error = "", ""
        if fragments:
            try:
                draft = _draft(project, directory, path, text)
            except ChangelogError as exc:
                error = str(exc)
        return cls(project, path, fragments, text, draft, error)

    def roll(self, version: str, date: str, tag_format: str) -> tuple[Path, ...]:
        """scriv writes the entry (dated today, its own way) and deletes the fragments."""
        _collect(self.project, version)
        return self.files


def _draft(project: Path, directory: Path, changelog: Path, text: str) -> str:
    """scriv's entry for the fragments, collected in a scratch copy of what scriv reads."""
    with tempfile.TemporaryDirectory(prefix="releasekit-scriv-") as scratch:
        copy = Path(scratch)
        for name in _CONFIG_FILES:
            if (project / name).is_file():
                shutil.copy2(project / name, copy / name)
        shutil.copytree(directory, copy / directory.relative_to(project), symlinks=True)
        target = copy / changelog.relative_to(project)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        _collect(copy, PLACEHOLDER, "--keep")
        return without_heading(_inserted(text, target.read_text(encoding="utf-8")))
