"""Critical sections: an act and the journal line that records it happen together or not at all.

A Ctrl-C or SIGTERM that arrives while git writes the bump commit or the tag, or while the journal
records it, is held until the section ends and then raised as KeyboardInterrupt. Rollback runs in
one too, so a second Ctrl-C cannot stop it half-way. SIGKILL cannot be held: for that, intent is
journaled before each act, and the next run reads it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_HELD = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def critical(*, reraise: bool = True) -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the block; raise KeyboardInterrupt after it if one came.

    `reraise=False` drops the held signals: for rollback, which is itself the answer to one.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        pending.append(signum)

    previous = {signum: signal.signal(signum, hold) for signum in _HELD}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if pending and reraise:
            raise KeyboardInterrupt
