"""Terminal output for the task layer: one line per step, progress to stderr.

Colour only on a terminal and never with NO_COLOR; every line is scrubbed of secrets.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from . import redact

_MARKS = {"done": ("✓", "32"), "skipped": ("·", "2"), "failed": ("✗", "31"), "would": ("→", "36")}


def _colour_enabled(stream: TextIO) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR")


class ConsoleReporter:
    """The Reporter the tasks use: progress and plan to stderr."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.colour = _colour_enabled(self.stream)
        self.quiet = quiet

    def _paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def _write(self, text: str) -> None:
        if not self.quiet:
            print(redact.scrub(text), file=self.stream, flush=True)

    def step(self, name: str, outcome: str, detail: str = "", seconds: float | None = None) -> None:
        mark, code = _MARKS.get(outcome, ("?", "0"))
        timing = f" ({seconds:.1f}s)" if seconds is not None else ""
        label = f"{outcome} {name}" if outcome in ("would", "skipped") else name
        self._write(f"{self._paint(mark, code)} {label:<20} {detail}{timing}".rstrip())

    def note(self, text: str) -> None:
        self._write(text)

    def warn(self, text: str) -> None:
        self._write(self._paint("warning: ", "33") + text)

    def error(self, text: str) -> None:
        print(redact.scrub(self._paint("error: ", "31") + text), file=self.stream, flush=True)
