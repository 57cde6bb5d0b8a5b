"""read_version and write_version, the entry points to a project's version: which source is found,
what is refused with a hint, and a write that changes exactly the configured files or nothing."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from releasekit.errors import VersionError
from releasekit.versioning.bump2version import Bump2versionSource
from releasekit.versioning.detect import read_version, write_version
from releasekit.versioning.pep440 import parse_version
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
    assert isinstance(source, Bump2versionSource)
    assert source.config_file == tmp_path / "setup.cfg"
    assert source.files == (tmp_path / "setup.cfg", tmp_path / "src" / "pkg" / "__init__.py")


def test_bumpversion_cfg_wins_over_setup_cfg(tmp_path: Path) -> None:
    write(tmp_path / "setup.cfg", "[bumpversion]\ncurrent_version = 1.0.0\n\n[bumpversion:file:a.py]\n")
    write(
        tmp_path / ".bumpversion.cfg", "[bumpversion]\ncurrent_version = 2.0.0\n\n[bumpversion:file:b.py]\n"
    )

    source = read_version(tmp_path)

    assert source.version == "2.0.0"
    assert isinstance(source, Bump2versionSource)
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


def test_a_version_line_break_in_the_files_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "pkg"\nversion = "1.2.3\\n"\n')
    with pytest.raises(VersionError, match="contains whitespace or a line break"):
        parse_version(read_version(tmp_path).version)


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
