"""Ctrl-C and SIGTERM during a release: roll back before uploads, exit 130, re-run finishes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.indexes import write_pypirc
from tests.support.interrupts import wait_for_tag
from tests.support.leaks import assert_no_secret
from tests.support.projects import use_build_backend


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_during_build_rolls_back(signum, make_project, index_pair, isolated_env):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    use_build_backend(project.path, "slow_backend")
    head = project.git("rev-parse", "HEAD")
    releasekit = Path(sys.executable).parent / "releasekit"
    proc = subprocess.Popen(
        [str(releasekit), "release", "--bump", "patch", "--test"],
        cwd=project.path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for_tag(project.path, "v1.4.3", proc)
    time.sleep(1.0)  # well inside the slow build
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "nothing was published" in err and "rolled back" in err
    assert "Traceback" not in err
    assert project.git("rev-parse", "HEAD") == head
    assert project.git("tag", "--list") == ""
    assert project.git("status", "--porcelain") == ""
    assert "current_version = 1.4.2" in (project.path / "setup.cfg").read_text()
    assert_no_secret(out + err, index_pair.test.index.password, index_pair.live.index.password)
