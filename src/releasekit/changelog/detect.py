"""Which habit a project's release notes follow: the first detector that recognises it wins.

A new habit (towncrier, scriv, version-headed sections) is one class in its own module and one
line in `_DETECTORS`; when nothing matches, the release goes on without notes and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from releasekit.changelog.keep_a_changelog import KeepAChangelog
from releasekit.changelog.none import NoChangelog
from releasekit.changelog.scriv import Scriv
from releasekit.changelog.source import ChangelogSource
from releasekit.changelog.towncrier import Towncrier
from releasekit.changelog.version_headed import VersionHeaded

_DETECTORS: tuple[Callable[[Path, str], ChangelogSource | None], ...] = (
    Towncrier.detect,
    Scriv.detect,
    KeepAChangelog.detect,
    VersionHeaded.detect,
)


def detect(project: Path, setting: str) -> ChangelogSource:
    """The project's changelog habit; `setting` is the configured file name ("" switches it off)."""
    if setting:
        for detector in _DETECTORS:
            found = detector(project, setting)
            if found is not None:
                return found
    return NoChangelog(setting, unread=bool(setting) and (project / setting).is_file())
