"""Building the sample project for real, and describing and checking what was built."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from releasekit.dists.artifact import check_consistency, collect, top_level_modules
from releasekit.dists.builder import build_dists
from releasekit.errors import BuildError
from tests.support.projects import Project, use_build_backend


def _git_status(project: Project) -> str:
    return project.git("status", "--porcelain", "--ignored", "--untracked-files=all")


def test_build_dists_builds_one_wheel_and_one_sdist(
    make_project: Callable[..., Project], tmp_path: Path
) -> None:
    project = make_project()
    outdir = tmp_path / "dist"
    assert _git_status(project) == ""  # nothing untracked or ignored before the build

    artifacts = build_dists(project.path, outdir)

    wheel_name = f"{project.import_name}-1.4.2-py3-none-any.whl"
    sdist_name = f"{project.import_name}-1.4.2.tar.gz"
    assert [(a.kind, a.filename) for a in artifacts] == [("wheel", wheel_name), ("sdist", sdist_name)]
    assert sorted(p.name for p in outdir.iterdir()) == sorted([wheel_name, sdist_name])
    assert collect(outdir) == artifacts
    for art in artifacts:
        data = art.path.read_bytes()
        assert art.path.parent == outdir
        assert art.sha256 == hashlib.sha256(data).hexdigest()
        assert art.size == len(data)
        assert (art.name, art.version) == (project.name, "1.4.2")
    wheel = artifacts[0]
    assert top_level_modules(wheel) == [project.import_name]

    check_consistency(artifacts, project.name, "1.4.2")
    with pytest.raises(BuildError) as wrong_version:
        check_consistency(artifacts, project.name, "1.4.3")
    assert wrong_version.value.message == f"{wheel_name} carries version 1.4.2, but the release is 1.4.3"
    with pytest.raises(BuildError) as wrong_name:
        check_consistency(artifacts, "rk-other", "1.4.2")
    assert wrong_name.value.message == f"{wheel_name} is for project '{project.name}', not 'rk-other'"
    with pytest.raises(BuildError) as only_wheel:
        check_consistency(artifacts[:1], project.name, "1.4.2")
    assert only_wheel.value.message == "expected one sdist and at least one wheel, found: ['wheel']"

    # setuptools writes src/*.egg-info and build/ into the source tree; none may be left behind.
    assert _git_status(project) == ""
    assert not list(project.path.rglob("*.egg-info"))
    assert not (project.path / "build").exists()


def _missing_readme_project(make_project: Callable[..., Project]) -> Project:
    project = make_project()
    pyproject = project.path / "pyproject.toml"
    text = pyproject.read_text("utf-8")
    assert 'readme = "README.md"' in text
    pyproject.write_text(text.replace('readme = "README.md"', 'readme = "MISSING.md"'), encoding="utf-8")
    project.git("commit", "-qam", "Point readme at a missing file")
    return project


def test_a_failing_build_is_a_one_line_build_error_naming_its_cause(
    make_project: Callable[..., Project], tmp_path: Path
) -> None:
    project = make_project()
    use_build_backend(project.path, "failing_backend")

    with pytest.raises(BuildError) as caught:
        build_dists(project.path, tmp_path / "dist")

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("the build backend failed: ")
    assert "the backend broke on purpose" in message
    assert message.endswith("; run `python -m build` for the full output")
    assert list((tmp_path / "dist").iterdir()) == []
    assert _git_status(project) == ""


def test_backend_warnings_are_reported_not_printed(
    make_project: Callable[..., Project], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    project = _missing_readme_project(make_project)
    reported: list[str] = []

    artifacts = build_dists(project.path, tmp_path / "dist", warn=reported.append)

    assert len(artifacts) == 2  # setuptools only warns about a missing readme; twine check catches it
    assert any("MISSING.md" in line for line in reported), reported
    assert all("\n" not in line for line in reported)
    assert "MISSING.md" not in capfd.readouterr().err


def test_a_warning_from_another_thread_during_the_build_is_not_the_backend_s(
    make_project: Callable[..., Project], tmp_path: Path
) -> None:
    """twine is imported in the background while the build runs; its import warned (urllib3's
    SOCKS notice) into the build's warning record and was printed as the backend's."""
    import threading
    import time
    import warnings

    project = _missing_readme_project(make_project)
    reported: list[str] = []

    def elsewhere() -> None:
        time.sleep(0.05)  # inside the build: each hook takes longer than this
        warnings.warn("a notice from an unrelated import", UserWarning, stacklevel=1)

    other = threading.Thread(target=elsewhere)
    other.start()
    build_dists(project.path, tmp_path / "dist", warn=reported.append)
    other.join()

    assert any("MISSING.md" in line for line in reported), reported
    assert not any("unrelated import" in line for line in reported), reported


def test_setuptools_requirement_hooks_are_skipped_only_when_they_can_only_answer_nothing(
    tmp_path: Path,
) -> None:
    from releasekit.dists.environments import no_dynamic_requires

    setuptools = '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
    (tmp_path / "pyproject.toml").write_text(setuptools)
    assert no_dynamic_requires(tmp_path)
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = x\n")
    assert no_dynamic_requires(tmp_path)
    (tmp_path / "setup.cfg").write_text("[options]\nsetup_requires = cython\n")
    assert not no_dynamic_requires(tmp_path)  # setup_requires: ask the backend
    (tmp_path / "setup.cfg").unlink()
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup()\n")
    assert not no_dynamic_requires(tmp_path)  # setup.py can declare anything
    (tmp_path / "setup.py").unlink()
    (tmp_path / "pyproject.toml").write_text(setuptools.replace("setuptools.build_meta", "hatchling.build"))
    assert not no_dynamic_requires(tmp_path)  # other backends are always asked
