"""Release safety: one run at a time, nothing untracked or secret in the artifacts, hooks."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

from tests.support.cli import run_cli
from tests.support.indexes import write_pypirc
from tests.support.leaks import assert_no_secret


def _lock(project, pid: int) -> None:
    path = project.path / ".git" / "releasekit" / "lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"pid": pid, "host": socket.gethostname(), "command": "releasekit release --yes",
                    "started": "2026-11-21T10:00:00Z"})
    )  # fmt: skip


def test_a_second_release_stops_at_once_naming_the_first(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _lock(project, holder.pid)
        start = time.monotonic()
        result = run_cli(project.path, capsys, "release", "--test")
        assert time.monotonic() - start < 5
    finally:
        holder.kill()
        holder.wait()
    assert result.code == 1
    last = result.err.strip().splitlines()[-1]
    assert f"another release of this repository is running (pid {holder.pid}" in last
    assert "releasekit release --yes" in last
    assert project.git("tag") == ""
    assert_no_secret(result.text, index_pair.test.index.password, index_pair.live.index.password)


def test_a_stale_lock_of_a_dead_process_is_taken_over(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _lock(project, dead.pid)
    result = run_cli(project.path, capsys, "release", "--test")
    assert result.code == 0, result.err
    assert not (project.path / ".git" / "releasekit" / "lock").exists()  # released after the run
    assert_no_secret(result.text, index_pair.test.index.password, index_pair.live.index.password)


def test_an_ignored_file_swept_into_the_sdist_stops_the_release(
    make_project, index_pair, isolated_env, capsys
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    secret = "pypi-" + "A" * 60
    (project.path / ".env").write_text(f"TWINE_PASSWORD={secret}\n")  # ignored by .gitignore
    (project.path / "MANIFEST.in").write_text("include .env\n")
    project.git("add", "MANIFEST.in")
    project.git("commit", "-qm", "a manifest that sweeps in .env")
    result = run_cli(project.path, capsys, "release", "--test")
    assert result.code == 1
    assert "contains .env, which git does not track" in result.err
    assert "nothing was published" in result.err
    assert project.git("tag") == ""
    assert_no_secret(result.text, secret)


def test_a_token_shaped_string_in_a_tracked_file_stops_the_release(
    make_project, index_pair, isolated_env, capsys
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    token = "pypi-AgEIcHlwaS5vcmc" + "x" * 60
    module = project.path / "src" / project.import_name / "settings.py"
    module.write_text(f'TOKEN = "{token}"\n')
    project.git("add", "-A")
    project.git("commit", "-qm", "oops, a token")
    result = run_cli(project.path, capsys, "release", "--test")
    assert result.code == 1
    assert "contains something shaped like a PyPI token" in result.err
    assert "revoke it" in result.err
    assert_no_secret(result.text, token)


def test_a_failing_commit_hook_fails_the_bump_cleanly(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    hook = project.path / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'lint failed' >&2\nexit 1\n")
    hook.chmod(0o755)
    head = project.git("rev-parse", "HEAD")
    result = run_cli(project.path, capsys, "release", "--bump", "patch", "--test")
    assert result.code == 1
    assert "git commit failed" in result.err and "lint failed" in result.err
    assert "nothing was published" in result.err
    assert project.git("rev-parse", "HEAD") == head
    assert project.git("status", "--porcelain") == ""
    assert "current_version = 1.4.2" in (project.path / "setup.cfg").read_text()
    assert_no_secret(result.text, index_pair.test.index.password, index_pair.live.index.password)
