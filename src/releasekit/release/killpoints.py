"""Named pause points, so the interrupt tests can stop a real release at an exact moment.

With RELEASEKIT_PAUSE_AT set to a comma-separated list of point names, reaching one appends its
name to the file RELEASEKIT_PAUSE_FILE and waits (up to a minute) until that file is deleted.
Unset, as in every real run, a pause point costs one dictionary look-up.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

_MAX_WAIT = 60.0


def pause(point: str) -> None:
    wanted = os.environ.get("RELEASEKIT_PAUSE_AT")
    if not wanted or point not in wanted.split(","):
        return
    marker = Path(os.environ.get("RELEASEKIT_PAUSE_FILE", ".releasekit-pause"))
    with marker.open("a", encoding="utf-8") as fh:
        fh.write(point + "\n")
    deadline = time.monotonic() + _MAX_WAIT
    while marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
