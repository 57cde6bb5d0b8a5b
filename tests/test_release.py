"""End to end: real git, real pypiserver indexes, real build, twine and installs."""

from __future__ import annotations

from tests.support.cli import run_cli, run_installed
from tests.support.indexes import index_hashes, secrets_of, write_pypirc
from tests.support.leaks import assert_no_secret
from tests.support.projects import use_build_backend


def test_test_then_live_release_publishes_identical_bytes(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)

    first = run_cli(project.path, capsys, "release", "--test", "--json")
    assert first.code == 0, first.err
    assert_no_secret(first.text, *secrets_of(index_pair))
    summary = first.summary()
    assert summary["version"] == "1.4.2" and not summary["pushed"] and not summary["complete"]
    assert [d["index"] for d in summary["destinations"]] == ["testpypi"]
    assert summary["destinations"][0]["verified"] is True
    assert set(summary["destinations"][0]["files"].values()) == {"uploaded"}
    # --test pushes nothing: the tag exists locally only.
    assert project.git("tag", "--list") == "v1.4.2"
    assert "v1.4.2" not in project.git("ls-remote", "--tags", "origin")
    assert index_hashes(index_pair.live, project) == {}

    second = run_cli(project.path, capsys, "release", "--yes", "--json")
    assert second.code == 0, second.err
    assert_no_secret(second.text, *secrets_of(index_pair))
    summary = second.summary()
    assert summary["complete"] and summary["pushed"]
    test_dest, live_dest = summary["destinations"]
    assert set(test_dest["files"].values()) == {"present"}  # never uploaded twice
    assert set(live_dest["files"].values()) == {"uploaded"} and live_dest["verified"]
    test_files, live_files = index_hashes(index_pair.test, project), index_hashes(index_pair.live, project)
    assert len(live_files) == 2 and live_files == test_files
    assert {f["sha256"] for f in summary["files"]} == set(live_files.values())
    head = project.git("rev-parse", "HEAD")
    remote = project.git("ls-remote", "origin")
    assert f"{head}\trefs/heads/main" in remote
    assert project.git("rev-parse", "v1.4.2^{commit}") == head
    assert project.git("cat-file", "-t", "v1.4.2") == "tag"  # annotated

    # A complete release run again is a no-op: exit 0, nothing uploaded or pushed.
    again = run_cli(project.path, capsys, "release", "--yes", "--json")
    assert again.code == 0, again.err
    assert "already released; nothing to do" in again.err and "Traceback" not in again.err
    assert again.summary()["already_released"] is True
    assert all(s["outcome"] == "skipped" for s in again.summary()["steps"])
    assert index_hashes(index_pair.live, project) == live_files
    assert project.git("ls-remote", "origin") == remote


def test_bump_release(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    result = run_cli(project.path, capsys, "release", "--bump", "patch", "--yes", "--json")
    assert result.code == 0, result.err
    assert_no_secret(result.text, *secrets_of(index_pair))
    assert result.summary()["version"] == "1.4.3"
    init = (project.path / "src" / project.import_name / "__init__.py").read_text()
    assert '__version__ = "1.4.3"' in init
    assert 'version = "1.4.3"' in (project.path / "pyproject.toml").read_text()
    assert "current_version = 1.4.3" in (project.path / "setup.cfg").read_text()
    assert project.git("log", "-1", "--format=%s") == "Release 1.4.3"
    assert project.git("status", "--porcelain") == ""
    remote_tags = project.git("ls-remote", "--tags", "origin")
    assert "refs/tags/v1.4.3" in remote_tags
    assert project.git("rev-parse", "origin/main") == project.git("rev-parse", "HEAD")
    assert any(name.endswith("1.4.3.tar.gz") for name in index_hashes(index_pair.live, project))


def test_prerelease_version_to_test_index(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    result = run_cli(project.path, capsys, "release", "--new-version", "2.0.0-rc.1", "--test", "--json")
    assert result.code == 0, result.err
    assert "normalised to '2.0.0rc1'" in result.err
    summary = result.summary()
    assert summary["version"] == "2.0.0rc1"
    assert {f["filename"] for f in summary["files"]} == {
        f"{project.import_name}-2.0.0rc1-py3-none-any.whl",
        f"{project.import_name}-2.0.0rc1.tar.gz",
    }
    assert project.git("describe", "--tags", "--exact-match") == "v2.0.0rc1"


def test_dry_run_changes_nothing(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    before = (project.git("rev-parse", "HEAD"), project.git("tag"), project.git("status", "--porcelain"))
    files_before = {
        p: p.read_bytes() for p in project.path.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    result = run_cli(project.path, capsys, "release", "--bump", "minor", "--dry-run")
    assert result.code == 0, result.err
    assert "1.4.2 -> 1.5.0" in result.err
    assert "would bump" in result.err and "would push" in result.err
    assert (
        project.git("rev-parse", "HEAD"),
        project.git("tag"),
        project.git("status", "--porcelain"),
    ) == before
    files_after = {
        p: p.read_bytes() for p in project.path.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    assert files_after == files_before
    assert not (project.path / ".git" / "releasekit" / "artifacts").exists()
    assert index_hashes(index_pair.test, project) == {}
    assert_no_secret(result.text, *secrets_of(index_pair))


def test_wrong_live_password_then_rerun_finishes(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    wrong = "pypi-wrong-password-0123456789abcdef"
    write_pypirc(isolated_env, index_pair, live_password=wrong)
    failed = run_cli(project.path, capsys, "release", "--yes")
    assert failed.code == 1
    # The live index has never seen this name: the 403 is explained as a first upload.
    assert "refused the first upload" in failed.err and "account-wide token" in failed.err
    assert "re-run the same command" in failed.err
    assert "first release of" in failed.err
    assert "Traceback" not in failed.err
    assert_no_secret(failed.text, *secrets_of(index_pair), wrong)
    assert index_hashes(index_pair.live, project) == {}
    test_files = index_hashes(index_pair.test, project)
    assert len(test_files) == 2

    write_pypirc(isolated_env, index_pair)
    finished = run_cli(project.path, capsys, "release", "--yes", "--json")
    assert finished.code == 0, finished.err
    test_dest, live_dest = finished.summary()["destinations"]
    assert set(test_dest["files"].values()) == {"present"}
    assert set(live_dest["files"].values()) == {"uploaded"}
    assert index_hashes(index_pair.test, project) == test_files
    assert index_hashes(index_pair.live, project) == test_files
    assert_no_secret(finished.text, *secrets_of(index_pair), wrong)


def test_live_index_down_then_rerun(make_project, fresh_index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, fresh_index_pair)
    tested = run_cli(project.path, capsys, "release", "--test")
    assert tested.code == 0, tested.err
    fresh_index_pair.live.stop()
    try:
        down = run_cli(project.path, capsys, "release", "--yes")
        assert down.code == 1
        assert "unreachable" in down.err and "Traceback" not in down.err
        assert "v1.4.2" not in project.git("ls-remote", "--tags", "origin")
    finally:
        fresh_index_pair.live.start()
    finished = run_cli(project.path, capsys, "release", "--yes", "--json")
    assert finished.code == 0, finished.err
    test_dest, live_dest = finished.summary()["destinations"]
    assert set(test_dest["files"].values()) == {"present"}
    assert set(live_dest["files"].values()) == {"uploaded"}
    assert "v1.4.2" in project.git("ls-remote", "--tags", "origin")
    assert_no_secret(down.text + finished.text, *secrets_of(fresh_index_pair))


def test_push_rejected_by_hook_then_rerun_pushes_without_uploading(
    make_project, index_pair, isolated_env, capsys
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    hook = project.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are frozen today' >&2\nexit 1\n")
    hook.chmod(0o755)
    rejected = run_cli(project.path, capsys, "release", "--bump", "patch", "--yes")
    assert rejected.code == 1
    assert "push" in rejected.err and "refused" in rejected.err and "re-run" in rejected.err
    assert "Traceback" not in rejected.err
    live_files = index_hashes(index_pair.live, project)
    assert len(live_files) == 2
    assert "v1.4.3" not in project.git("ls-remote", "--tags", "origin")

    hook.unlink()
    finished = run_cli(project.path, capsys, "release", "--bump", "patch", "--yes", "--json")
    assert finished.code == 0, finished.err
    summary = finished.summary()
    assert summary["version"] == "1.4.3"  # resumed, not bumped again
    assert all(set(d["files"].values()) == {"present"} for d in summary["destinations"])
    assert index_hashes(index_pair.live, project) == live_files
    assert "refs/tags/v1.4.3" in project.git("ls-remote", "--tags", "origin")
    assert_no_secret(rejected.text + finished.text, *secrets_of(index_pair))


def test_build_failure_rolls_back_the_bump(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    use_build_backend(project.path, "failing_backend")
    head = project.git("rev-parse", "HEAD")
    result = run_cli(project.path, capsys, "release", "--bump", "patch", "--test")
    assert result.code == 1
    assert "the backend broke on purpose" in result.err
    assert "nothing was published" in result.err and "rolled back tag v1.4.3, bump to 1.4.3" in result.err
    assert project.git("rev-parse", "HEAD") == head
    assert project.git("tag") == ""
    assert project.git("status", "--porcelain") == ""
    assert "1.4.2" in (project.path / "setup.cfg").read_text()
    assert not (project.path / ".git" / "releasekit" / "artifacts" / "1.4.3").exists()
    assert_no_secret(result.text, *secrets_of(index_pair))


def test_a_twine_check_warning_is_shown_and_the_release_goes_on_unless_strict(
    make_project, index_pair, isolated_env, capsys
):
    """PyPI accepts a file with no long description: twine check warns, and so does releasekit."""
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    pyproject = project.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('readme = "README.md"', 'readme = "MISSING.md"'))
    project.git("commit", "-qam", "point at a readme that does not exist")
    strict = run_cli(project.path, capsys, "release", "--test")
    wheel = f"{project.import_name}-1.4.2-py3-none-any.whl"
    assert strict.code == 0, strict.err
    assert f"warning: twine check: {wheel}: `long_description` missing." in strict.err
    assert index_hashes(index_pair.test, project)  # released to the test index all the same

    with pyproject.open("a") as fh:
        fh.write("\n[tool.releasekit]\nstrict-check = true\n")
    project.git("commit", "-qam", "strict check")
    refused = run_cli(project.path, capsys, "release", "--bump", "patch", "--test")
    assert refused.code == 1
    last = refused.err.strip().splitlines()[-1]
    assert last.startswith("error: twine check --strict failed for ") and "strict-check = false" in last
    assert project.git("tag", "--list", "v1.4.3") == ""


def test_secret_from_environment_never_printed(make_project, index_pair, isolated_env, capsys, monkeypatch):
    project = make_project()
    test = index_pair.test.index
    # The test index takes its environment credentials from variables of its own, never TWINE_*.
    monkeypatch.setenv("RELEASEKIT_TEST_USERNAME", test.username)
    monkeypatch.setenv("RELEASEKIT_TEST_PASSWORD", test.password)
    # A stray TWINE_REPOSITORY_URL must not redirect the upload aimed at --test-repository.
    monkeypatch.setenv("TWINE_REPOSITORY_URL", index_pair.live.index.url)
    result = run_cli(
        project.path, capsys, "release", "--test", "--test-repository", test.url, "--debug", "--json"
    )
    assert result.code == 0, result.err
    assert "credentials from environment" in result.err
    assert index_hashes(index_pair.live, project) == {}
    assert len(index_hashes(index_pair.test, project)) == 2
    assert_no_secret(result.text, *secrets_of(index_pair))


def test_installed_command_as_a_user_types_it(make_project, index_pair, isolated_env):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    proc = run_installed(project.path, "releasekit", "release", "--test")
    assert proc.returncode == 0, proc.stderr
    assert "✓ verify-test" in proc.stderr
    assert_no_secret(proc.stdout + proc.stderr, *secrets_of(index_pair))
    proc = run_installed(project.path, "releasekit", "release")
    assert proc.returncode == 1
    assert (
        proc.stderr.strip().splitlines()[-1].startswith("error: a live release of 1.4.2 needs confirmation")
    )
    assert "Traceback" not in proc.stderr


def test_invoke_with_a_tasks_py(make_project, index_pair, isolated_env):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    (project.path / "tasks.py").write_text("from releasekit.tasks import ns\n")
    project.git("add", "tasks.py")
    project.git("commit", "-m", "Release with releasekit")
    listing = run_installed(project.path, "invoke", "--list")
    assert "release" in listing.stdout and "scaffold" in listing.stdout and "pypirc" in listing.stdout
    proc = run_installed(project.path, "invoke", "release", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "would upload-test" in proc.stderr
    # invoke's own config files feed the same settings: invoke.yaml beats [tool.releasekit].
    (project.path / "invoke.yaml").write_text("releasekit:\n  tag-format: 'rel-{version}'\n")
    project.git("add", "invoke.yaml")
    project.git("commit", "-qm", "tag releases as rel-X")
    proc = run_installed(project.path, "invoke", "release", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "(tag rel-1.4.2," in proc.stderr
