"""The scripted failures of the release core: each ends in the invariant, or in a refusal that
changes nothing and publishes nothing it did not build."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from releasekit import vcs
from releasekit.errors import GitError
from tests.support.cli import run_cli
from tests.support.indexes import index_hashes, secrets_of, write_pypirc
from tests.support.interrupts import COMMAND, assert_invariant, rerun, start, wait_for
from tests.support.leaks import assert_no_secret
from tests.support.projects import use_build_backend


def test_altered_test_index_copy_is_never_promoted(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    assert run_cli(project.path, capsys, "release", "--test").code == 0
    store = project.path / ".git" / "releasekit" / "artifacts" / "1.4.2"
    for path in store.iterdir():
        path.unlink()
    wheel = next(Path(index_pair.test.index.packages_dir).rglob(f"{project.import_name}-1.4.2-*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0altered")
    refused = run_cli(project.path, capsys, "release", "--yes")
    assert refused.code == 1 and "Traceback" not in refused.err
    assert "with the bytes built" in refused.err and "bump the version" in refused.err
    assert index_hashes(index_pair.live, project) == {}
    assert "v1.4.2" not in project.git("ls-remote", "--tags", "origin")
    assert_no_secret(refused.text, *secrets_of(index_pair))


def test_artifacts_removed_after_test_are_fetched_back_by_their_recorded_hash(
    make_project, index_pair, isolated_env, capsys
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    assert run_cli(project.path, capsys, "release", "--test").code == 0
    test_files = index_hashes(index_pair.test, project)
    store = project.path / ".git" / "releasekit" / "artifacts"
    for path in (store / "1.4.2").iterdir():
        path.unlink()
    finished = run_cli(project.path, capsys, "release", "--yes", "--json")
    assert finished.code == 0, finished.err
    steps = {s["name"]: s["outcome"] for s in finished.summary()["steps"]}
    assert steps["download"] == "done" and steps["build"] == "skipped"
    assert index_hashes(index_pair.live, project) == test_files


def test_colleague_pushes_during_verify_live_then_pull_and_the_same_command(
    make_project, index_pair, isolated_env, tmp_path
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    marker = tmp_path / "pause"
    proc = start(project, marker, "before:verify-live", *COMMAND)
    wait_for(marker, proc)
    colleague = tmp_path / "colleague"
    subprocess.run(["git", "clone", "-q", str(project.remote), str(colleague)], check=True)
    (colleague / "NOTES.md").write_text("a colleague's work\n")
    for args in (["add", "NOTES.md"], ["commit", "-qm", "colleague"], ["push", "-q", "origin", "main"]):
        subprocess.run(["git", *args], cwd=colleague, check=True)
    marker.unlink()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "refused" in err and "Traceback" not in err
    assert "re-run the same command to finish 1.4.3" in err
    project.git("pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
    finished = rerun(project)
    assert finished.returncode == 0, finished.stderr
    assert_invariant(project, index_pair)
    assert project.git("rev-parse", "origin/main") == project.git("rev-parse", "HEAD")


def test_push_probe_dry_runs_the_tag_too(make_project, isolated_env, tmp_path):
    project = make_project()
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(project.remote), str(other)], check=True)
    (other / "X").write_text("x\n")
    for args in (["add", "X"], ["commit", "-qm", "x"], ["tag", "v9.9.9"], ["push", "-q", "origin", "v9.9.9"]):
        subprocess.run(["git", *args], cwd=other, check=True)
    repo = vcs.open_repo(project.path)
    vcs.push_dry_run(repo, "origin", "main", "v1.0.0", 30)  # a new tag: accepted
    with pytest.raises(GitError, match=r"would refuse the push of main and v9\.9\.9"):
        vcs.push_dry_run(repo, "origin", "main", "v9.9.9", 30)
    assert "v1.0.0" not in project.git("ls-remote", "--tags", "origin")


def test_killed_build_leaves_staging_directory_that_the_next_run_clears(
    make_project, index_pair, isolated_env, tmp_path, monkeypatch
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    use_build_backend(project.path, "staging_backend")
    flag = tmp_path / "slow"
    flag.touch()
    monkeypatch.setenv("SLOW_BUILD_FLAG", str(flag))
    proc = start(project, None, "", *COMMAND)
    staging = project.path / f"{project.import_name}-1.4.3"
    for _ in range(600):
        if staging.exists():
            break
        proc.poll()
        assert proc.returncode is None, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert staging.exists()
    flag.unlink()
    finished = rerun(project)
    assert finished.returncode == 0, finished.stderr
    assert "removed what an interrupted build left" in finished.stderr
    assert not staging.exists()
    assert_invariant(project, index_pair)


@pytest.mark.parametrize("kind", ["file", "symlink-out", "symlinked-store"])
def test_odd_artifact_store_entries_are_removed_never_followed(
    kind, make_project, index_pair, isolated_env, tmp_path, capsys
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep me\n")
    artifacts = project.path / ".git" / "releasekit" / "artifacts"
    artifacts.mkdir(parents=True)
    if kind == "file":
        (artifacts / "1.4.3").write_text("not a directory\n")
    elif kind == "symlink-out":
        os.symlink(outside, artifacts / "1.4.3")
    else:
        artifacts.rmdir()
        os.symlink(outside, artifacts)
    result = run_cli(project.path, capsys, *COMMAND, "--json")
    assert result.code == 0, result.err
    assert (outside / "precious").read_text() == "keep me\n"
    assert_invariant(project, index_pair)


def test_a_journal_of_wrong_types_is_set_aside_and_the_release_goes_on(
    make_project, index_pair, isolated_env, capsys
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    state = project.path / ".git" / "releasekit"
    state.mkdir()
    (state / "journal.json").write_text('{"releases": {"1.4.3": {"bump_commit": 7, "uploads": []}}}')
    result = run_cli(project.path, capsys, *COMMAND)
    assert result.code == 0, result.err
    assert (state / "journal.damaged").exists()
    assert_invariant(project, index_pair)


def test_sigkill_mid_download_then_the_same_command(make_project, index_pair, isolated_env, capsys, tmp_path):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    assert run_cli(project.path, capsys, "release", "--test").code == 0
    for path in (project.path / ".git" / "releasekit" / "artifacts" / "1.4.2").iterdir():
        path.unlink()
    marker = tmp_path / "pause"
    proc = start(project, marker, "download:one", "release", "--yes")
    wait_for(marker, proc)
    proc.kill()
    proc.communicate(timeout=60)
    finished = run_cli(project.path, capsys, "release", "--yes", "--json")
    assert finished.code == 0, finished.err
    test_files = index_hashes(index_pair.test, project)
    assert len(test_files) == 2 and index_hashes(index_pair.live, project) == test_files
    assert "refs/tags/v1.4.2" in project.git("ls-remote", "--tags", "origin")


def test_reading_the_tree_takes_no_optional_lock(make_project, isolated_env):
    """A read-only status must never write .git/index: a Ctrl-C then leaves no index.lock."""
    project = make_project()
    index = project.path / ".git" / "index"
    before = index.read_bytes()
    readme = project.path / "README.md"
    os.utime(readme, (readme.stat().st_atime, readme.stat().st_mtime + 10))  # a stale index entry
    assert vcs.unclean_paths(vcs.open_repo(project.path)) == ([], [])
    assert index.read_bytes() == before


def test_abort_undoes_a_bump_commit_killed_before_its_tag(
    make_project, index_pair, isolated_env, capsys, tmp_path
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    before = project.git("rev-parse", "HEAD")
    marker = tmp_path / "pause"
    proc = start(project, marker, "before:tag", *COMMAND)
    wait_for(marker, proc)
    proc.kill()
    proc.communicate(timeout=60)
    assert project.git("log", "-1", "--format=%s") == "Release 1.4.3" and project.git("tag") == ""
    aborted = run_cli(project.path, capsys, "release", "--abort")
    assert aborted.code == 0, aborted.err
    assert "removed the release commit" in aborted.err
    assert project.git("rev-parse", "HEAD") == before
    status = run_cli(project.path, capsys, "status", "--json")
    assert status.summary()["in_progress"] is None


def test_a_symlinked_releasekit_directory_is_refused_and_nothing_outside_is_touched(
    make_project, index_pair, isolated_env, capsys, tmp_path
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "keep").write_text("mine\n")
    os.symlink(outside, project.path / ".git" / "releasekit")
    refused = run_cli(project.path, capsys, *COMMAND)
    assert refused.code == 1 and "is a symbolic link" in refused.err and "Traceback" not in refused.err
    assert sorted(p.name for p in outside.iterdir()) == ["keep"]
    assert project.git("tag") == "" and index_hashes(index_pair.test, project) == {}
