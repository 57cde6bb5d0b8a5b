"""Version-headed changelogs as real projects write them, read and rolled in their own style."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasekit.changelog.detect import detect
from releasekit.changelog.version_headed import VersionHeaded
from releasekit.errors import ChangelogError

# zest.releaser's own CHANGES.rst (zestsoftware/zest.releaser).
ZEST = """Changelog for zest.releaser
===========================

9.9.2 (unreleased)
------------------

- Fixed the thing. [maurits]


9.9.1 (2024-06-10)
------------------

- Earlier fix.
"""

# Pallets' CHANGES.rst (pallets/flask, pallets/click).
PALLETS = """Version 3.1.0
-------------

Unreleased

-   Drop support for Python 3.8.


Version 3.0.3
-------------

Released 2024-04-07

-   The default ``hashlib.sha1`` may not be available.
"""

MARKDOWN = """# Changelog

## 1.3.1 (unreleased)

- A fix.

## 1.3.0 (2024-05-01)

- A feature.
"""

BRACKETS = """# Changelog

## [1.3.1] - Unreleased

### Fixed

- A fix.

## [1.3.0] - 2024-05-01

- A feature.
"""

BOLD = """Changes
=======

1.3.1
-----

**unreleased**

- A fix.

1.3.0
-----

**released 2024-05-01**

- A feature.
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "text", "notes", "rolled"),
    [
        ("CHANGES.rst", ZEST, "- Fixed the thing. [maurits]", "9.9.2 (2026-12-02)\n------------------\n"),
        (
            "CHANGES.rst",
            PALLETS,
            "-   Drop support for Python 3.8.",
            "Version 3.1.0\n-------------\n\nReleased 2026-12-02\n",
        ),
        ("CHANGELOG.md", MARKDOWN, "- A fix.", "## 1.3.1 (2026-12-02)\n\n- A fix.\n"),
        ("CHANGELOG.md", BRACKETS, "### Fixed\n\n- A fix.", "## [1.3.1] - 2026-12-02\n"),
        ("CHANGES.rst", BOLD, "- A fix.", "1.3.1\n-----\n\n**released 2026-12-02**\n"),
    ],
)
def test_each_style_gives_its_notes_and_rolls_as_its_history_shows(tmp_path, name, text, notes, rolled):
    path = write(tmp_path, name, text)
    source = detect(tmp_path, name)
    assert isinstance(source, VersionHeaded)
    version = {ZEST: "9.9.2", PALLETS: "3.1.0"}.get(text, "1.3.1")
    found = source.notes_for(version)
    assert found.text == notes and found.needs_roll
    assert source.roll(version, "2026-12-02", "v{version}") == (path,)
    after = path.read_text(encoding="utf-8")
    assert rolled in after
    assert after.count("nreleased") == 0
    again = VersionHeaded(path, after)
    assert again.notes_for(version).text == notes and not again.notes_for(version).needs_roll


def test_a_bump_past_the_version_in_the_heading_renames_the_section(tmp_path):
    path = write(tmp_path, "CHANGES.rst", ZEST)
    source = detect(tmp_path, "CHANGES.rst")
    assert source.notes_for("10.0.0").needs_roll
    source.roll("10.0.0", "2026-12-02", "v{version}")
    assert "10.0.0 (2026-12-02)\n-------------------\n" in path.read_text(encoding="utf-8")


def test_zest_placeholder_is_no_notes_and_the_hint_names_the_section(tmp_path):
    write(tmp_path, "CHANGES.rst", ZEST.replace("- Fixed the thing. [maurits]", "- Nothing changed yet."))
    source = detect(tmp_path, "CHANGES.rst")
    assert source.notes_for("9.9.2").text == ""
    error = source.missing_notes("9.9.2")
    assert isinstance(error, ChangelogError) and "under '9.9.2 (unreleased)'" in (error.hint or "")


def test_a_file_in_no_known_format_is_no_changelog_and_not_a_refusal(tmp_path):
    write(tmp_path, "CHANGELOG.md", "# Changes\n\nSee the documentation's release notes.\n")
    source = detect(tmp_path, "CHANGELOG.md")
    assert source.kind == "none" and source.notes_for("1.0.0").text == ""
    assert "CHANGELOG.md" in source.describe() and "does not read" in source.describe()
