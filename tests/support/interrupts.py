"""A release run as a separate process, stopped at a named point, and the state it must end in.

Pause points (releasekit.release.killpoints) hold the real release at an exact moment: `start` runs
it with RELEASEKIT_PAUSE_AT, `wait_for` waits until it is held there, the test signals it, and
`rerun` finishes with the same command. Nothing is mocked.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli import BIN
from tests.support.indexes import IndexPair, index_hashes
from tests.support.projects import Project

COMMAND = ("release", "--bump", "patch", "--yes")


def start(project: Project, marker: Path | None, points: str, *args: str) -> subprocess.Popen[str]:
    """Start `releasekit ARGS` in the project; with a marker file, it pauses at each of `points`."""
    env = dict(os.environ)
    if marker is not None:
        env.update(RELEASEKIT_PAUSE_AT=points, RELEASEKIT_PAUSE_FILE=str(marker))
    return subprocess.Popen(
        [str(BIN / "releasekit"), *args], cwd=project.path, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for(marker: Path, proc: subprocess.Popen[str], count: int = 1, limit: float = 120) -> None:
    """Wait until the release has reached `count` pause points; fail if it ends first."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if marker.exists() and len(marker.read_text().splitlines()) >= count:
            return
        if proc.poll() is not None:
            pytest.fail(f"the release ended before the pause point: {proc.communicate()}")
        time.sleep(0.02)
    pytest.fail("the release never reached the pause point")


def rerun(project: Project) -> subprocess.CompletedProcess[str]:
    """The same command again, to the end, with a JSON summary."""
    return subprocess.run(
        [str(BIN / "releasekit"), *COMMAND, "--json"], cwd=project.path, capture_output=True, text=True,
        timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def assert_invariant(project: Project, pair: IndexPair, version: str = "1.4.3") -> None:
    """One version, identical bytes on both indexes, tagged once on the remote at its commit."""
    test_files, live_files = index_hashes(pair.test, project), index_hashes(pair.live, project)
    assert len(live_files) == 2 and live_files == test_files, (test_files, live_files)
    assert all(f"-{version}" in name for name in live_files), live_files
    remote_tags = project.git("ls-remote", "--tags", "origin").splitlines()
    names = sorted({line.split("refs/tags/")[1].removesuffix("^{}") for line in remote_tags})
    assert names == [f"v{version}"], names
    release_commit = project.git("rev-parse", f"v{version}^{{commit}}")
    assert project.git("log", "-1", "--format=%s", release_commit) == f"Release {version}"
    subjects = project.git("log", "--format=%s").splitlines()
    assert subjects.count(f"Release {version}") == 1 and not any("1.4.4" in s for s in subjects), subjects
    assert project.git("status", "--porcelain", "--untracked-files=all") == ""
    assert not any(project.path.glob("*-1.4.*")), "a build's staging directory was left behind"


def wait_for_tag(project_path: Path, tag: str, proc: subprocess.Popen[str], limit: float = 120) -> None:
    """Wait until the running release has created `tag`; fail if it ends first."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        probe = subprocess.run(
            ["git", "rev-parse", "-q", "--verify", tag], cwd=project_path, capture_output=True
        )
        if probe.returncode == 0:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    pytest.fail("the release never reached its tag step")
