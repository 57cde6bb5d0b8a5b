"""Reading, computing and writing the version: PEP 440, the read/write entry points, all or nothing."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from releasekit.errors import VersionError
from releasekit.versioning.detect import read_version, write_version
from releasekit.versioning.pep440 import next_version, normalise, parse_version
from tests.support.projects import Project

BUMPVERSION_DEFAULT_PARSE = """\
[bumpversion]
current_version = 1.4.2

[bumpversion:file:pyproject.toml]
search = version = "{current_version}"
replace = version = "{new_version}"

[bumpversion:file:src/pkg/__init__.py]
"""


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root (including .git) by relative path, with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# read_version


def test_read_version_from_setup_cfg(tmp_path: Path) -> None:
    write(
        tmp_path / "setup.cfg",
        "[metadata]\nname = sample\n\n"
        "[bumpversion]\ncurrent_version = 3.1.4\n\n"
        "[bumpversion:file:src/pkg/__init__.py]\n",
    )
    write(tmp_path / "pyproject.toml", '[project]\nname = "sample"\nversion = "9.9.9"\n')

    source = read_version(tmp_path)

    assert source.version == "3.1.4"
    assert source.config_file == tmp_path / "setup.cfg"
    assert source.files == (tmp_path / "setup.cfg", tmp_path / "src" / "pkg" / "__init__.py")


def test_bumpversion_cfg_wins_over_setup_cfg(tmp_path: Path) -> None:
    write(tmp_path / "setup.cfg", "[bumpversion]\ncurrent_version = 1.0.0\n\n[bumpversion:file:a.py]\n")
    write(
        tmp_path / ".bumpversion.cfg", "[bumpversion]\ncurrent_version = 2.0.0\n\n[bumpversion:file:b.py]\n"
    )

    source = read_version(tmp_path)

    assert source.version == "2.0.0"
    assert source.config_file == tmp_path / ".bumpversion.cfg"
    assert source.files == (tmp_path / ".bumpversion.cfg", tmp_path / "b.py")


def test_read_version_from_pyproject_without_bumpversion_config(tmp_path: Path) -> None:
    write(tmp_path / "setup.cfg", "[metadata]\nname = sample\n")  # a setup.cfg, but no [bumpversion]
    write(tmp_path / "pyproject.toml", '[project]\nname = "sample"\nversion = "0.7.1"\n')

    source = read_version(tmp_path)

    assert source.version == "0.7.1"
    assert source.describe() == "static [project] version in pyproject.toml"
    assert source.files == (tmp_path / "pyproject.toml",)


def test_a_dynamic_version_is_refused_with_a_hint(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "sample"\ndynamic = ["version"]\n')

    with pytest.raises(VersionError) as caught:
        read_version(tmp_path)

    assert caught.value.message.startswith("the version is dynamic in pyproject.toml")
    assert "setuptools.build_meta" in caught.value.message  # the default backend, named
    assert caught.value.hint is not None
    assert 'version = "0.1.0"' in caught.value.hint


@pytest.mark.parametrize("pyproject", [None, '[project]\nname = "sample"\n'])
def test_no_version_anywhere_is_refused(tmp_path: Path, pyproject: str | None) -> None:
    if pyproject is not None:
        write(tmp_path / "pyproject.toml", pyproject)

    with pytest.raises(VersionError) as caught:
        read_version(tmp_path)

    assert caught.value.message.startswith("no version found")
    assert caught.value.hint == 'add version = "0.1.0" to [project] in pyproject.toml'


def test_a_bumpversion_section_without_current_version_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "setup.cfg", "[bumpversion]\ncommit = False\n")

    with pytest.raises(VersionError) as caught:
        read_version(tmp_path)

    assert caught.value.message == "setup.cfg [bumpversion] has no current_version"
    assert caught.value.hint == "add current_version = 0.1.0 to [bumpversion] in setup.cfg"


# parse_version, normalise


def test_parse_version_accepts_a_public_version() -> None:
    assert str(parse_version("1.2.3rc1")) == "1.2.3rc1"


def test_parse_version_refuses_an_invalid_version() -> None:
    with pytest.raises(VersionError) as caught:
        parse_version("1.x")

    assert caught.value.message == "version '1.x' is not a valid PEP 440 version"


def test_parse_version_refuses_a_local_version() -> None:
    with pytest.raises(VersionError) as caught:
        parse_version("1.0+abc", what="new version")

    assert caught.value.message == "new version '1.0+abc' is a local version (+abc); PyPI refuses them"
    assert caught.value.hint == "release 1.0 instead"


@pytest.mark.parametrize(
    "text", ["1.2.3\n", "1.2.3\nRelease 9", " 1.2.3", "1.2.3\t", "1.2.3\r", "1.2 .3", "", "1.2.3\x1b"]
)
def test_parse_version_refuses_whitespace_line_breaks_and_empty(text: str) -> None:
    """packaging strips surrounding whitespace: "1.2.3\\n" would be valid and written as given."""
    with pytest.raises(VersionError) as caught:
        parse_version(text, what="new version")

    assert caught.value.message == f"new version {text!r} is empty or contains whitespace or a line break"
    assert "\n" not in str(caught.value)


def test_a_version_line_break_in_the_files_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "pkg"\nversion = "1.2.3\\n"\n')
    with pytest.raises(VersionError, match="contains whitespace or a line break"):
        parse_version(read_version(tmp_path).version)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("1.0.0-rc.1", "1.0.0rc1"),
        ("v2.0", "2.0"),
        ("1.0.0.post0", "1.0.0.post0"),
        ("1.0.0-ALPHA1", "1.0.0a1"),
    ],
)
def test_normalise(text: str, canonical: str) -> None:
    assert normalise(text) == canonical


def test_normalise_refuses_an_invalid_version() -> None:
    with pytest.raises(VersionError):
        normalise("not-a-version")


# next_version


@pytest.mark.parametrize(
    ("current", "part", "expected"),
    [
        ("1.4.2", "major", "2.0.0"),
        ("1.4.2", "minor", "1.5.0"),
        ("1.4.2", "patch", "1.4.3"),
        ("1.5", "patch", "1.5.1"),
        ("1.4.2.post1", "patch", "1.4.3"),
        # A bump bigger than the pre-release's pending final skips nothing.
        ("1.5.3rc1", "minor", "1.6.0"),
        ("1.5.0rc2", "major", "2.0.0"),
    ],
)
def test_next_version(current: str, part: str, expected: str) -> None:
    assert next_version(current, part) == expected


@pytest.mark.parametrize(
    ("current", "final"),
    [("1.5.0rc2", "1.5.0"), ("2.0.0rc1", "2.0.0"), ("1.5.3b1", "1.5.3"), ("1.5.0.dev3", "1.5.0")],
)
def test_a_patch_bump_of_a_pre_release_is_refused_naming_its_final(current: str, final: str) -> None:
    # The docstring: the next release of 2.0.0rc1 is 2.0.0 itself, which a patch bump would skip.
    with pytest.raises(VersionError) as caught:
        next_version(current, "patch")

    assert caught.value.message == f"--bump patch on the pre-release {current} would skip {final}"
    assert caught.value.hint == "use --bump final to release it"


@pytest.mark.parametrize(
    ("current", "part", "final"),
    [("1.5.0rc2", "minor", "1.5.0"), ("2.0.0rc1", "major", "2.0.0"), ("2.0.0b1", "minor", "2.0.0")],
)
def test_no_bump_of_a_pre_release_skips_its_final(current: str, part: str, final: str) -> None:
    with pytest.raises(VersionError) as caught:
        next_version(current, part)

    assert caught.value.message == f"--bump {part} on the pre-release {current} would skip {final}"
    assert caught.value.hint == "use --bump final to release it"


def test_a_bump_keeps_the_epoch() -> None:
    assert next_version("1!2.0.0", "major") == "1!3.0.0"


def test_next_version_refuses_an_unknown_part() -> None:
    with pytest.raises(VersionError) as caught:
        next_version("1.4.2", "micro")

    assert caught.value.message == "unknown bump 'micro'"
    assert caught.value.hint == "use one of major, minor, patch, pre, final"


def test_next_version_refuses_an_invalid_current_version() -> None:
    with pytest.raises(VersionError) as caught:
        next_version("1.x", "patch")

    assert caught.value.message == "current version '1.x' is not a valid PEP 440 version"


# write_version


@pytest.mark.parametrize("new", ["1.4.3", "2.0.0rc1"])
def test_write_version_rewrites_exactly_the_configured_files(
    make_project: Callable[..., Project], new: str
) -> None:
    project = make_project()
    root = project.path
    init = root / "src" / project.import_name / "__init__.py"
    before = snapshot(root)
    old = {p: p.read_text("utf-8") for p in (root / "setup.cfg", root / "pyproject.toml", init)}
    assert old[root / "pyproject.toml"].count("1.4.2") == 1  # the replacements below are unambiguous
    assert old[init].count("1.4.2") == 1

    changed = write_version(root, read_version(root), new)

    assert set(changed) == {root / "setup.cfg", root / "pyproject.toml", init}
    assert (root / "setup.cfg").read_text("utf-8") == old[root / "setup.cfg"].replace(
        "current_version = 1.4.2\n", f"current_version = {new}\n"
    )
    assert (root / "pyproject.toml").read_text("utf-8") == old[root / "pyproject.toml"].replace(
        'version = "1.4.2"', f'version = "{new}"'
    )
    assert init.read_text("utf-8") == old[init].replace('__version__ = "1.4.2"', f'__version__ = "{new}"')
    after = snapshot(root)
    assert set(after) == set(before)  # no file created or removed, not even under .git
    assert {name for name in after if after[name] != before[name]} == {
        "setup.cfg",
        "pyproject.toml",
        f"src/{project.import_name}/__init__.py",
    }
    status = project.git("status", "--porcelain", "--ignored").splitlines()
    assert sorted(line.strip() for line in status) == [
        "M pyproject.toml",
        "M setup.cfg",
        f"M src/{project.import_name}/__init__.py",
    ]
    assert read_version(root).version == new


@pytest.mark.parametrize("new", ["2.0.0rc1", "1.5.1.dev0", "1!2.0.0.post1"])
def test_a_pre_release_is_written_verbatim_with_the_default_parse(tmp_path: Path, new: str) -> None:
    """releasekit decides the version: bump2version's default major.minor.patch parse takes rc1."""
    write(tmp_path / "setup.cfg", BUMPVERSION_DEFAULT_PARSE)
    write(tmp_path / "pyproject.toml", '[project]\nname = "sample"\nversion = "1.4.2"\n')
    init = write(tmp_path / "src" / "pkg" / "__init__.py", '__version__ = "1.4.2"\n')

    changed = write_version(tmp_path, read_version(tmp_path), new)

    assert set(changed) == {tmp_path / "setup.cfg", tmp_path / "pyproject.toml", init}
    assert init.read_text("utf-8") == f'__version__ = "{new}"\n'
    assert f'version = "{new}"' in (tmp_path / "pyproject.toml").read_text("utf-8")
    assert read_version(tmp_path).version == new
    write_version(tmp_path, read_version(tmp_path), "2.0.0")  # and on from it, verbatim too
    assert init.read_text("utf-8") == '__version__ = "2.0.0"\n'


def test_write_version_to_a_missing_configured_file_changes_nothing(tmp_path: Path) -> None:
    write(tmp_path / "setup.cfg", BUMPVERSION_DEFAULT_PARSE)
    write(tmp_path / "pyproject.toml", '[project]\nname = "sample"\nversion = "1.4.2"\n')
    before = snapshot(tmp_path)  # src/pkg/__init__.py, which setup.cfg names, does not exist

    with pytest.raises(VersionError) as caught:
        write_version(tmp_path, read_version(tmp_path), "1.4.3")

    assert caught.value.message == "bump2version is configured to rewrite __init__.py, which does not exist"
    assert snapshot(tmp_path) == before


def test_write_version_to_a_file_without_the_current_version_changes_nothing(tmp_path: Path) -> None:
    write(tmp_path / "setup.cfg", BUMPVERSION_DEFAULT_PARSE)
    write(tmp_path / "pyproject.toml", '[project]\nname = "sample"\nversion = "1.4.2"\n')
    write(tmp_path / "src" / "pkg" / "__init__.py", '__version__ = "1.4.1"\n')  # stale
    before = snapshot(tmp_path)

    with pytest.raises(VersionError) as caught:
        write_version(tmp_path, read_version(tmp_path), "1.4.3")

    assert str(caught.value).startswith("bump2version could not write 1.4.3: ")
    assert "__init__.py" in str(caught.value)
    assert snapshot(tmp_path) == before


def _pyproject_only_project(root: Path, pyproject: str) -> Path:
    write(root / "pyproject.toml", pyproject)
    write(root / "src" / "pkg" / "__init__.py", "")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    return root / "pyproject.toml"


PYPROJECT_WITH_PIN = """\
[project]
name = "sample"
version = "{version}"
dependencies = ["companion==1.4.2"]

[project.optional-dependencies]
extra = ["companion-extra>=1.4.2"]
"""


def test_write_version_without_bumpversion_config_rewrites_only_the_version_line(tmp_path: Path) -> None:
    pyproject = _pyproject_only_project(tmp_path, PYPROJECT_WITH_PIN.format(version="1.4.2"))
    before = snapshot(tmp_path)

    changed = write_version(tmp_path, read_version(tmp_path), "1.4.3")

    assert changed == (pyproject,)
    assert pyproject.read_text("utf-8") == PYPROJECT_WITH_PIN.format(version="1.4.3")
    after = snapshot(tmp_path)
    assert set(after) == set(before)  # no new files, not even under .git
    assert {name for name in after if after[name] != before[name]} == {"pyproject.toml"}


PYPROJECT_WITH_TABLE_PIN = """\
[project]
name = "sample"
version = "{version}"

[tool.poetry.dependencies]
companion = {{ version = "1.4.2" }}
"""


def test_write_version_without_bumpversion_config_leaves_a_table_pin_alone(tmp_path: Path) -> None:
    pyproject = _pyproject_only_project(tmp_path, PYPROJECT_WITH_TABLE_PIN.format(version="1.4.2"))

    changed = write_version(tmp_path, read_version(tmp_path), "1.4.3")

    assert changed == (pyproject,)
    assert pyproject.read_text("utf-8") == PYPROJECT_WITH_TABLE_PIN.format(version="1.4.3")


@pytest.mark.parametrize(
    ("current", "part", "pre", "expected"),
    [
        ("1.4.2", "minor", None, "1.5.0"),
        ("1.4.2", "minor", "rc", "1.5.0rc1"),
        ("1.5.0rc1", "pre", None, "1.5.0rc2"),
        ("1.5.0rc2", "final", None, "1.5.0"),
        ("1.5.0a2", "pre", "b", "1.5.0b1"),
        ("1.5.0b1", "pre", "rc", "1.5.0rc1"),
        ("1.4.2", "major", "a", "2.0.0a1"),
        ("1.4.2", "patch", "b", "1.4.3b1"),
        ("1.5.0.dev3", "final", None, "1.5.0"),
        ("1.5.0.dev3", "pre", "rc", "1.5.0rc1"),
        ("1!2.0.0rc1", "final", None, "1!2.0.0"),
    ],
)
def test_pep440_bumps(current: str, part: str, pre: str | None, expected: str) -> None:
    assert next_version(current, part, pre) == expected


@pytest.mark.parametrize(
    ("current", "part", "pre", "message"),
    [
        ("1.5.0rc2", "patch", None, "--bump patch on the pre-release 1.5.0rc2 would skip 1.5.0"),
        ("1.4.2", "pre", None, "1.4.2 is not a pre-release"),
        ("1.4.2", "final", None, "1.4.2 is already a final release"),
        ("1.5.0rc1", "pre", "a", "--pre a would go back from 1.5.0rc1"),
        ("1.4.2", "minor", "dev", "unknown pre-release kind 'dev'"),
    ],
)
def test_pep440_bumps_refused(current: str, part: str, pre: str | None, message: str) -> None:
    with pytest.raises(VersionError) as caught:
        next_version(current, part, pre)
    assert caught.value.message == message
