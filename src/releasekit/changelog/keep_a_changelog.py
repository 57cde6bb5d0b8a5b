"""Keep a Changelog: the release notes of a version, and the edit that releases them.

The release commit turns "## [Unreleased]" into "## [X.Y.Z] - YYYY-MM-DD", opens a fresh empty
Unreleased section above it, and moves the compare links at the bottom along when the file has
them. Everything else in the file is left byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from releasekit.changelog import sections
from releasekit.changelog.source import Notes
from releasekit.errors import ChangelogError

_HEADING = re.compile(r"^## \[?(?P<name>[^\]\s]+)\]?(?P<rest>.*)$", re.MULTILINE)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


_UNRELEASED_LINK = re.compile(
    r"^\[unreleased\]:\s*(?P<base>\S+/compare/)(?P<prev>\S+?)\.\.\.HEAD\s*$", re.I | re.M
)


__all__ = ["ChangelogError", "KeepAChangelog", "Notes", "notes_for", "read", "roll"]


@dataclass(frozen=True)
class KeepAChangelog:
    """A Keep a Changelog file (keepachangelog.com): `## [Unreleased]`, then `## [X.Y.Z] - date`."""

    path: Path
    text: str = field(repr=False)  # as read when the release observed the project
    kind = "keep-a-changelog"

    @classmethod
    def detect(cls, project: Path, setting: str) -> KeepAChangelog | None:
        """Keep a Changelog's own marks: `## [Unreleased]` alone, or `## [X.Y.Z] - date` headings.

        A heading that carries "unreleased" beside a version (`## [1.3.1] - Unreleased`) is the
        version-headed habit, rolled differently.
        """
        path = project / setting
        if not path.is_file():
            return None
        text = read(path)
        heads = [(m.group("name").lower(), m.group("rest").strip()) for m in _HEADING.finditer(text)]
        if any("unreleased" in rest.lower() for _, rest in heads):
            return None
        dated = any(rest.startswith("- ") and _DATE.search(rest) for _, rest in heads)
        return cls(path, text) if ("unreleased", "") in heads or dated else None

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.path,)

    def describe(self) -> str:
        return f"{self.path.name} (Keep a Changelog)"

    def notes_for(self, version: str) -> Notes:
        return notes_for(self.path, version, self.text)

    def missing_notes(self, version: str) -> ChangelogError:
        return ChangelogError(
            f"{self.path.name} has no notes for {version} (its Unreleased section is empty)",
            "write what changed under '## [Unreleased]', or pass --allow-empty-changelog",
        )

    def roll(self, version: str, date: str, tag_format: str) -> tuple[Path, ...]:
        return (roll(self.path, version, date, tag_format),)


def _sections(text: str) -> list[tuple[str, int, int, int]]:
    """(name, heading start, body start, body end) for each "## " section."""
    found = list(_HEADING.finditer(text))
    out = []
    for index, match in enumerate(found):
        end = found[index + 1].start() if index + 1 < len(found) else len(text)
        body_end = end
        links = re.search(r"^\[[^\]]+\]:\s*\S+\s*$", text[match.end() : end], re.M)
        if links and index + 1 == len(found):
            body_end = match.end() + links.start()  # link references close the last section
        out.append((match.group("name"), match.start(), match.end(), body_end))
    return out


def read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ChangelogError(f"{path.name} cannot be read: {exc}") from exc


def notes_for(path: Path, version: str, text: str | None = None) -> Notes:
    """The notes of `version`: its own section if it has one, else the Unreleased section.

    `text` is the file's content when the caller has read it already (the observed state).
    """
    text = read(path) if text is None else text
    sections = {name.lower(): (start, body, end) for name, start, body, end in _sections(text)}
    if version.lower() in sections:
        _, body, end = sections[version.lower()]
        return Notes(path, text[body:end].strip(), needs_roll=False)
    if "unreleased" not in sections:
        raise ChangelogError(
            f"{path.name} has no '## [Unreleased]' section and none for {version}",
            "add '## [Unreleased]' with this release's changes (keepachangelog.com)",
        )
    _, body, end = sections["unreleased"]
    return Notes(path, _strip_empty_headings(text[body:end]), needs_roll=True)


def _strip_empty_headings(body: str) -> str:
    """An Unreleased section holding only "### Added" headings has no notes."""
    lines = [ln for ln in body.strip().splitlines() if ln.strip()]
    return body.strip() if any(not ln.startswith("###") for ln in lines) else ""


def roll(path: Path, version: str, date: str, tag_format: str) -> Path:
    """Release the Unreleased section as `version` and open a fresh one; links follow."""
    text = path.read_text(encoding="utf-8")
    match = next((m for m in _HEADING.finditer(text) if m.group("name").lower() == "unreleased"), None)
    if match is None:
        raise ChangelogError(f"{path.name} has no '## [Unreleased]' section")
    heading = f"## [Unreleased]\n\n## [{version}] - {date}"
    text = text[: match.start()] + heading + text[match.end() :]
    tag = tag_format.format(version=version)
    link = _UNRELEASED_LINK.search(text)
    if link:
        base, prev = link.group("base"), link.group("prev")
        replacement = f"[Unreleased]: {base}{tag}...HEAD\n[{version}]: {base}{prev}...{tag}"
        text = text[: link.start()] + replacement + text[link.end() :]
    return sections.write_through(path, text)
