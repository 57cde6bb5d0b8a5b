"""Every preflight refusal: one line, exit 1, no traceback, and nothing changed."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import Result, run_cli
from tests.support.indexes import IndexPair, write_pypirc
from tests.support.leaks import assert_no_secret
from tests.support.projects import Project


def _state(project: Project) -> tuple[str, ...]:
    return (
        project.git("rev-parse", "HEAD"),
        project.git("tag", "--list"),
        project.git("status", "--porcelain", "--ignored"),
        project.git("ls-remote", "origin"),
        (project.path / "setup.cfg").read_text(),
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _assert_refused(result: Result, expected: str, *secrets: str) -> None:
    assert result.code == 1, result.err
    last = result.err.strip().splitlines()[-1]
    assert last.startswith("error: ") and expected in last, result.err
    assert "Traceback" not in result.err
    assert_no_secret(result.text, *secrets)


def _dirty_tracked(p: Project, pair: IndexPair) -> None:
    (p.path / "README.md").write_text("changed\n")


def _untracked(p: Project, pair: IndexPair) -> None:
    (p.path / "notes.txt").write_text("token?\n")


def _detached(p: Project, pair: IndexPair) -> None:
    p.git("checkout", "--quiet", "--detach")


def _other_branch(p: Project, pair: IndexPair) -> None:
    p.git("switch", "--quiet", "-c", "feature")


def _behind(p: Project, pair: IndexPair) -> None:
    other = p.path.parent / "other-clone"
    subprocess.run(["git", "clone", "--quiet", str(p.remote), str(other)], check=True)
    (other / "CHANGES").write_text("x\n")
    for args in (["add", "CHANGES"], ["commit", "-qm", "upstream work"], ["push", "-q"]):
        subprocess.run(["git", *args], cwd=other, check=True)


def _newer_tag(p: Project, pair: IndexPair) -> None:
    p.git("tag", "v1.5.0")


def _tag_elsewhere(p: Project, pair: IndexPair) -> None:
    p.git("tag", "-a", "-m", "old", "v1.4.2")
    (p.path / "CHANGES").write_text("x\n")
    p.git("add", "CHANGES")
    p.git("commit", "-qm", "more work")
    p.git("push", "-q")


def _no_test_credentials(p: Project, pair: IndexPair) -> None:
    pypirc = Path.home() / ".pypirc"
    text = pypirc.read_text()
    pypirc.write_text(text.replace(f"password = {pair.test.index.password}\n", "", 1))


def _test_index_down(p: Project, pair: IndexPair) -> None:
    pypirc = Path.home() / ".pypirc"
    pypirc.write_text(pypirc.read_text().replace(pair.test.index.url, f"http://127.0.0.1:{_closed_port()}/"))


def _push_refused(p: Project, pair: IndexPair) -> None:
    p.git("config", "remote.origin.pushurl", str(p.path.parent / "no-such-remote.git"))


def _unknown_config_key(p: Project, pair: IndexPair) -> None:
    with (p.path / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.releasekit]\ntag-fromat = "release-{version}"\n')
    p.git("commit", "-qam", "configure releasekit")


def _plain_http_credentials(p: Project, pair: IndexPair) -> None:
    pypirc = Path.home() / ".pypirc"
    pypirc.write_text(pypirc.read_text().replace(pair.test.index.url, "http://index.example.invalid/"))


CASES: dict[str, tuple[Callable[[Project, IndexPair], None], list[str], str]] = {
    "tracked changes": (_dirty_tracked, ["--test"], "uncommitted changes (README.md)"),
    "untracked file": (_untracked, ["--test"], "untracked files would be swept into the sdist (notes.txt)"),
    "detached HEAD": (_detached, ["--test"], "HEAD is detached"),
    "not the release branch": (_other_branch, ["--test"], "not the release branch 'main'"),
    "behind upstream": (_behind, ["--test"], "is behind origin/main"),
    "invalid version": (lambda p, i: None, ["--test", "--new-version", "1.x"], "not a valid PEP 440 version"),
    "local version": (lambda p, i: None, ["--test", "--new-version", "1.5.0+corp"], "is a local version"),
    "not greater": (_newer_tag, ["--test"], "not greater than the last released one (1.5.0)"),
    "not greater (explicit)": (
        lambda p, i: None,
        ["--test", "--new-version", "1.4.1"],
        "not greater than the current one (1.4.2)",
    ),
    "tag elsewhere": (_tag_elsewhere, ["--test"], "tag v1.4.2 already exists at"),
    "no credentials": (_no_test_credentials, ["--test"], "no credentials for testpypi"),
    "index unreachable": (_test_index_down, ["--test"], "is unreachable"),
    "credentials over http": (_plain_http_credentials, ["--test"], "over plain http"),
    "no terminal, no --yes": (lambda p, i: None, [], "needs confirmation and there is no terminal"),
    "push refused": (_push_refused, ["--yes"], "would refuse the push of main and v1.4.2"),
    "unknown config key": (_unknown_config_key, ["--test"], "did you mean 'tag-format'"),
    "bump and new version": (
        lambda p, i: None,
        ["--bump", "patch", "--new-version", "2.0"],
        "cannot be combined",
    ),
    "unknown bump": (lambda p, i: None, ["--test", "--bump", "huge"], "unknown bump 'huge'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_refusal_changes_nothing(case, make_project, index_pair, isolated_env, capsys):
    setup, args, expected = CASES[case]
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    setup(project, index_pair)
    before = _state(project)
    result = run_cli(project.path, capsys, "release", *args)
    _assert_refused(result, expected, index_pair.test.index.password, index_pair.live.index.password)
    assert _state(project) == before
    assert not (project.path / ".git" / "releasekit" / "artifacts").exists()


def test_not_a_git_work_tree(tmp_path, index_pair, isolated_env, capsys):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1.0"\n')
    write_pypirc(isolated_env, index_pair)
    result = run_cli(tmp_path / "pkg", capsys, "release", "--test")
    _assert_refused(result, "is not inside a git work tree")


def test_version_already_on_live_index(make_project, index_pair, isolated_env, capsys):
    """Another copy of the project published 1.4.2 live; this one must not publish 1.4.2 again."""
    write_pypirc(isolated_env, index_pair)
    first = make_project()
    # Aim the "test" upload of the first copy at the live index, so only the live index holds it.
    published = run_cli(
        first.path, capsys, "release", "--test", "--test-repository", "pypi", "--repository", "testpypi"
    )
    assert published.code == 0, published.err
    second = make_project(name=first.name)
    before = _state(second)
    result = run_cli(second.path, capsys, "release", "--yes")
    _assert_refused(result, "1.4.2 is already on pypi", index_pair.test.index.password)
    assert _state(second) == before


def test_dependencies_resolve_from_the_live_index_only(make_project, index_pair, isolated_env, capsys):
    """A dependency that exists only on the test index must not be installed from there."""
    write_pypirc(isolated_env, index_pair)
    dependency = make_project()
    assert run_cli(dependency.path, capsys, "release", "--test").code == 0  # test index only
    project = make_project()
    pyproject = project.path / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("dependencies = []", f'dependencies = ["{dependency.name}"]')
    )
    project.git("commit", "-qam", "depend on a package that is not on the live index")
    result = run_cli(project.path, capsys, "release", "--test")
    assert result.code == 1
    assert "installing the dependencies" in result.err and "Traceback" not in result.err
    # Once the dependency is on the live index, the same command finishes the release.
    assert run_cli(dependency.path, capsys, "release", "--yes").code == 0
    finished = run_cli(project.path, capsys, "release", "--test", "--json")
    assert finished.code == 0, finished.err
    assert finished.summary()["destinations"][0]["verified"] is True
