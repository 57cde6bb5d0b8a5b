"""How the library tells the world what it is doing, without printing.

The pipeline reports through a Reporter; the task layer supplies one that writes to a
terminal. Every text passes through `redact.scrub` on the way out.
"""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    def step(self, name: str, outcome: str, detail: str = "", seconds: float | None = None) -> None:
        """A pipeline step finished: outcome is done, skipped, would, or failed."""

    def note(self, text: str) -> None:
        """A line of the plan or of progress."""

    def warn(self, text: str) -> None:
        """Something the user should fix, that does not stop the release."""
