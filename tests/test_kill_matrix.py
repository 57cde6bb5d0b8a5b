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

import pytest

from tests.support.indexes import secrets_of, write_pypirc
from tests.support.interrupts import COMMAND, assert_invariant, rerun, start, wait_for
from tests.support.leaks import assert_no_secret

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
