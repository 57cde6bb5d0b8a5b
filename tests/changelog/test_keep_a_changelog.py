"""Keep a Changelog releases and every --bump form, against real repositories and indexes."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from releasekit.changelog.keep_a_changelog import ChangelogError, notes_for, roll
from tests.support.cli import run_cli
from tests.support.indexes import secrets_of, write_pypirc
from tests.support.leaks import assert_no_secret

CHANGELOG = """# Changelog

All notable changes to this project are documented here.

## [Unreleased]

### Added

- A shiny thing.

## [1.4.2] - 2026-01-02

### Fixed

- A bug.

[Unreleased]: https://github.com/o/r/compare/v1.4.2...HEAD
[1.4.2]: https://github.com/o/r/compare/v1.4.1...v1.4.2
"""


def test_roll_releases_unreleased_and_moves_the_links(tmp_path):
    path = tmp_path / "CHANGELOG.md"
    path.write_text(CHANGELOG)
    notes = notes_for(path, "1.5.0")
    assert notes.needs_roll and notes.text == "### Added\n\n- A shiny thing."
    roll(path, "1.5.0", "2026-11-21", "v{version}")
    text = path.read_text()
    assert "## [Unreleased]\n\n## [1.5.0] - 2026-11-21\n\n### Added\n\n- A shiny thing.\n" in text
    assert "[Unreleased]: https://github.com/o/r/compare/v1.5.0...HEAD\n" in text
    assert "[1.5.0]: https://github.com/o/r/compare/v1.4.2...v1.5.0\n" in text
    assert text.endswith("[1.4.2]: https://github.com/o/r/compare/v1.4.1...v1.4.2\n")
    assert notes_for(path, "1.5.0") == notes_for(path, "1.5.0")
    assert not notes_for(path, "1.5.0").needs_roll
    assert notes_for(path, "1.6.0").text == ""  # the fresh Unreleased section is empty


def test_headings_alone_are_no_notes_and_a_missing_section_is_an_error(tmp_path):
    path = tmp_path / "CHANGELOG.md"
    path.write_text("# Changelog\n\n## [Unreleased]\n\n### Added\n\n### Fixed\n")
    assert notes_for(path, "1.0.0").text == ""
    path.write_text("# Changelog\n\n## [0.9.0] - 2026-01-01\n\n- old\n")
    with pytest.raises(ChangelogError, match="no '## \\[Unreleased\\]' section"):
        notes_for(path, "1.0.0")


def _with_changelog(project, text: str = CHANGELOG) -> None:
    (project.path / "CHANGELOG.md").write_text(text)
    project.git("add", "CHANGELOG.md")
    project.git("commit", "-qm", "Keep a changelog")
    project.git("push", "-q")


def _note(project, line: str) -> None:
    path = project.path / "CHANGELOG.md"
    path.write_text(path.read_text().replace("## [Unreleased]\n", f"## [Unreleased]\n\n- {line}\n", 1))
    project.git("commit", "-qam", line)


def test_every_bump_form_with_changelog(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    _with_changelog(project)
    today = datetime.date.today().isoformat()

    rc1 = run_cli(project.path, capsys, "release", "--bump", "minor", "--pre", "rc", "--yes", "--json")
    assert rc1.code == 0, rc1.err
    summary = rc1.summary()
    assert summary["version"] == "1.5.0rc1"
    assert summary["release_notes"] == "### Added\n\n- A shiny thing."
    assert "release notes for 1.5.0rc1:" in rc1.err and "- A shiny thing." in rc1.err
    changelog = (project.path / "CHANGELOG.md").read_text()
    assert f"## [Unreleased]\n\n## [1.5.0rc1] - {today}\n" in changelog
    assert "[1.5.0rc1]: https://github.com/o/r/compare/v1.4.2...v1.5.0rc1" in changelog
    assert project.git("show", "--stat", "--format=%s", "HEAD").splitlines()[0] == "Release 1.5.0rc1"
    assert "CHANGELOG.md" in project.git("show", "--stat", "--format=", "HEAD")

    refused = run_cli(project.path, capsys, "release", "--bump", "patch", "--yes")
    assert refused.code == 1
    assert "--bump patch on the pre-release 1.5.0rc1 would skip 1.5.0; use --bump final" in refused.err

    empty = run_cli(project.path, capsys, "release", "--bump", "pre", "--yes")
    assert (
        empty.code == 1
        and "has no notes for 1.5.0rc2" in empty.err
        and "--allow-empty-changelog" in empty.err
    )
    assert project.git("tag", "--list", "v1.5.0rc2") == ""

    _note(project, "Second candidate.")
    rc2 = run_cli(project.path, capsys, "release", "--bump", "pre", "--yes", "--json")
    assert rc2.code == 0, rc2.err
    assert rc2.summary()["version"] == "1.5.0rc2"

    final = run_cli(
        project.path, capsys, "release", "--bump", "final", "--yes", "--allow-empty-changelog", "--json"
    )
    assert final.code == 0, final.err
    assert final.summary()["version"] == "1.5.0"
    assert "has no notes for 1.5.0" in final.err  # said, then allowed

    tested = run_cli(project.path, capsys, "release", "--bump", "major", "--test", "--json")
    assert tested.code == 0, tested.err  # --test only warns about empty notes
    assert tested.summary()["version"] == "2.0.0"
    assert "warning: CHANGELOG.md has no notes for 2.0.0" in tested.err
    tags = set(project.git("tag", "--list").split())
    assert {"v1.5.0rc1", "v1.5.0rc2", "v1.5.0", "v2.0.0"} <= tags
    assert_no_secret(rc1.text + rc2.text + final.text + tested.text, *secrets_of(index_pair))


def test_release_without_bump_commits_the_changelog(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    _with_changelog(project)
    before = project.git("rev-parse", "HEAD")
    result = run_cli(project.path, capsys, "release", "--test", "--json")
    assert result.code == 0, result.err
    # 1.4.2 already has a section: nothing to roll, the tag goes on HEAD as it is.
    assert project.git("rev-parse", "v1.4.2^{commit}") == before


def test_no_changelog_is_one_note(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    result = run_cli(project.path, capsys, "release", "--dry-run")
    assert result.code == 0, result.err
    assert "note: no CHANGELOG.md: release notes skipped" in result.err


def test_new_version_is_normalised_and_must_move_forward(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    result = run_cli(project.path, capsys, "release", "--new-version", "1.5.0-RC.2", "--dry-run")
    assert result.code == 0, result.err
    assert "version '1.5.0-RC.2' normalised to '1.5.0rc2'" in result.err
    assert "1.4.2 -> 1.5.0rc2" in result.err
    assert Path(project.path / "setup.cfg").read_text().count("1.4.2") == 1  # dry run: nothing written


def _pyproject_only(project) -> None:
    """The version lives only in pyproject.toml (no bump2version config)."""
    (project.path / "setup.cfg").unlink()
    init = project.path / "src" / project.import_name / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "1.4.2"', '__version__ = "see metadata"'))
    with (project.path / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.releasekit]\npost-release = "dev"\n')
    project.git("add", "-A")
    project.git("commit", "-qm", "version in pyproject only; post-release dev")
    project.git("push", "-q")


def test_post_release_moves_the_files_to_the_next_dev0(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    _pyproject_only(project)
    released = run_cli(project.path, capsys, "release", "--yes", "--json")
    assert released.code == 0, released.err
    assert released.summary()["next_version"] == "1.4.3.dev0"
    assert 'version = "1.4.3.dev0"' in (project.path / "pyproject.toml").read_text()
    assert project.git("log", "-1", "--format=%s") == "Start 1.4.3.dev0"
    assert project.git("rev-parse", "v1.4.2^{commit}") == project.git("rev-parse", "HEAD~1")
    assert project.git("status", "--porcelain") == ""
    again = run_cli(project.path, capsys, "release", "--yes")
    assert again.code == 1 and "1.4.3.dev0 is a development version" in again.err
    assert "--bump final" in again.err
    final = run_cli(project.path, capsys, "release", "--bump", "final", "--test", "--json")
    assert final.code == 0, final.err
    assert final.summary()["version"] == "1.4.3"
    assert_no_secret(released.text + again.text + final.text, *secrets_of(index_pair))


def test_post_release_dev_is_written_by_a_bump2version_parse_without_dev(
    make_project, index_pair, isolated_env, capsys
):
    project = make_project()  # its parse knows rc, not dev: bump2version is given 1.4.3.dev0 verbatim
    write_pypirc(isolated_env, index_pair)
    with (project.path / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.releasekit]\npost-release = "dev"\n')
    project.git("commit", "-qam", "post-release dev")
    project.git("push", "-q")
    released = run_cli(project.path, capsys, "release", "--yes", "--json")
    assert released.code == 0, released.err
    assert released.summary()["complete"] and released.summary()["next_version"] == "1.4.3.dev0"
    assert project.git("log", "-1", "--format=%s") == "Start 1.4.3.dev0"
    assert project.git("status", "--porcelain") == ""  # every rewritten file is committed
    assert "current_version = 1.4.3.dev0" in (project.path / "setup.cfg").read_text()
    init = project.path / "src" / project.import_name / "__init__.py"
    assert '__version__ = "1.4.3.dev0"' in init.read_text()


def test_post_release_that_the_config_cannot_write_is_a_warning(
    make_project, index_pair, isolated_env, capsys
):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    config = project.path / "setup.cfg"  # one serialize only, with adjacent parts: no dev in it
    config.write_text(config.read_text().replace("\t{major}.{minor}.{patch}\n", ""))
    with (project.path / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.releasekit]\npost-release = "dev"\n')
    project.git("commit", "-qam", "post-release dev")
    project.git("push", "-q")
    released = run_cli(project.path, capsys, "release", "--yes", "--json")
    assert released.code == 0, released.err  # the release itself is complete
    assert "warning: post-release bump to 1.4.3.dev0 skipped" in released.err
    assert released.summary()["complete"] and released.summary()["next_version"] == ""
    assert project.git("status", "--porcelain") == ""  # every file restored
    assert "current_version = 1.4.2" in config.read_text()
