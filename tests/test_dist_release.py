"""`release --dist DIR`: publish prebuilt artifacts (a CI build matrix) instead of building."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from releasekit.dists.artifact import collect
from releasekit.dists.builder import build_dists
from tests.support.cli import run_cli
from tests.support.indexes import index_hashes, secrets_of, write_pypirc
from tests.support.leaks import assert_no_secret


def _prebuilt(project_path: Path, dest: Path) -> dict[str, str]:
    """Build the project's sdist and wheel into `dest`, as a CI build job would."""
    build_dists(project_path, dest)
    for leftover in project_path.glob("src/*.egg-info"):
        shutil.rmtree(leftover)
    return {a.filename: a.sha256 for a in collect(dest)}


def test_dist_publishes_exactly_those_bytes_then_a_rerun_is_a_no_op(
    make_project, index_pair, isolated_env, capsys, tmp_path
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    built = _prebuilt(project.path, tmp_path / "dist")
    result = run_cli(project.path, capsys, "release", "--dist", str(tmp_path / "dist"), "--yes", "--json")
    assert result.code == 0, result.err
    steps = {s["name"]: s for s in result.summary()["steps"]}
    assert "prebuilt" in steps["build"]["detail"] or "take the" in result.err
    assert index_hashes(index_pair.test, project) == built
    assert index_hashes(index_pair.live, project) == built
    assert "refs/tags/v1.4.2" in project.git("ls-remote", "--tags", "origin")

    again = run_cli(project.path, capsys, "release", "--dist", str(tmp_path / "dist"), "--yes", "--json")
    assert again.code == 0, again.err
    assert again.summary()["already_released"] and "already released" in again.err
    assert_no_secret(result.text + again.text, *secrets_of(index_pair))


def test_dist_refuses_files_of_another_version_or_project_before_any_upload(
    make_project, index_pair, isolated_env, capsys, tmp_path
):
    project = make_project()
    other = make_project(version="9.9.9")
    write_pypirc(isolated_env, index_pair)
    dist = tmp_path / "dist"
    _prebuilt(project.path, dist)
    wrong = tmp_path / "wrong-version"
    _prebuilt(other.path, wrong)
    wheel = next(wrong.glob("*.whl"))
    renamed = dist / wheel.name.replace(other.import_name, project.import_name)
    shutil.copyfile(wheel, renamed)  # a wheel of the right name, of version 9.9.9
    refused = run_cli(project.path, capsys, "release", "--dist", str(dist), "--yes")
    assert refused.code == 1 and "Traceback" not in refused.err
    assert "is version 9.9.9, but the release is 1.4.2" in refused.err
    renamed.unlink()
    shutil.copyfile(wheel, dist / wheel.name)  # another project's wheel
    refused = run_cli(project.path, capsys, "release", "--dist", str(dist), "--yes")
    assert refused.code == 1 and f"is a file of '{other.name}'" in refused.err
    assert index_hashes(index_pair.test, project) == {} and index_hashes(index_pair.live, project) == {}
    assert project.git("tag") == ""


def test_tag_locally_then_ci_publishes_from_a_detached_tag_checkout(
    make_project, index_pair, isolated_env, capsys, tmp_path
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    project.git("tag", "-a", "-m", "Release 1.4.2", "v1.4.2")
    project.git("push", "-q", "origin", "v1.4.2")
    ci = tmp_path / "ci-checkout"
    subprocess.run(["git", "clone", "-q", str(project.remote), str(ci)], check=True)
    subprocess.run(["git", "checkout", "-q", "v1.4.2"], cwd=ci, check=True)  # detached, as in CI
    built = _prebuilt(ci, tmp_path / "dist")
    result = run_cli(ci, capsys, "release", "--dist", str(tmp_path / "dist"), "--yes", "--json")
    assert result.code == 0, result.err
    steps = {s["name"]: s["outcome"] for s in result.summary()["steps"]}
    assert steps["push"] == "skipped" and steps["tag"] == "skipped"
    assert index_hashes(index_pair.live, project) == built == index_hashes(index_pair.test, project)
    assert_no_secret(result.text, *secrets_of(index_pair))


def test_release_locally_then_ci_confirms_with_its_own_build(
    make_project, index_pair, isolated_env, capsys, tmp_path
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    assert run_cli(project.path, capsys, "release", "--yes").code == 0
    live = index_hashes(index_pair.live, project)
    ci = tmp_path / "ci-checkout"
    subprocess.run(["git", "clone", "-q", str(project.remote), str(ci)], check=True)
    subprocess.run(["git", "checkout", "-q", "v1.4.2"], cwd=ci, check=True)
    module = ci / "src" / project.import_name / "__init__.py"
    module.write_text(module.read_text() + "# CI's build differs\n")
    _prebuilt(ci, tmp_path / "dist")
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=ci, check=True)
    confirmed = run_cli(ci, capsys, "release", "--dist", str(tmp_path / "dist"), "--yes", "--json")
    assert confirmed.code == 0, confirmed.err
    assert confirmed.summary()["already_released"] and "is unused" in confirmed.err
    assert index_hashes(index_pair.live, project) == live
