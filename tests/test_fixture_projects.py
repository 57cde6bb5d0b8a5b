"""Every fixture project under tests/projects/ names the real repository whose layout it copies.

The convention, one line in a file at the top of the project's folder (a comment in pyproject.toml,
setup.py, setup.cfg or .bumpversion.cfg, or a line of its README):

    Modelled on: https://github.com/<owner>/<name> (what is taken from it)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.projects import PROJECTS

MODELLED_ON = re.compile(
    r"Modelled on: https://github\.com/(?P<owner>[A-Za-z0-9][A-Za-z0-9-]*)/(?P<name>[A-Za-z0-9._-]*[A-Za-z0-9_-])"
    r"(?=[\s(]|$)",
    re.MULTILINE,
)
FOLDERS = sorted(p.name for p in PROJECTS.iterdir() if p.is_dir())


def modelled_on(folder: Path) -> list[str]:
    """Every repository the folder's own files name, as owner/name."""
    found = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        text = path.read_text(encoding="utf-8")
        found += [f"{m['owner']}/{m['name']}" for m in MODELLED_ON.finditer(text)]
    return found


def test_there_are_fixture_projects() -> None:
    assert len(FOLDERS) >= 10, FOLDERS


@pytest.mark.parametrize("folder", FOLDERS)
def test_a_fixture_project_names_one_real_repository(folder: str) -> None:
    assert len(modelled_on(PROJECTS / folder)) == 1, (
        f"tests/projects/{folder}/ must say once which repository it copies, in a line like "
        "'Modelled on: https://github.com/<owner>/<name> (what is taken from it)'"
    )


def test_the_convention_is_read_exactly(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "# Modelled on: https://github.com/pypa/pip (pyproject.toml): an attr version.\n"
        "# Modelled on pypa/packaging's pyproject.toml\n"  # no URL: not the convention
        "# Modelled on: https://github.com/pypa/build.\n"  # a sentence's full stop is no part of the name
        "# Modelled on: https://gitlab.com/pypa/flit\n",
        encoding="utf-8",
    )
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "README.md").write_text("Modelled on: https://github.com/a/b\n", encoding="utf-8")

    assert modelled_on(tmp_path) == ["pypa/pip"]
