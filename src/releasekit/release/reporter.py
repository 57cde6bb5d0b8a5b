"""How the library tells the world what it is doing, without printing.

The pipeline reports through a Reporter; the task layer supplies one that writes to a
terminal. Every text passes through `redact.scrub` on the way out.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

# What `Reporter.progress` opens: a context whose value is `advance(nbytes)`. The indexes take
# a callable of this shape (`listing.Progress`) rather than a Reporter, so they stay below the
# release layer.
Advance = Callable[[int], None]


class Reporter(Protocol):
    def step(self, name: str, outcome: str, detail: str = "", seconds: float | None = None) -> None:
        """A pipeline step finished: outcome is done, skipped, would, or failed."""

    def note(self, text: str) -> None:
        """A line of the plan or of progress."""

    def warn(self, text: str) -> None:
        """Something the user should fix, that does not stop the release."""

    def progress(self, what: str, total: int | None = None) -> AbstractContextManager[Advance]:
        """Long work under way, shown while it lasts: `with progress(what, total) as advance`.

        `what` says what and where ("uploading x.whl to testpypi"); `total` is its size in
        bytes, and the work calls `advance(nbytes)` as bytes move; with no total (a build)
        only the time it has taken is shown. Progress is for a person watching: a reporter
        may show nothing at all, and nothing of it is a record; the step's own line is.
        """
