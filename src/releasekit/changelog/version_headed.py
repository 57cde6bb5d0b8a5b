"""Changelogs headed by version, with an "unreleased" marker where the next release's notes go.

What real projects write, all of it read and rolled as that project's history shows:
`## 1.3.1 (unreleased)` (Markdown), zest.releaser's `9.9.2 (unreleased)` over a line of hyphens,
Pallets' `Version 2.3.0` over hyphens with an `Unreleased` line that becomes `Released
2024-05-01`, `## [1.3.1] - Unreleased`, and `**unreleased**` under the heading. A release rolls
the marked section to this version and today's date; everything else stays byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from releasekit.changelog import sections
from releasekit.changelog.sections import ISO_DATE, UNRELEASED, Section
from releasekit.changelog.source import Notes
from releasekit.errors import ChangelogError

# A line that only dates a release: "Released 2024-04-28", "**released 2024-05-01**", "(2024-05-01)".
_DATE_LINE = re.compile(r"[*_(]*\s*(?:released\s*(?:on\s*)?)?\d{4}-\d{2}-\d{2}\s*[*_)]*", re.I)
# zest.releaser's placeholder for a section nobody wrote in yet.
_PLACEHOLDERS = {"- nothing changed yet.", "* nothing changed yet.", "nothing changed yet."}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ChangelogError(f"{path.name} cannot be read: {exc}") from exc


def _marker_line(text: str, section: Section) -> tuple[int, int, str] | None:
    """(start, end, line) of an `Unreleased` / `**unreleased**` line opening the section's body."""
    body = text[section.body : section.end]
    first = next((m for m in re.finditer(r"^.*$", body, re.M) if m.group().strip()), None)
    if first is None or first.group().strip().strip("*_()").lower() != "unreleased":
        return None
    return section.body + first.start(), section.body + first.end(), first.group()


@dataclass(frozen=True)
class VersionHeaded:
    """A changelog whose sections are headed by versions (Markdown or reStructuredText)."""

    path: Path
    text: str = field(repr=False)
    kind = "version-headed"

    @classmethod
    def detect(cls, project: Path, setting: str) -> VersionHeaded | None:
        path = project / setting
        if not path.is_file():
            return None
        found = cls(path, _read(path))
        return found if found.releases() else None

    @property
    def rst(self) -> bool:
        return sections.is_rst(self.path.name)

    def releases(self, text: str | None = None) -> list[Section]:
        """The sections that name a version, at the level the newest one uses."""
        named = [s for s in sections.sections(self.text if text is None else text, rst=self.rst) if s.version]
        return [s for s in named if s.level == named[0].level] if named else []

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.path,)

    def describe(self) -> str:
        return f"{self.path.name} (version-headed sections)"

    def _unreleased(self, text: str, section: Section) -> bool:
        return bool(UNRELEASED.search(section.title)) or _marker_line(text, section) is not None

    def _pending(self, text: str) -> Section | None:
        return next((s for s in self.releases(text) if self._unreleased(text, s)), None)

    def _notes(self, text: str, section: Section) -> str:
        """The section's body without its `Unreleased` or `Released 2024-04-28` line."""
        marker = _marker_line(text, section)
        body = text[marker[1] if marker else section.body : section.end].strip()
        dated = _marker_line_of_release(text, section)
        if marker is None and dated is not None and body.startswith(dated.strip()):
            body = body[len(dated.strip()) :].strip()
        return "" if body.lower() in _PLACEHOLDERS else body

    def notes_for(self, version: str) -> Notes:
        released = next(
            (s for s in self.releases() if s.version == version and not self._unreleased(self.text, s)), None
        )
        if released is not None:
            return Notes(self.path, self._notes(self.text, released), needs_roll=False)
        pending = self._pending(self.text)
        if pending is not None:
            return Notes(self.path, self._notes(self.text, pending), needs_roll=True)
        return Notes(self.path, "", needs_roll=False)

    def missing_notes(self, version: str) -> ChangelogError:
        pending = self._pending(self.text)
        where = f"under '{pending.title}'" if pending else f"in a section headed '{version} (unreleased)'"
        return ChangelogError(
            f"{self.path.name} has no notes for {version}",
            f"write what changed {where}, or pass --allow-empty-changelog",
        )

    def roll(self, version: str, date: str, tag_format: str) -> tuple[Path, ...]:
        """Name the marked section `version`, dated today the way the released ones are dated."""
        text = _read(self.path)
        pending = self._pending(text)
        if pending is None:
            raise ChangelogError(f"{self.path.name} has no unreleased section to release as {version}")
        previous = next((s for s in self.releases(text) if s.start > pending.start), None)
        edits = self._title_edits(text, pending, version, date) + self._marker_edits(
            text, pending, previous, date
        )
        for start, end, new in sorted(edits, reverse=True):
            text = text[:start] + new + text[end:]
        return (sections.write_through(self.path, text),)

    def _title_edits(
        self, text: str, section: Section, version: str, date: str
    ) -> list[tuple[int, int, str]]:
        title = section.title
        span = sections.version_span(title)
        if span and sections.version_in(title) != version:
            title = title[: span[0]] + version + title[span[1] :]
        title = UNRELEASED.sub(date, title, count=1)
        edits = [(section.title_start, section.title_end, title)]
        if section.underline is not None and len(title) != len(section.title):
            start, end = section.underline
            exact = end - start == len(section.title)  # an underline as long as its title stays so
            edits.append((start, end, text[start] * (len(title) if exact else max(len(title), end - start))))
        return edits

    def _marker_edits(
        self, text: str, section: Section, previous: Section | None, date: str
    ) -> list[tuple[int, int, str]]:
        """The `Unreleased` line becomes the line the previous release has there, with today's date."""
        marker = _marker_line(text, section)
        if marker is None:
            return []
        start, end, line = marker
        shown = _marker_line_of_release(text, previous)
        if shown is not None:
            return [(start, end, ISO_DATE.sub(date, shown, count=1))]
        word = "Released" if line.strip().strip("*_()")[0].isupper() else "released"
        return [(start, end, line.replace(line.strip().strip("*_()"), f"{word} {date}", 1))]


def _marker_line_of_release(text: str, section: Section | None) -> str | None:
    """The first body line of a released section when it carries a date (`Released 2024-04-28`)."""
    if section is None:
        return None
    body = text[section.body : section.end]
    first = next((ln for ln in body.splitlines() if ln.strip()), "")
    return first if _DATE_LINE.fullmatch(first.strip()) else None
