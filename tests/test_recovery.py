"""Interrupted and competing releases: stop cleanly, and a plain re-run finishes the job."""

from __future__ import annotations

import json
import signal
import subprocess
from typing import Any

import pytest

from tests.support.cli import BIN, run_cli
from tests.support.indexes import index_hashes, secrets_of, write_pypirc
from tests.support.interrupts import wait_for_tag
from tests.support.leaks import assert_no_secret
from tests.support.projects import use_build_backend

STEPS = ["bump", "tag", "build", "check", "upload-test", "verify-test", "upload-live", "verify-live"]


def _start(project, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "releasekit"), *args], cwd=project.path, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.parametrize("step", STEPS)
def test_sigint_after_each_step_then_rerun_finishes(step, make_project, index_pair, isolated_env):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    proc = _start(project, "release", "--bump", "patch", "--yes")
    seen = []
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line)
        if line.startswith(f"✓ {step} "):
            proc.send_signal(signal.SIGINT)
            break
    out, err = proc.communicate(timeout=120)
    first = "".join(seen) + err
    assert proc.returncode in (0, 130), first  # 0: it finished before the signal landed
    assert "Traceback" not in first

    rerun = run_installed_json(project)
    assert rerun["version"] == "1.4.3" and rerun["complete"], rerun
    test_files, live_files = index_hashes(index_pair.test, project), index_hashes(index_pair.live, project)
    assert len(test_files) == 2 and live_files == test_files  # one version, identical bytes everywhere
    assert "refs/tags/v1.4.3" in project.git("ls-remote", "--tags", "origin")
    assert project.git("log", "--format=%s").splitlines()[0] == "Release 1.4.3"
    assert project.git("status", "--porcelain") == ""
    assert_no_secret(first + out, *secrets_of(index_pair))


def run_installed_json(project) -> dict[str, Any]:
    proc = subprocess.run(
        [str(BIN / "releasekit"), "release", "--bump", "patch", "--yes", "--json"], cwd=project.path,
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary: dict[str, Any] = json.loads(proc.stdout)
    return summary


def test_two_concurrent_releases(make_project, index_pair, isolated_env):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    use_build_backend(project.path, "slow_backend")
    first = _start(project, "release", "--bump", "patch", "--test")
    try:
        wait_for_tag(project.path, "v1.4.3", first)
        second = _start(project, "release", "--bump", "patch", "--test")
        _, err = second.communicate(timeout=60)
        assert second.returncode == 1
        assert f"another release of this repository is running (pid {first.pid}" in err
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    assert first.returncode == 130
    assert project.git("tag") == ""  # the first rolled back; the second changed nothing
    assert project.git("status", "--porcelain") == ""


def test_abort_undoes_an_unpublished_release_and_refuses_a_published_one(
    make_project, index_pair, isolated_env, capsys
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    use_build_backend(project.path, "slow_backend")
    before = project.git("rev-parse", "HEAD")
    killed = _start(project, "release", "--bump", "patch", "--test")
    wait_for_tag(project.path, "v1.4.3", killed)
    killed.kill()  # no chance to roll back: the bump commit and the tag stay
    killed.communicate(timeout=60)
    assert project.git("tag") == "v1.4.3"
    (project.path / ".git" / "releasekit" / "lock").unlink()  # what a killed run leaves; stale anyway

    aborted = run_cli(project.path, capsys, "release", "--abort")
    assert aborted.code == 0, aborted.err
    assert "deleted tag v1.4.3" in aborted.err and "removed the release commit" in aborted.err
    assert project.git("rev-parse", "HEAD") == before
    assert project.git("tag") == ""
    assert "current_version = 1.4.2" in (project.path / "setup.cfg").read_text()

    published = make_project()
    assert run_cli(published.path, capsys, "release", "--test").code == 0
    refused = run_cli(published.path, capsys, "release", "--abort")
    assert refused.code == 1
    assert "1.4.2 is published on testpypi" in refused.err and "cannot be undone" in refused.err
    assert published.git("tag") == "v1.4.2"


def test_update_hook_rejecting_the_tag_pushes_nothing_then_rerun(
    make_project, index_pair, isolated_env, capsys
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    hook = project.remote / "hooks" / "update"
    hook.write_text('#!/bin/sh\ncase "$1" in refs/tags/*) echo "tags are protected" >&2; exit 1;; esac\n')
    hook.chmod(0o755)
    main_before = project.git("ls-remote", "origin", "refs/heads/main")
    rejected = run_cli(project.path, capsys, "release", "--bump", "patch", "--yes")
    assert rejected.code == 1 and "refused" in rejected.err
    assert "Error lines received" not in rejected.text  # git's refusal comes through our funnel only
    assert len([ln for ln in rejected.err.splitlines() if ln.startswith("error:")]) == 1
    # Atomic: the branch did not land without its tag.
    assert project.git("ls-remote", "origin", "refs/heads/main") == main_before
    assert "v1.4.3" not in project.git("ls-remote", "--tags", "origin")
    hook.unlink()
    finished = run_cli(project.path, capsys, "release", "--yes", "--json")
    assert finished.code == 0, finished.err
    assert all(set(d["files"].values()) == {"present"} for d in finished.summary()["destinations"])
    assert "refs/tags/v1.4.3" in project.git("ls-remote", "--tags", "origin")
    assert_no_secret(rejected.text + finished.text, *secrets_of(index_pair))
