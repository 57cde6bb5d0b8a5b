"""Real projects as they are: their tag style, a package in a subfolder, no remote yet for --test,
a non-canonical version in the files, their own uv configuration (which never steers releasekit)."""

from __future__ import annotations

import os
import secrets
import subprocess

import _sandbox

from tests.support.cli import run_cli
from tests.support.indexes import write_pypirc


def test_the_history_s_tag_style_is_followed_and_said(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    project.git("tag", "-a", "-m", "Release 1.4.1", "1.4.1")  # this project tags without a v
    planned = run_cli(project.path, capsys, "release", "--bump", "patch", "--dry-run", "--json")
    assert planned.code == 0, planned.err
    assert "tag style {version} (followed from 1 existing tag(s))" in planned.err
    assert planned.summary()["tag"] == "1.4.3"
    status = run_cli(project.path, capsys, "status")
    assert "tags {version} (followed from 1 existing tag(s))" in status.out
    released = run_cli(project.path, capsys, "release", "--bump", "patch", "--test", "--json")
    assert released.code == 0, released.err
    assert project.git("describe", "--tags", "--exact-match") == "1.4.3"


def test_a_release_tag_of_another_style_still_counts_as_released(
    make_project, index_pair, isolated_env, capsys
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    with (project.path / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.releasekit]\ntag-format = "release-{version}"\n')
    project.git("commit", "-qam", "tag-format")
    project.git("tag", "-a", "-m", "old style", "v2.0.0")
    refused = run_cli(project.path, capsys, "release", "--test")
    assert refused.code == 1
    assert "not greater than the last released one (2.0.0)" in refused.err


def test_release_test_needs_no_remote_and_the_live_release_says_how_to_add_one(
    make_project, index_pair, isolated_env, capsys
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    project.git("remote", "remove", "origin")
    tested = run_cli(project.path, capsys, "release", "--test")
    assert tested.code == 0, tested.err
    status = run_cli(project.path, capsys, "status", "--json")
    assert status.code == 0 and "the remote origin (no remote origin)" in status.summary()["unknown"]
    live = run_cli(project.path, capsys, "release", "--yes")
    assert live.code == 1 and "git remote add origin URL" in live.err


def test_a_package_in_a_subfolder_of_its_repository(index_pair, isolated_env, capsys, tmp_path):
    """A monorepo member: the git root is found upward, its own tag style is followed, a sibling's
    uncommitted work is not this release's business, and only the member's files are committed."""

    name = f"rk-member-{secrets.token_hex(4)}"
    root = tmp_path / "mono"
    member = root / "packages" / name
    _sandbox.render_sample(member, name, "1.4.2")
    (root / "packages" / "sibling").mkdir()
    (root / "packages" / "sibling" / "NOTES.md").write_text("sibling\n")
    _sandbox.init_with_remote(root, tmp_path / "mono.git", dict(os.environ))
    subprocess.run(["git", "tag", "-a", "-m", "old", f"{name}-v1.4.1"], cwd=root, check=True)
    (root / "packages" / "sibling" / "NOTES.md").write_text("work in progress\n")
    write_pypirc(isolated_env, index_pair)
    released = run_cli(member, capsys, "release", "--bump", "patch", "--yes", "--json")
    assert released.code == 0, released.err
    assert released.summary()["tag"] == f"{name}-v1.4.3"
    tags = subprocess.run(["git", "ls-remote", "--tags", "origin"], cwd=root, capture_output=True, text=True)
    assert f"refs/tags/{name}-v1.4.3" in tags.stdout
    changed = subprocess.run(
        ["git", "show", "--name-only", "--format=", "HEAD"], cwd=root, capture_output=True, text=True
    ).stdout.split()
    assert changed and all(path.startswith(f"packages/{name}/") for path in changed), changed
    live = _sandbox.index_hashes(index_pair.live.index.packages_dir, name.replace("-", "_"))
    assert len(live) == 2


def test_a_non_canonical_dev_version_in_the_files_releases_with_bump_final(
    make_project, index_pair, isolated_env, capsys
):
    project = make_project(version="2.3.0.dev")  # Pallets style: no number after .dev
    write_pypirc(isolated_env, index_pair)
    refused = run_cli(project.path, capsys, "release", "--test")
    assert refused.code == 1 and "--bump final releases 2.3.0" in refused.err
    released = run_cli(project.path, capsys, "release", "--bump", "final", "--test", "--json")
    assert released.code == 0, released.err
    assert released.summary()["version"] == "2.3.0"
    assert '"2.3.0"' in (project.path / "pyproject.toml").read_text()
    assert project.git("status", "--porcelain") == ""


def test_the_project_s_own_uv_configuration_does_not_steer_releasekit_s_environments(
    make_project, index_pair, isolated_env, capsys, tmp_path, monkeypatch
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    (project.path / "uv.toml").write_text('required-version = "==0.0.1"\n')  # not the uv releasekit runs
    project.git("add", "uv.toml")
    project.git("commit", "-qm", "the project pins its own uv")
    monkeypatch.setenv("RELEASEKIT_CACHE_DIR", str(tmp_path / "fresh-cache"))  # build envs made anew
    released = run_cli(project.path, capsys, "release", "--test")
    assert released.code == 0, released.err


def test_a_bump_that_leaves_the_tree_dirty_is_rolled_back_never_released(
    make_project, index_pair, isolated_env, capsys
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    hook = project.path / ".git" / "hooks" / "post-commit"
    hook.write_text("#!/bin/sh\necho regenerated >> README.md\n")  # a hook that rewrites a file
    hook.chmod(0o755)
    head = project.git("rev-parse", "HEAD")
    result = run_cli(project.path, capsys, "release", "--bump", "patch", "--test")
    assert result.code == 1 and "the bump rewrote README.md" in result.err
    assert "rolled back" in result.err and "Traceback" not in result.err
    assert project.git("rev-parse", "HEAD") == head and project.git("tag") == ""
    assert project.git("status", "--porcelain") == ""
