"""The two local indexes that stand in for TestPyPI and PyPI, and the ways tests reach them."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import _sandbox

from releasekit.testing.localindex import LocalIndex, LocalIndexServer
from tests.support.projects import Project

UPLOADER = "uploader"


@dataclass(frozen=True)
class IndexPair:
    """A test index and a live index, standing in for TestPyPI and PyPI."""

    test: LocalIndexServer
    live: LocalIndexServer


def write_pypirc(home: Path, pair: IndexPair, *, live_password: str | None = None) -> Path:
    """Write ``home/.pypirc`` naming both indexes, as twine reads it; mode 0600 like a real one.

    ``live_password`` replaces the live index's password, to simulate a wrong one.
    """
    return _sandbox.write_pypirc(home, pair.test.index, pair.live.index, live_password=live_password)


def secrets_of(pair: IndexPair) -> tuple[str, str]:
    """Both indexes' upload passwords: what no output may show."""
    return pair.test.index.password, pair.live.index.password


def index_hashes(server: LocalIndexServer, project: Project) -> dict[str, str]:
    """Files the index stores for the project, with their sha256, read from its package dir."""
    return _sandbox.index_hashes(server.index.packages_dir, project.import_name)


def twine_upload(
    index: LocalIndex, wheel: Path, *, password: str, extra: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Upload with the real twine CLI; the credentials travel in the environment only.

    ``--no-color`` is needed: twine forces a terminal and ignores NO_COLOR.
    """
    env = {**os.environ, "TWINE_USERNAME": index.username, "TWINE_PASSWORD": password}
    return subprocess.run(
        [
            sys.executable, "-m", "twine", "--no-color", "upload", "--non-interactive",
            "--disable-progress-bar", "--repository-url", index.url, *extra, str(wheel),
        ],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
