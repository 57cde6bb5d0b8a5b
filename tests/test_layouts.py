"""Every real-world layout released end to end, with no edit to the project: `--bump patch --test`,
then the same with `--yes` (it resumes), then a pre-release to the test index. The plan names the
version source; tags follow the layout's history; the tree is clean after each run."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path

import _sandbox
import pytest

from tests.support.cli import run_cli
from tests.support.indexes import secrets_of, write_pypirc
from tests.support.leaks import assert_no_secret
from tests.support.projects import PROJECTS

# layout -> (the package's folder inside the repository, the version source the plan names)
LAYOUTS = {
    "setuptools_setup_py": (".", "setup.py"),
    "setup_cfg": (".", "setup.cfg [metadata] version"),
    "setuptools_attr": (".", "setuptools attr"),
    "setuptools_scm": (".", "setuptools-scm (git tags)"),
    "hatch_path": (".", "hatch version path"),
    "hatch_vcs": (".", "hatch-vcs (git tags)"),
    "flit_core": (".", "flit __version__"),
    "pdm_file": (".", "pdm-backend file"),
    "poetry_core": (".", "[tool.poetry] version"),
    "bump2version": (".", "bump2version (.bumpversion.cfg)"),
    "bump_my_version": (".", "bump-my-version ([tool.bumpversion])"),
    "uv_build": (".", "static [project] version in pyproject.toml"),
    "monorepo": ("packages/{name}", "static [project] version in pyproject.toml"),
}
GIT_DERIVED = {"setuptools_scm", "hatch_vcs"}


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60)
    return done.stdout.strip()


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_layout_releases_end_to_end(layout, index_pair, isolated_env, capsys, tmp_path):
    name = f"rk-{layout.replace('_', '-')}-{secrets.token_hex(3)}"
    root = tmp_path / "repo"
    _sandbox.render_sample(root, name, "1.4.2", PROJECTS / layout)
    _sandbox.init_with_remote(root, tmp_path / "remote.git", dict(os.environ))
    sub, source = LAYOUTS[layout]
    project = root / sub.format(name=name)
    if layout in GIT_DERIVED:  # the history's last release; then one commit of new work
        _git(root, "tag", "-a", "-m", "Release 1.4.2", "v1.4.2")
        (root / "NEWS.txt").write_text("new work\n")
        _git(root, "add", "NEWS.txt")
        _git(root, "commit", "-qm", "new work")
        _git(root, "push", "-q", "origin", "main", "v1.4.2")
    write_pypirc(isolated_env, index_pair)

    planned = run_cli(project, capsys, "release", "--bump", "patch", "--dry-run", "--json")
    assert planned.code == 0, planned.err
    assert f"version from {source}" in planned.err
    tested = run_cli(project, capsys, "release", "--bump", "patch", "--test", "--json")
    assert tested.code == 0, tested.err
    assert tested.summary()["version"] == "1.4.3"
    assert _git(root, "status", "--porcelain") == "", "a bump left files out of the release commit"
    released = run_cli(project, capsys, "release", "--bump", "patch", "--yes", "--json")
    assert released.code == 0, released.err
    summary = released.summary()
    assert summary["version"] == "1.4.3" and summary["complete"], summary
    tag = summary["tag"]
    assert tag in _git(root, "ls-remote", "--tags", "origin")
    assert _git(root, "status", "--porcelain") == ""
    live = _sandbox.index_hashes(index_pair.live.index.packages_dir, name.replace("-", "_"))
    assert sorted(live) == sorted(f["filename"] for f in summary["files"]) and len(live) >= 2

    pre = run_cli(project, capsys, "release", "--bump", "minor", "--pre", "rc", "--test", "--json")
    assert pre.code == 0, pre.err
    assert pre.summary()["version"] == "1.5.0rc1"
    assert _git(root, "status", "--porcelain") == ""
    assert_no_secret(planned.text + tested.text + released.text + pre.text, *secrets_of(index_pair))
    json.dumps(summary)  # the summary is plain data
