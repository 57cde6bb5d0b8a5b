"""The interrupt matrix: SIGINT, SIGTERM and SIGKILL at every named point of a release, then the
same command again. After each: both indexes hold the same two files, the one version is tagged
on the remote exactly once at its release commit, no version is skipped, the tree is clean.

Pause points (releasekit.release.killpoints) stop the real release at an exact moment; nothing is mocked.
`RELEASEKIT_TEST_LOAD=1` runs the whole matrix with both cores kept busy.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import assert_no_secret, write_pypirc
from helpers import BIN
from test_release import index_hashes, secrets_of

COMMAND = ("release", "--bump", "patch", "--yes")
BEFORE = ["bump", "tag", "build", "check", "upload-test", "verify-test", "upload-live", "verify-live", "push"]
INSIDE = [
    "bump:written",
    "bump:committed",
    "tag:created",
    "build:built",
    "upload-test:one",
    "upload-live:one",
    "push:pushed",
    "finish",
]
POINTS = [f"before:{s}" for s in BEFORE] + INSIDE
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}


@pytest.fixture(scope="module")
def cpu_load() -> Iterator[None]:
    """Both cores busy, when asked for: the races a loaded CI runner would show."""
    if not os.environ.get("RELEASEKIT_TEST_LOAD"):
        yield
        return
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)
    ]
    try:
        yield
    finally:
        for proc in burners:
            proc.kill()
            proc.wait()


def start(project, marker: Path | None, points: str, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    if marker is not None:
        env.update(RELEASEKIT_PAUSE_AT=points, RELEASEKIT_PAUSE_FILE=str(marker))
    return subprocess.Popen(
        [str(BIN / "releasekit"), *args], cwd=project.path, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for(marker: Path, proc: subprocess.Popen[str], count: int = 1, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if marker.exists() and len(marker.read_text().splitlines()) >= count:
            return
        if proc.poll() is not None:
            pytest.fail(f"the release ended before the pause point: {proc.communicate()}")
        time.sleep(0.02)
    pytest.fail("the release never reached the pause point")


def rerun(project) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "releasekit"), *COMMAND, "--json"], cwd=project.path, capture_output=True, text=True,
        timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def assert_invariant(project, pair, version: str = "1.4.3") -> None:
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


@pytest.mark.parametrize("signame", list(SIGNALS))
@pytest.mark.parametrize("point", POINTS)
def test_interrupt_at_every_point_then_the_same_command_finishes(
    point, signame, make_project, index_pair, isolated_env, tmp_path, cpu_load
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    marker = tmp_path / "pause"
    proc = start(project, marker, point, *COMMAND)
    wait_for(marker, proc)
    proc.send_signal(SIGNALS[signame])
    if signame != "SIGKILL":
        time.sleep(0.2)
        marker.unlink(missing_ok=True)  # a held signal lands when the critical section ends
    out, err = proc.communicate(timeout=120)
    if signame == "SIGKILL":
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode in (130, 0), err  # 0: the signal came after the last step
        assert "Traceback" not in err, err
    finished = rerun(project)
    assert finished.returncode == 0, finished.stderr
    summary = json.loads(finished.stdout)
    assert summary["version"] == "1.4.3" and summary["complete"], summary
    assert_invariant(project, index_pair)
    assert_no_secret(out + err + finished.stdout + finished.stderr, *secrets_of(index_pair))


def test_second_interrupt_during_rollback_still_rolls_back(make_project, index_pair, isolated_env, tmp_path):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    head = project.git("rev-parse", "HEAD")
    marker = tmp_path / "pause"
    proc = start(project, marker, "before:check,rollback", *COMMAND)
    wait_for(marker, proc)
    proc.send_signal(signal.SIGINT)
    marker.unlink()
    wait_for(marker, proc)  # now inside the rollback
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGTERM)
    marker.unlink()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "rolled back tag v1.4.3, bump to 1.4.3" in err and "Traceback" not in err
    assert project.git("rev-parse", "HEAD") == head and project.git("tag") == ""
    assert project.git("status", "--porcelain") == ""
    finished = rerun(project)
    assert finished.returncode == 0, finished.stderr
    assert_invariant(project, index_pair)


@pytest.mark.parametrize("seed", [20261201, 7, 1234])
def test_random_sigkills_under_load_then_the_same_command(seed, make_project, index_pair, isolated_env):
    """Kill at random moments (seeded, bounded), re-running after each, until the release ends."""
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    rng = random.Random(seed)  # noqa: S311 (kill times, not secrets)
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        for _ in range(6):
            proc = start(project, None, "", *COMMAND)
            time.sleep(rng.uniform(0.3, 2.5))
            proc.kill()
            proc.communicate(timeout=60)
            if proc.returncode == 0:
                break  # it finished first: the re-run below must then change nothing
        finished = rerun(project)
    finally:
        burner.kill()
        burner.wait()
    assert finished.returncode == 0, finished.stderr
    assert_invariant(project, index_pair)
