"""The sections of a Markdown or reStructuredText changelog, and the version each one names.

Real changelogs head each release with its version in many ways — `## 1.3.1 (unreleased)`,
`## [1.3.1] - 2024-05-01`, `Version 2.3.0` over a line of dashes, `9.9.2 (unreleased)` over one
of hyphens — so a section is found by its heading's syntax, and its version by the first PEP 440
version in the heading. Only positions are returned: every edit leaves the rest of the file byte
for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

_MD_HEADING = re.compile(r"^(?P<marks>#{1,6})[ \t]+(?P<title>.*?)[ \t]*$", re.M)
# A title line followed by an underline of one punctuation character, at least as long (RST).
_RST_HEADING = re.compile(r"^(?P<title>[^\s].*?)[ \t]*\n(?P<line>([=\-~^*+#'\"`:.])\3{2,})[ \t]*$", re.M)
_VERSION = re.compile(
    r"(?<![\w.])v?(?P<v>\d+(?:\.\d+)+(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)\d*)?"
    r"(?:[-_.]?(?:post|dev)\d*)?)(?![\w.]*\d)",
    re.I,
)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
UNRELEASED = re.compile(r"unreleased", re.I)


@dataclass(frozen=True)
class Section:
    """One heading and its body: `title` spans [title_start, title_end); the body runs to `end`."""

    title: str
    level: int
    start: int  # the heading's first character
    title_start: int
    title_end: int
    underline: tuple[int, int] | None  # RST: the underline's span
    body: int  # the body's first character
    end: int

    @property
    def version(self) -> str | None:
        """The canonical PEP 440 version the heading names, if it names one."""
        return version_in(self.title)

    def text(self, whole: str) -> str:
        return whole[self.body : self.end]


def version_in(title: str) -> str | None:
    span = version_span(title)
    return str(Version(title[span[0] : span[1]])) if span else None


def version_span(title: str) -> tuple[int, int] | None:
    """Where the first PEP 440 version in a heading is (without a leading v)."""
    for match in _VERSION.finditer(title):
        try:
            Version(match.group("v"))
        except InvalidVersion:
            continue
        return match.start("v"), match.end("v")
    return None


def sections(text: str, *, rst: bool) -> list[Section]:
    """Every section, in file order; a section ends where the next one of its level or higher begins."""
    found: list[tuple[int, int, int, str, int, tuple[int, int] | None]] = []
    if rst:
        levels: list[str] = []
        for m in _RST_HEADING.finditer(text):
            if len(m.group("line")) < len(m.group("title")):
                continue
            char = m.group("line")[0]
            if char not in levels:
                levels.append(char)
            found.append((m.start(), m.start("title"), m.end("title"), m.group("title"), levels.index(char),
                          (m.start("line"), m.end("line"))))  # fmt: skip
    else:
        for m in _MD_HEADING.finditer(text):
            found.append(
                (m.start(), m.start("title"), m.end("title"), m.group("title"), len(m.group("marks")), None)
            )
    out = []
    for i, (start, t0, t1, title, level, underline) in enumerate(found):
        end = next((f[0] for f in found[i + 1 :] if f[4] <= level), len(text))
        body = (underline[1] if underline else t1) + 1
        out.append(Section(title, level, start, t0, t1, underline, min(body, end), end))
    return out


def is_rst(name: str) -> bool:
    return name.lower().endswith((".rst", ".txt")) or "." not in name


def write_through(path: Path, text: str) -> Path:
    """Replace the file's text whole (a temporary file renamed over it); a symlink (CHANGELOG.md
    pointing at the docs' release notes) is written through, never replaced by a copy. Returns the
    file written, which is what the release commit holds."""
    target = path.resolve()
    tmp = target.with_name(target.name + ".releasekit-tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target
