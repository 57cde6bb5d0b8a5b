"""`releasekit status`: read-only, and it knows where an unfinished release stands."""

from __future__ import annotations

from typing import Any

from tests.support.cli import run_cli
from tests.support.indexes import write_pypirc
from tests.support.leaks import assert_no_secret


def _status(project, capsys, *args: str) -> dict[str, Any]:
    result = run_cli(project.path, capsys, "status", "--json", *args)
    assert result.code == 0, result.err
    return result.summary()


def test_status_follows_a_release(make_project, index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, index_pair)
    before = _status(project, capsys)
    assert before["version"] == "1.4.2" and before["clean"] and before["in_progress"] is None
    assert before["last_release"]["tag"] is None
    assert before["indexes"]["test"]["reachable"] and before["indexes"]["test"]["latest"] is None
    assert before["next"]["--bump minor --pre rc"] == "1.5.0rc1"
    assert before["unknown"] == []

    assert run_cli(project.path, capsys, "release", "--test").code == 0
    tested = _status(project, capsys)
    test, live = tested["indexes"]["test"], tested["indexes"]["live"]
    assert test["has_current"] and test["complete"] and test["identical"] is True
    assert test["latest"] == "1.4.2" and not live["has_current"]
    assert tested["in_progress"] == {
        "version": "1.4.2",
        "done": ["on testpypi"],
        "finish_with": "releasekit release --yes",
    }
    text = run_cli(project.path, capsys, "status")
    assert_no_secret(text.text, index_pair.test.index.password, index_pair.live.index.password)
    assert "unfinished release of 1.4.2 (on testpypi); finish it: releasekit release --yes" in text.out
    assert (
        "test index testpypi: latest 1.4.2; has 1.4.2, complete, identical to the local artifacts" in text.out
    )
    assert "live index pypi: latest none; does not have 1.4.2" in text.out

    assert run_cli(project.path, capsys, "release", "--yes").code == 0
    (project.path / "NOTES").write_text("x\n")
    project.git("add", "NOTES")
    project.git("commit", "-qm", "after the release")
    after = _status(project, capsys)
    assert after["in_progress"] is None
    assert after["last_release"] == {"tag": "v1.4.2", "version": "1.4.2", "commits_since": 1}
    assert after["remote"]["ahead"] == 1 and after["remote"]["behind"] == 0
    assert after["indexes"]["live"]["complete"] and after["indexes"]["live"]["identical"] is True


def test_status_offline_and_with_an_index_down(make_project, fresh_index_pair, isolated_env, capsys):
    project = make_project()
    write_pypirc(isolated_env, fresh_index_pair)
    offline = _status(project, capsys, "--offline")
    assert offline["unknown"] == [
        "the remote origin (offline)",
        "what testpypi holds (offline)",
        "what pypi holds (offline)",
    ]
    fresh_index_pair.live.stop()
    try:
        down = _status(project, capsys)
    finally:
        fresh_index_pair.live.start()
    assert down["indexes"]["test"]["reachable"] and not down["indexes"]["live"]["reachable"]
    assert len(down["unknown"]) == 1 and down["unknown"][0].startswith("what pypi holds (pypi index at")
    text = run_cli(project.path, capsys, "status")
    assert text.code == 0 and "next: --bump major -> 2.0.0" in text.out
    assert_no_secret(text.text, fresh_index_pair.test.index.password, fresh_index_pair.live.index.password)
