"""The journal in .git/releasekit/: atomic writes, damaged files set aside, records round-trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from releasekit.release import journal
from releasekit.release.journal import load, write_atomic


def test_write_atomic_leaves_only_the_target(tmp_path: Path) -> None:
    target = tmp_path / "state" / "nested" / "journal.json"

    write_atomic(target, '{"a": 1}\n')
    write_atomic(target, '{"a": 2}\n')  # replacing an existing file

    assert target.read_text("utf-8") == '{"a": 2}\n'
    assert [p.name for p in target.parent.iterdir()] == ["journal.json"]


def test_write_atomic_that_fails_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "state" / "journal.json"
    target.mkdir(parents=True)  # os.replace cannot put a file over a directory

    with pytest.raises(OSError):
        write_atomic(target, "{}\n")

    assert [p.name for p in target.parent.iterdir()] == ["journal.json"]
    assert target.is_dir()
    assert list(target.iterdir()) == []


def test_load_without_a_journal_is_empty_and_writes_nothing(tmp_path: Path) -> None:
    git_dir = tmp_path / ".git"
    git_dir.mkdir()

    loaded = load(git_dir)

    assert loaded.data == {}
    assert loaded.path == git_dir / "releasekit" / "journal.json"
    assert list(git_dir.iterdir()) == []


@pytest.mark.parametrize("damage", [b'{"releases": {"1.0.0": ', b"\xff\xfe not utf-8", b""])
def test_a_damaged_journal_is_set_aside(tmp_path: Path, damage: bytes) -> None:
    git_dir = tmp_path / ".git"
    path = journal.state_dir(git_dir) / "journal.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(damage)

    loaded = load(git_dir)

    assert loaded.data == {}
    assert not path.exists()
    assert (path.parent / "journal.damaged").read_bytes() == damage
    loaded.record("1.0.0", "building", True)  # and the fresh journal works
    assert json.loads(path.read_text("utf-8")) == {
        "releases": {"1.0.0": {"uploads": {}, "verified": [], "building": True}}
    }


def test_uploads_and_verifications_round_trip(tmp_path: Path) -> None:
    git_dir = tmp_path / ".git"
    first = load(git_dir)

    first.record_upload("1.4.2", "testpypi", "rk_sample-1.4.2-py3-none-any.whl", "uploaded")
    first.record_upload("1.4.2", "testpypi", "rk_sample-1.4.2.tar.gz", "present")
    first.record_upload("1.4.2", "pypi", "rk_sample-1.4.2-py3-none-any.whl", "uploaded")
    first.record_verified("1.4.2", "testpypi")
    first.record_verified("1.4.2", "testpypi")  # recorded once
    again = load(git_dir)

    assert again.data == first.data
    assert again.release("1.4.2")["uploads"] == {
        "testpypi": {
            "rk_sample-1.4.2-py3-none-any.whl": "uploaded",
            "rk_sample-1.4.2.tar.gz": "present",
        },
        "pypi": {"rk_sample-1.4.2-py3-none-any.whl": "uploaded"},
    }
    assert again.release("1.4.2")["verified"] == ["testpypi"]
    assert again.verified("1.4.2", "testpypi")
    assert not again.verified("1.4.2", "pypi")
    assert not again.verified("1.4.3", "testpypi")
    assert [p.name for p in journal.state_dir(git_dir).iterdir()] == ["journal.json"]


@pytest.mark.parametrize("text", ["[]", '{"releases": []}'])
def test_a_journal_of_the_wrong_shape_is_set_aside(tmp_path: Path, text: str) -> None:
    git_dir = tmp_path / ".git"
    path = journal.state_dir(git_dir) / "journal.json"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")

    loaded = load(git_dir)

    assert loaded.data == {}
    assert (path.parent / "journal.damaged").read_text("utf-8") == text
