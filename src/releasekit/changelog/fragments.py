"""What the fragment habits (towncrier, scriv) share: the notes come from the tool's own rendering.

Both keep notes as fragment files that the project's tool turns into the next section; releasekit
asks the tool for that rendering when it observes the project (under a placeholder version whose
heading is then dropped), and reads a released version's section back from the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from releasekit.changelog import sections
from releasekit.changelog.source import Notes
from releasekit.errors import ChangelogError

PLACEHOLDER = "0.0.0.dev987654321"  # the rendering's version: its heading is dropped, the body kept
_UNDERLINE = re.compile(r"([=\-~^*+#])\1+")
_ANCHORS = ("<a id=", ".. _")  # scriv's link targets above an entry


def without_heading(rendered: str) -> str:
    """The rendering without its heading (the placeholder's line, an RST underline) and anchors."""
    lines = [ln for ln in rendered.splitlines() if not ln.startswith(_ANCHORS)]
    at = next((i for i, line in enumerate(lines) if PLACEHOLDER in line), None)
    if at is not None:
        drop = 2 if at + 1 < len(lines) and _UNDERLINE.fullmatch(lines[at + 1].strip()) else 1
        lines = lines[:at] + lines[at + drop :]
    return "\n".join(lines).strip()


@dataclass(frozen=True)
class FragmentNotes:
    """A project whose notes are fragments: the file they go to, the fragments, the tool's draft."""

    project: Path
    path: Path
    fragments: tuple[Path, ...]
    text: str = field(repr=False)  # the file as observed ("" before the first release)
    draft: str = ""  # the tool's rendering of the fragments, without its heading
    draft_error: str = ""  # why the draft could not be made
    kind: ClassVar[str]
    create: ClassVar[str]  # the tool's command that adds a fragment
    hint: ClassVar[str]

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.path, *self.fragments)

    def describe(self) -> str:
        where = self.fragments[0].parent.relative_to(self.project).as_posix() if self.fragments else "none"
        return f"{self.kind} ({len(self.fragments)} fragment(s) in {where} -> {self.path.name})"

    def notes_for(self, version: str) -> Notes:
        if self.draft_error:
            raise ChangelogError(self.draft_error, self.hint)
        if self.fragments:
            return Notes(self.path, self.draft, needs_roll=True)
        for section in sections.sections(self.text, rst=sections.is_rst(self.path.name)):
            if section.version == version:
                return Notes(self.path, section.text(self.text).strip(), needs_roll=False)
        return Notes(self.path, "", needs_roll=False)

    def missing_notes(self, version: str) -> ChangelogError:
        return ChangelogError(
            f"no {self.kind} fragments for {version}, and {self.path.name} has no section for it",
            f"add a fragment ({self.create}), or pass --allow-empty-changelog",
        )
