"""PyPI's upload rules, refused before the first upload: per rule on small hand-made artifacts,
then end to end against the local indexes standing in for PyPI (`pypi-rules = true`)."""

from __future__ import annotations

import datetime
import shutil
import sysconfig
from pathlib import Path

import pytest

from releasekit.dists.artifact import Artifact, describe
from releasekit.errors import BuildError, PyPIRulesError
from releasekit.indexes import pypi_rules
from tests.support.cli import run_cli
from tests.support.dists import Fields, make_sdist, make_wheel
from tests.support.indexes import IndexPair, write_pypirc
from tests.support.leaks import assert_no_secret
from tests.support.projects import PROJECTS, Project

CEXT = PROJECTS / "cext"
PLATFORM = sysconfig.get_platform().replace("-", "_").replace(".", "_")  # linux_x86_64 here
GOOD_META = {
    "Metadata-Version": "2.4",
    "Name": "demo-pkg",
    "Version": "1.0",
    "Summary": "A demo.",
    "License-Expression": "MIT",
}


def demo_wheel(
    tmp_path: Path,
    fields: Fields | None = None,
    *,
    filename: str = "demo_pkg-1.0-py3-none-any.whl",
    files: dict[str, bytes] | None = None,
) -> Artifact:
    """demo-pkg 1.0 as a wheel, its metadata GOOD_META with `fields` over it (a value of "" drops
    the field)."""
    wheel = make_wheel(
        tmp_path, "demo-pkg", "1.0", filename=filename, fields={**GOOD_META, **(fields or {})}, files=files
    )
    return describe(wheel)


def demo_sdist(
    tmp_path: Path,
    fields: Fields | None = None,
    *,
    filename: str = "demo_pkg-1.0.tar.gz",
    files: dict[str, bytes] | None = None,
) -> Artifact:
    """demo-pkg 1.0 as an sdist, as `demo_wheel` makes the wheel."""
    sdist = make_sdist(
        tmp_path, "demo-pkg", "1.0", filename=filename, fields={**GOOD_META, **(fields or {})}, files=files
    )
    return describe(sdist)


def refusal(artifacts: list[Artifact]) -> PyPIRulesError:
    with pytest.raises(PyPIRulesError) as caught:
        pypi_rules.check(artifacts)
    assert "\n" not in str(caught.value)
    return caught.value


def test_good_artifacts_pass(tmp_path: Path) -> None:
    pypi_rules.check(
        [demo_wheel(tmp_path, {"Classifier": ["Programming Language :: Python :: 3"]}), demo_sdist(tmp_path)]
    )


def test_errors_are_build_errors() -> None:
    assert issubclass(PyPIRulesError, BuildError)


# platform tags


@pytest.mark.parametrize(
    "platform",
    [
        "any", "manylinux_2_17_x86_64", "manylinux2014_aarch64", "musllinux_1_2_x86_64", "macosx_10_9_x86_64",
        "macosx_11_0_arm64", "win_amd64", "linux_armv7l", "ios_13_0_arm64_iphoneos", "android_21_arm64_v8a",
    ],
)  # fmt: skip
def test_platform_tags_pypi_accepts(platform: str) -> None:
    assert pypi_rules.platform_tag_allowed(platform)


@pytest.mark.parametrize(
    "platform",
    ["linux_x86_64", "linux_aarch64", "macosx_11_3_arm64", "musllinux_1_2_ppc64", "freebsd_14_amd64"],
)
def test_platform_tags_pypi_refuses(platform: str) -> None:
    assert not pypi_rules.platform_tag_allowed(platform)


def test_a_bare_linux_wheel_is_refused_with_cibuildwheel_and_auditwheel(tmp_path: Path) -> None:
    wheel = demo_wheel(tmp_path, filename="demo_pkg-1.0-cp311-cp311-linux_x86_64.whl")
    error = refusal([wheel])
    assert "linux_x86_64" in error.message and wheel.filename in error.message
    assert error.hint and "cibuildwheel" in error.hint and "auditwheel" in error.hint


def test_a_compressed_tag_set_is_refused_for_its_one_bad_platform(tmp_path: Path) -> None:
    wheel = demo_wheel(tmp_path, filename="demo_pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.linux_x86_64.whl")
    assert "'linux_x86_64'" in refusal([wheel]).message


# classifiers


def test_an_unknown_classifier_is_refused(tmp_path: Path) -> None:
    error = refusal([demo_wheel(tmp_path, {"Classifier": ["Programming Language :: Pythn :: 3"]})])
    assert "Pythn" in error.message and error.hint and "classifiers" in error.hint


def test_private_classifiers_are_refused(tmp_path: Path) -> None:
    error = refusal([demo_wheel(tmp_path, {"Classifier": ["Private :: Do Not Upload"]})])
    assert "Private ::" in error.message and error.hint and "remove it" in error.hint


def test_deprecated_classifiers_name_their_successor(tmp_path: Path) -> None:
    from trove_classifiers import deprecated_classifiers

    old, successors = next((k, v) for k, v in sorted(deprecated_classifiers.items()) if v)
    error = refusal([demo_wheel(tmp_path, {"Classifier": [old]})])
    assert "deprecated" in error.message and error.hint and successors[0] in error.hint


# file names (PEP 625, PEP 427)


def test_an_sdist_name_that_is_not_pep_625_is_refused(tmp_path: Path) -> None:
    error = refusal([demo_sdist(tmp_path, filename="demo-pkg-1.0.tar.gz")])
    assert "demo_pkg-1.0.tar.gz" in error.message and "PEP 625" in error.message


def test_an_sdist_with_an_unnormalised_version_is_refused(tmp_path: Path) -> None:
    assert "demo_pkg-1.0.tar.gz" in refusal([demo_sdist(tmp_path, filename="demo_pkg-1.00.tar.gz")]).message


def test_a_wheel_not_named_by_the_normalised_project_is_refused(tmp_path: Path) -> None:
    assert "demo_pkg-" in refusal([demo_wheel(tmp_path, filename="Demo_Pkg-1.0-py3-none-any.whl")]).message


# licenses


def test_license_and_license_expression_together_are_refused(tmp_path: Path) -> None:
    error = refusal([demo_wheel(tmp_path, {"License": "MIT License"})])
    assert "License-Expression and License" in error.message


def test_an_invalid_spdx_expression_is_refused(tmp_path: Path) -> None:
    error = refusal([demo_wheel(tmp_path, {"License-Expression": "MIT OR Whatever-1.0"})])
    assert "SPDX" in error.message


def test_the_old_license_field_alone_still_passes(tmp_path: Path) -> None:
    pypi_rules.check(
        [demo_wheel(tmp_path, {"Metadata-Version": "2.1", "License-Expression": "", "License": "MIT"})]
    )


def test_a_license_file_missing_from_the_artifact_is_refused(tmp_path: Path) -> None:
    good = demo_wheel(
        tmp_path,
        {"License-File": "LICENSE.txt"},
        files={"demo_pkg-1.0.dist-info/licenses/LICENSE.txt": b"x"},
    )
    pypi_rules.check([good])
    (tmp_path / "bad").mkdir()
    error = refusal([demo_sdist(tmp_path / "bad", {"License-File": "LICENSE.txt"})])
    assert "demo_pkg-1.0/LICENSE.txt" in error.message


# dependencies, URLs, summary, metadata version


def test_a_direct_url_dependency_is_refused(tmp_path: Path) -> None:
    wheel = demo_wheel(
        tmp_path, {"Requires-Dist": ["requests>=2", "helper @ https://example.org/helper-1.0.tar.gz"]}
    )
    error = refusal([wheel])
    assert "direct URL" in error.message and "helper" in error.message
    assert error.hint and "by version" in error.hint


def test_a_project_url_label_over_32_characters_is_refused(tmp_path: Path) -> None:
    pypi_rules.check([demo_wheel(tmp_path, {"Project-URL": "A" * 32 + ", https://example.org/"})])
    (tmp_path / "long").mkdir()
    error = refusal([demo_wheel(tmp_path / "long", {"Project-URL": "A" * 33 + ", https://example.org/"})])
    assert "32" in error.message and error.hint and "[project.urls]" in error.hint


def test_a_project_url_that_is_not_http_is_refused(tmp_path: Path) -> None:
    assert "ftp://" in refusal([demo_wheel(tmp_path, {"Project-URL": "Source, ftp://example.org/x"})]).message


def test_a_summary_over_512_characters_is_refused(tmp_path: Path) -> None:
    assert "512" in refusal([demo_wheel(tmp_path, {"Summary": "x" * 513})]).message


def test_an_unknown_metadata_version_is_refused(tmp_path: Path) -> None:
    assert "'3.0'" in refusal([demo_wheel(tmp_path, {"Metadata-Version": "3.0"})]).message


def test_metadata_2_5_passes(tmp_path: Path) -> None:
    pypi_rules.check([demo_wheel(tmp_path, {"Metadata-Version": "2.5", "Import-Name": "demo_pkg"})])


# file size


def test_a_file_over_100_mib_is_refused(tmp_path: Path) -> None:
    wheel = demo_wheel(tmp_path)
    with wheel.path.open("r+b") as fh:  # a sparse tail: the zip still reads, the size is real
        fh.seek(pypi_rules.MAX_FILE_SIZE + 1)
        fh.write(b"\0")
    error = refusal([describe(wheel.path)])
    assert "100 MiB" in error.message and wheel.filename in error.message


# the 14-day window


NOW = datetime.datetime(2026, 3, 20, 12, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize("first", [None, "", "2026-03-06T12:00:01.000000Z", "2026-03-19T00:00:00", "garbage"])
def test_files_can_be_added_within_14_days(first: str | None) -> None:
    pypi_rules.check_upload_window(first, NOW)


def test_past_14_days_the_hint_is_to_bump_the_version() -> None:
    with pytest.raises(PyPIRulesError) as caught:
        pypi_rules.check_upload_window("2026-03-01T08:30:00.123456Z", NOW, release="demo-pkg 1.0 on pypi")
    error = caught.value
    assert (
        "demo-pkg 1.0 on pypi" in error.message and "19 days" in error.message and "14 days" in error.message
    )
    assert error.hint and "bump the version" in error.hint


# when the rules apply


@pytest.mark.parametrize(
    ("setting", "urls", "expected"),
    [
        ("auto", ["https://test.pypi.org/legacy/", "https://upload.pypi.org/legacy/"], True),
        ("auto", ["http://127.0.0.1:8080/", "https://upload.pypi.org/legacy/"], True),
        ("auto", ["http://127.0.0.1:8080/", "https://UPLOAD.PYPI.ORG/legacy/"], True),
        ("auto", ["http://127.0.0.1:8080/", "https://pypi.example.org/"], False),
        ("auto", ["http://127.0.0.1:8080/", "https://notpypi.org/legacy/"], False),
        (True, ["http://127.0.0.1:8080/"], True),
        (False, ["https://upload.pypi.org/legacy/"], False),
    ],
)
def test_applies(setting: str | bool, urls: list[str], expected: bool) -> None:
    assert pypi_rules.applies(setting, urls) is expected


# end to end: refused before any upload, against the local indexes


def _held(pair: IndexPair, project: Project) -> list[str]:
    held = []
    for server in (pair.test, pair.live):
        packages = Path(server.index.packages_dir)
        held += [
            p.name for p in packages.rglob("*") if p.is_file() and p.name.startswith(project.import_name)
        ]
    return held


def _commit(project: Project, message: str) -> None:
    project.git("add", "--all")
    project.git("commit", "-qm", message)
    project.git("push", "-q", "origin", "main")


def _with_c_extension(project: Project) -> None:
    """Lay tests/projects/cext over the sample: a setup.py with one C extension module."""
    for source in sorted(CEXT.rglob("*")):
        if not source.is_file():
            continue
        relative = source.relative_to(CEXT).as_posix().replace("{{import_name}}", project.import_name)
        target = project.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text("utf-8").replace("{{import_name}}", project.import_name), "utf-8")
    _commit(project, "Add a C extension")


def _pypi_rules_on(project: Project) -> None:
    pyproject = project.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text("utf-8") + "\n[tool.releasekit]\npypi-rules = true\n", "utf-8")
    _commit(project, "Hold releases to PyPI's rules")


needs_cc = pytest.mark.skipif(
    not PLATFORM.startswith("linux_") or not (shutil.which("gcc") or shutil.which("cc")),
    reason="needs a C compiler on Linux, where a plain build makes a bare linux_* wheel",
)


@needs_cc
def test_a_bare_linux_wheel_is_refused_before_any_upload(
    make_project, index_pair, isolated_env, capsys
) -> None:
    project = make_project()
    _with_c_extension(project)
    _pypi_rules_on(project)
    write_pypirc(isolated_env, index_pair)
    result = run_cli(project.path, capsys, "release", "--test")
    assert result.code == 1, result.text
    errors = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"'{PLATFORM}'" in errors[0], result.err
    assert "cibuildwheel" in errors[0] and "auditwheel" in errors[0] and "nothing was published" in errors[0]
    assert "Traceback" not in result.text
    assert_no_secret(result.text, index_pair.test.index.password, index_pair.live.index.password)
    assert _held(index_pair, project) == []
    assert project.git("tag", "--list") == ""  # rolled back


def test_an_invalid_classifier_is_refused_before_any_upload(
    make_project, index_pair, isolated_env, capsys
) -> None:
    project = make_project()
    pyproject = project.path / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text("utf-8").replace(
            'classifiers = ["Programming Language :: Python :: 3"]',
            'classifiers = ["Programming Language :: Python :: 3", "Topic :: Releasing :: Carelessly"]',
        ),
        "utf-8",
    )
    _pypi_rules_on(project)
    write_pypirc(isolated_env, index_pair)
    result = run_cli(project.path, capsys, "release", "--test")
    assert result.code == 1, result.text
    errors = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "'Topic :: Releasing :: Carelessly'" in errors[0], result.err
    assert "fix it in [project] classifiers" in errors[0] and "Traceback" not in result.text
    assert _held(index_pair, project) == []


@needs_cc
def test_by_default_a_local_index_takes_the_linux_wheel_as_today(
    make_project, index_pair, isolated_env, capsys
) -> None:
    project = make_project()
    _with_c_extension(project)
    write_pypirc(isolated_env, index_pair)
    result = run_cli(project.path, capsys, "release", "--test")
    assert result.code == 0, result.err
    held = _held(index_pair, project)
    assert any(name.endswith(f"{PLATFORM}.whl") for name in held), held
    assert project.git("tag", "--list") == "v1.4.2"
