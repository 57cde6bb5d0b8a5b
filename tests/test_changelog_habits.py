"""Release notes where real projects keep them, released end to end against real local indexes.

Each fixture follows a real repository's habit: towncrier fragments (python-attrs/attrs:
`changelog.d/` + CHANGELOG.md), zest.releaser's CHANGES.rst (zestsoftware/zest.releaser), and a
CHANGELOG.md in no format releasekit reads (a pointer to the docs' release notes, as
pallets-eco/flask-sqlalchemy keeps one).
"""

from __future__ import annotations

import datetime

import pytest

from tests.support.cli import run_cli
from tests.support.indexes import secrets_of, write_pypirc
from tests.support.leaks import assert_no_secret

pytestmark = pytest.mark.slow

TOWNCRIER = """
[tool.towncrier]
directory = "changelog.d"
filename = "CHANGELOG.md"
start_string = "<!-- towncrier release notes start -->\\n"
title_format = "## [{version}](https://github.com/o/r/tree/{version}) - {project_date}"
issue_format = "[#{issue}](https://github.com/o/r/issues/{issue})"

[[tool.towncrier.type]]
directory = "change"
name = "Changes"
showcontent = true
"""

ATTRS_CHANGELOG = """# Changelog

Versions follow Calendar Versioning.

<!-- towncrier release notes start -->

## [1.4.2](https://github.com/o/r/tree/1.4.2) - 2026-01-02

### Changes

- An earlier change.
  [#1](https://github.com/o/r/issues/1)
"""

ZEST = """Changelog
=========

1.4.3 (unreleased)
------------------

- Fixed the frobnicator. [tester]


1.4.2 (2026-01-02)
------------------

- Earlier fix.
"""


def _commit(project, message: str) -> None:
    project.git("add", "-A")
    project.git("commit", "-qm", message)
    project.git("push", "-q")


def test_towncrier_fragments_become_the_section_in_the_release_commit(
    make_project, index_pair, isolated_env, capsys
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    with (project.path / "pyproject.toml").open("a") as fh:
        fh.write(TOWNCRIER)
    (project.path / "CHANGELOG.md").write_text(ATTRS_CHANGELOG)
    fragments = project.path / "changelog.d"
    fragments.mkdir()
    (fragments / "42.change.md").write_text("The frobnicator frobs twice as fast.\n")
    (fragments / "43.change.md").write_text("Works on Python 3.14.\n")
    _commit(project, "towncrier with two fragments")

    planned = run_cli(project.path, capsys, "release", "--bump", "patch", "--dry-run")
    assert planned.code == 0, planned.err
    assert "release notes from towncrier (2 fragment(s) in changelog.d -> CHANGELOG.md)" in planned.err
    assert "The frobnicator frobs twice as fast." in planned.err  # towncrier's own draft

    released = run_cli(project.path, capsys, "release", "--bump", "patch", "--yes", "--json")
    assert released.code == 0, released.err
    summary = released.summary()
    assert summary["version"] == "1.4.3" and summary["complete"]
    assert "The frobnicator frobs twice as fast." in summary["release_notes"]
    assert "Works on Python 3.14." in summary["release_notes"]
    today = datetime.date.today().isoformat()
    changelog = (project.path / "CHANGELOG.md").read_text()
    assert f"## [1.4.3](https://github.com/o/r/tree/1.4.3) - {today}" in changelog
    assert changelog.index("1.4.3") < changelog.index("An earlier change.")
    assert not list(fragments.glob("*.md"))  # towncrier removed them, in the release commit
    stat = project.git("show", "--stat", "--format=%s", "HEAD")
    assert stat.splitlines()[0] == "Release 1.4.3"
    assert "changelog.d/42.change.md" in stat and "CHANGELOG.md" in stat
    assert project.git("status", "--porcelain") == ""
    assert_no_secret(planned.text + released.text, *secrets_of(index_pair))


def test_zest_releaser_changes_rst_is_rolled_in_its_own_style(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    (project.path / "CHANGES.rst").write_text(ZEST)
    with (project.path / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.releasekit]\nchangelog = "CHANGES.rst"\n')
    _commit(project, "zest.releaser style changelog")

    tested = run_cli(project.path, capsys, "release", "--bump", "patch", "--test", "--json")
    assert tested.code == 0, tested.err
    assert "release notes from CHANGES.rst (version-headed sections)" in tested.err
    assert tested.summary()["release_notes"] == "- Fixed the frobnicator. [tester]"
    released = run_cli(project.path, capsys, "release", "--bump", "patch", "--yes", "--json")
    assert released.code == 0, released.err
    assert released.summary()["version"] == "1.4.3" and released.summary()["complete"]
    today = datetime.date.today().isoformat()
    assert f"1.4.3 ({today})\n------------------\n" in (project.path / "CHANGES.rst").read_text()
    assert project.git("status", "--porcelain") == ""


def test_a_changelog_in_no_known_format_never_stops_a_release(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    (project.path / "CHANGELOG.md").write_text("# Changes\n\nSee https://example.invalid/changes/.\n")
    _commit(project, "a pointer to the docs")
    released = run_cli(project.path, capsys, "release", "--bump", "patch", "--yes", "--json")
    assert released.code == 0, released.err
    assert "CHANGELOG.md (a format releasekit does not read: no notes taken)" in released.err
    assert released.summary()["version"] == "1.4.3" and released.summary()["release_notes"] == ""


SCRIV_CHANGELOG = """Changelog
=========

..
    scriv-insert-here

1.4.2 — 2026-01-02
------------------

- An earlier change.
"""


def test_scriv_fragments_are_collected_into_the_release_commit(
    make_project, index_pair, isolated_env, capsys
):
    """nedbat/coveragepy's layout: [tool.scriv] in pyproject.toml, RST fragments in changelog.d/."""
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    with (project.path / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.scriv]\nformat = "rst"\n')
    (project.path / "CHANGELOG.rst").write_text(SCRIV_CHANGELOG)
    fragments = project.path / "changelog.d"
    fragments.mkdir()
    (fragments / "20261201_fix.rst").write_text("Fixed\n.....\n\n- The frobnicator no longer jams.\n")
    _commit(project, "scriv with one fragment")

    released = run_cli(project.path, capsys, "release", "--bump", "patch", "--yes", "--json")
    assert released.code == 0, released.err
    assert "release notes from scriv (1 fragment(s) in changelog.d -> CHANGELOG.rst)" in released.err
    summary = released.summary()
    assert "The frobnicator no longer jams." in summary["release_notes"]
    assert "0.0.0.dev" not in summary["release_notes"]
    changelog = (project.path / "CHANGELOG.rst").read_text()
    assert changelog.index("1.4.3") < changelog.index("The frobnicator") < changelog.index("1.4.2")
    assert not list(fragments.glob("*.rst"))
    assert "changelog.d/20261201_fix.rst" in project.git("show", "--stat", "--format=", "HEAD")
    assert project.git("status", "--porcelain") == ""


def test_a_changelog_that_is_a_symlink_is_rolled_through_it(make_project, index_pair, isolated_env, capsys):
    """CHANGELOG.md at the top is a symlink to the release notes the docs build from."""
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    docs = project.path / "docs"
    docs.mkdir()
    (docs / "changes.md").write_text(
        "# Changelog\n\n## [Unreleased]\n\n- A fix.\n\n## [1.4.2] - 2026-01-02\n\n- Old.\n"
    )
    (project.path / "CHANGELOG.md").symlink_to("docs/changes.md")
    _commit(project, "the changelog lives in the docs")
    released = run_cli(project.path, capsys, "release", "--bump", "patch", "--yes", "--json")
    assert released.code == 0, released.err
    assert released.summary()["release_notes"] == "- A fix."
    assert (project.path / "CHANGELOG.md").is_symlink()
    assert "## [1.4.3] - " in (docs / "changes.md").read_text()
    assert "docs/changes.md" in project.git("show", "--stat", "--format=", "HEAD")
    assert project.git("status", "--porcelain") == ""
