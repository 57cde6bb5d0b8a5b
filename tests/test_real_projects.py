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
    assert (
        "tag style {version} (followed from the newest release tag 1.4.1 (1 tag(s) of this style))"
        in planned.err
    )
    assert planned.summary()["tag"] == "1.4.3"
    status = run_cli(project.path, capsys, "status")
    assert "tags {version} (followed from the newest release tag 1.4.1" in status.out
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


def test_tag_style_follows_the_newest_release_not_the_majority(
    make_project, index_pair, isolated_env, capsys
):
    """A project that moved from `2.0.0`-style tags to `v2.1.0` (as pallets/click did) tags v-next."""
    project = make_project(version="2.1.0")
    write_pypirc(isolated_env, index_pair)
    for old in ("1.9.0", "1.9.1", "2.0.0"):
        project.git("tag", "-a", "-m", old, old)
    project.git("tag", "-a", "-m", "v2.1.0", "v2.1.0")
    project.git("tag", "v2")  # a moving major tag at the newest release (GitHub Actions habit)
    project.git("tag", "latest")
    project.git("push", "-q", "origin", "--tags")
    planned = run_cli(project.path, capsys, "release", "--bump", "patch", "--dry-run")
    assert planned.code == 0, planned.err
    assert "2.1.0 -> 2.1.1 (tag v2.1.1" in planned.err
    assert "followed from the newest release tag v2.1.0" in planned.err


def test_a_maintenance_release_below_a_newer_series_of_another_branch(
    make_project, index_pair, isolated_env, capsys
):
    """urllib3 / Django habit: 1.26.x fixes released from a maintenance branch after 2.0.0 exists."""
    project = make_project(version="1.4.2")
    write_pypirc(isolated_env, index_pair)
    project.git("tag", "-a", "-m", "1.4.2", "v1.4.2")
    project.git("push", "-q", "origin", "v1.4.2")
    project.git("switch", "-q", "-c", "next")
    project.git("commit", "-q", "--allow-empty", "-m", "2.0 work")
    project.git("tag", "-a", "-m", "2.0.0", "v2.0.0")
    project.git("switch", "-q", "main")
    released = run_cli(project.path, capsys, "release", "--bump", "patch", "--test", "--json")
    assert released.code == 0, released.err
    assert released.summary()["version"] == "1.4.3"
    assert "1.4.3 is below 2.0.0, released from another branch" in released.err


def test_a_local_dev_marker_between_releases_is_dropped_by_a_bump(
    make_project, index_pair, isolated_env, capsys
):
    """sphinx-doc/sphinx-style `__version__ = "0.16.0+dev"` between releases (here in setup.cfg's config)."""
    project = make_project(version="1.4.2")
    write_pypirc(isolated_env, index_pair)
    project.git("tag", "-a", "-m", "1.4.2", "v1.4.2")
    for name in ("setup.cfg", "pyproject.toml", f"src/{project.import_name}/__init__.py"):
        path = project.path / name
        path.write_text(path.read_text().replace("1.4.2", "1.4.2+dev"))
    project.git("commit", "-qam", "back to development")
    refused = run_cli(project.path, capsys, "release", "--test")
    assert refused.code == 1 and "--bump patch releases 1.4.3" in refused.err
    released = run_cli(project.path, capsys, "release", "--bump", "patch", "--test", "--json")
    assert released.code == 0, released.err
    assert released.summary()["version"] == "1.4.3"


def test_the_install_check_imports_the_package_not_its_extras(make_project, index_pair, isolated_env, capsys):
    """psf/black's layout: `black` beside `blackd`, which needs the `d` extra's aiohttp."""
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    server = project.path / "src" / f"{project.import_name}d"
    server.mkdir()
    (server / "__init__.py").write_text("import rk_missing_server_dep  # the d extra brings it\n")
    with (project.path / "pyproject.toml").open("a") as fh:
        fh.write('\n[project.optional-dependencies]\nd = ["rk-missing-server-dep"]\n')
    project.git("add", "-A")
    project.git("commit", "-qm", "a server module behind an extra")
    released = run_cli(project.path, capsys, "release", "--bump", "patch", "--test", "--json")
    assert released.code == 0, released.err
    assert f"imports {project.import_name}" in released.err
    assert f"{project.import_name}d" not in [s["detail"] for s in released.summary()["steps"]][-1]

    init = project.path / "src" / project.import_name / "__init__.py"
    init.write_text(init.read_text() + "import rk_missing_server_dep  # an extra's, imported eagerly\n")
    project.git("commit", "-qam", "the package itself reaches for the extra")
    optional = run_cli(project.path, capsys, "release", "--bump", "patch", "--test", "--json")
    assert optional.code == 0, optional.err
    assert "needs an extra" in optional.err and "not fatal: only an extra brings it" in optional.err


IN_TREE_BACKEND = '''"""An in-tree backend that runs a command a build requirement installs."""
import subprocess

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    subprocess.run(["pyflakes", "--version"], check=True, capture_output=True)
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)
'''


def test_an_in_tree_backend_finds_the_commands_its_requirements_install(
    make_project, index_pair, isolated_env, capsys
):
    """mesonbuild/meson-python's habit: the backend calls a command a build requirement installs."""
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    pyproject = project.path / "pyproject.toml"
    text = pyproject.read_text().replace(
        'requires = ["setuptools>=77"]', 'requires = ["setuptools>=77", "pyflakes"]'
    )
    text = text.replace(
        'build-backend = "setuptools.build_meta"', 'build-backend = "backend"\nbackend-path = ["_build"]'
    )
    pyproject.write_text(text)
    (project.path / "_build").mkdir()
    (project.path / "_build" / "backend.py").write_text(IN_TREE_BACKEND)
    manifest = project.path / "MANIFEST.in"
    manifest.write_text("include _build/backend.py\n")
    project.git("add", "-A")
    project.git("commit", "-qm", "an in-tree backend")
    released = run_cli(project.path, capsys, "release", "--bump", "patch", "--test", "--json")
    assert released.code == 0, released.err
    assert released.summary()["version"] == "1.4.3"


def _static_version_only(project) -> None:
    (
        project.path / "setup.cfg"
    ).unlink()  # no bump2version config: the static [project] version is the source
    project.git("add", "-A")
    project.git("commit", "-qm", "static version only")


def test_the_package_s_own_copy_of_the_version_moves_with_the_source(
    make_project, index_pair, isolated_env, capsys
):
    """openai/openai-python's habit: a static [project] version and `_version.py` kept in step."""
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    package = project.path / "src" / project.import_name
    (package / "_version.py").write_text(
        '__title__ = "sample"\n__version__ = "1.4.2"  # x-release-please-version\n'
    )
    _static_version_only(project)
    released = run_cli(project.path, capsys, "release", "--bump", "patch", "--yes", "--json")
    assert released.code == 0, released.err
    assert (
        "static [project] version in pyproject.toml, and the copy in __init__.py, _version.py" in released.err
    )
    assert '__version__ = "1.4.3"  # x-release-please-version' in (package / "_version.py").read_text()
    assert '__version__ = "1.4.3"' in (package / "__init__.py").read_text()
    assert project.git("status", "--porcelain") == ""


def test_a_stale_copy_of_the_version_in_the_wheel_stops_the_release_before_upload(
    make_project, index_pair, isolated_env, capsys
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    package = project.path / "src" / project.import_name
    (package / "__about__.py").write_text('__version__ = "1.4.1"\n')  # forgotten in the last bump
    _static_version_only(project)
    refused = run_cli(project.path, capsys, "release", "--bump", "patch", "--test")
    assert refused.code == 1
    assert (
        f"{project.import_name}/__about__.py says __version__ = '1.4.1', but the release is 1.4.3"
        in refused.err
    )
    assert "nothing was published" in refused.err
    assert project.git("tag") == ""


def test_uv_lock_follows_the_bump_so_uv_sync_locked_still_passes(
    make_project, index_pair, isolated_env, capsys
):
    """astral-sh/uv's own habit (and every `uv init` project): uv.lock records the project's version."""
    from uv import find_uv_bin

    project = make_project()
    write_pypirc(isolated_env, index_pair)
    (project.path / "setup.cfg").unlink()
    subprocess.run([find_uv_bin(), "lock", "--quiet"], cwd=project.path, check=True, capture_output=True)
    assert 'version = "1.4.2"' in (project.path / "uv.lock").read_text()
    project.git("add", "-A")
    project.git("commit", "-qm", "static version, locked with uv")
    released = run_cli(project.path, capsys, "release", "--bump", "patch", "--yes", "--json")
    assert released.code == 0, released.err
    assert "uv.lock follows" in released.err
    assert 'version = "1.4.3"' in (project.path / "uv.lock").read_text()
    check = subprocess.run(
        [find_uv_bin(), "lock", "--check"], cwd=project.path, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr  # what `uv sync --locked` needs
    assert "uv.lock" in project.git("show", "--stat", "--format=", "HEAD")
    assert project.git("status", "--porcelain") == ""
