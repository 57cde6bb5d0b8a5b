"""Uploads that go wrong on the wire: real pypiserver indexes behind a proxy that breaks them.

Every test checks that nothing is lost (the index holds our bytes or nothing), nothing leaks
(no secret in any output), and that a plain re-run finishes the job. The retries in
upload.upload sleep 1, 2, 4 s with jitter; where that would only slow a CLI run down, the
default ``sleep`` is swapped for a recorder (``no_sleep``), and the hang test keeps real time.
"""

from __future__ import annotations

import hashlib
import http.client
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from releasekit.dists import artifact
from releasekit.errors import UploadError
from releasekit.indexes import listing, resolve, upload
from releasekit.testing.localindex import LocalIndexServer
from tests.support.cli import Result, run_cli
from tests.support.dists import make_wheel, unique_name
from tests.support.faultproxy import FaultProxy
from tests.support.indexes import IndexPair, write_pypirc
from tests.support.leaks import assert_no_secret
from tests.support.projects import Project

TIMEOUT = 3


@pytest.fixture
def proxy() -> Iterator[Callable[[LocalIndexServer], FaultProxy]]:
    """A factory of started proxies, stopped at the end; none may have hit an unexpected error."""
    with ExitStack() as stack:
        started: list[FaultProxy] = []

        def start(server: LocalIndexServer) -> FaultProxy:
            started.append(stack.enter_context(FaultProxy(server.index.url)))
            return started[-1]

        yield start
    assert [e for p in started for e in p.errors] == []


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """upload.upload's backoff, recorded instead of slept."""
    delays: list[float] = []
    defaults = upload.upload.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "sleep", delays.append)
    return delays


def pypirc_via(home: Path, pair: IndexPair, test: FaultProxy | None, live: FaultProxy | None) -> None:
    """``.pypirc`` whose repository URLs go through the proxies; the passwords are the indexes'."""
    path = write_pypirc(home, pair)
    text = path.read_text()
    for server, via in ((pair.test, test), (pair.live, live)):
        if via is not None:
            text = text.replace(f"repository = {server.index.url}\n", f"repository = {via.url}\n")
    path.write_text(text)


def with_timeout(project: Project) -> Project:
    pyproject = project.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + f"\n[tool.releasekit]\ntimeout = {TIMEOUT}\n")
    project.git("commit", "-qam", f"network timeout {TIMEOUT}s")
    return project


def stored(server: LocalIndexServer, project: Project) -> dict[str, str]:
    """What the index really keeps for the project, read from its packages directory."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in server.index.packages_dir.rglob("*")
        if p.is_file() and p.name.startswith(project.import_name)
    }


def error_line(result: Result, pair: IndexPair) -> str:
    """A failed run: exit 1, one error line, no traceback, no secret."""
    assert result.code == 1, result.err
    assert "Traceback" not in result.text
    assert_no_secret(result.text, pair.test.index.password, pair.live.index.password)
    errors = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.err
    assert result.err.strip().splitlines()[-1] == errors[0]
    return errors[0]


def succeeded(result: Result, pair: IndexPair) -> dict[str, dict[str, str]]:
    """A successful --json run: the per-index file outcomes."""
    assert result.code == 0, result.err
    assert "Traceback" not in result.text
    assert_no_secret(result.text, pair.test.index.password, pair.live.index.password)
    return {d["index"]: d["files"] for d in result.summary()["destinations"]}


def names(project: Project) -> tuple[str, str]:
    return f"{project.import_name}-1.4.2-py3-none-any.whl", f"{project.import_name}-1.4.2.tar.gz"


# -- the test index answers badly --------------------------------------------------------------


def test_stored_then_503_is_success_with_one_post_per_file(
    make_project, index_pair, isolated_env, capsys, proxy
):
    project = with_timeout(make_project())
    via = proxy(index_pair.test)
    pypirc_via(isolated_env, index_pair, via, None)
    via.set("store-then-503")
    result = run_cli(project.path, capsys, "release", "--test", "--json")
    files = succeeded(result, index_pair)
    wheel, sdist = names(project)
    assert files == {"testpypi": {wheel: "uploaded", sdist: "uploaded"}}
    assert via.uploads == [(wheel, "store-then-503"), (sdist, "store-then-503")]
    assert "already exists" not in result.text
    assert stored(index_pair.test, project) == {f["filename"]: f["sha256"] for f in result.summary()["files"]}


def test_503_is_retried_with_growing_bounded_backoff(index_pair, tmp_path, proxy):
    via = proxy(index_pair.test)
    index = index_pair.test.index
    repo = resolve.Repository("flaky", via.url, via.url + "simple/", index.username, index.password)
    name = unique_name()
    delays: list[float] = []

    via.set("503", times=2)
    art = artifact.describe(make_wheel(tmp_path, name, "1.0"))
    result = upload.upload(repo, art, timeout=TIMEOUT, sleep=delays.append)
    assert result.outcome == "uploaded"
    assert [m for _, m in via.uploads] == ["503", "503", "pass"]
    assert len(delays) == 2 and 0.5 <= delays[0] <= 1 <= delays[1] <= 2
    assert via.requests_seen == 6  # each 503 settled by reading the index: GET, POST, GET, POST, GET, POST
    assert listing.list_files(repo, name, TIMEOUT)[art.filename].sha256 == art.sha256

    delays.clear()
    via.set("503")
    art = artifact.describe(make_wheel(tmp_path, name, "1.1"))
    with pytest.raises(UploadError) as failure:
        upload.upload(repo, art, timeout=TIMEOUT, attempts=8, sleep=delays.append)
    assert "failed after 8 attempts (503 Service Unavailable)" in str(failure.value)
    assert "re-run" in str(failure.value)
    assert_no_secret(str(failure.value), index.password)
    assert via.posts("503")[2:] == [art.filename] * 8
    assert len(delays) == 7
    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(30.0, 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert delays[:5] == sorted(delays[:5])  # 1, 2, 4, 8, 16 with jitter: the ranges do not overlap
    assert max(delays) <= 30
    assert art.filename not in listing.list_files(repo, name, TIMEOUT)


def test_dropped_connection_then_store_and_drop_is_settled_by_the_index(
    make_project, index_pair, isolated_env, capsys, proxy, no_sleep
):
    project = with_timeout(make_project())
    via = proxy(index_pair.test)
    pypirc_via(isolated_env, index_pair, via, None)
    wheel, sdist = names(project)

    via.set("drop")
    line = error_line(run_cli(project.path, capsys, "release", "--test"), index_pair)
    assert f"uploading {wheel} to testpypi failed after 4 attempts (ConnectionError)" in line
    assert "re-run the same command" in line
    assert via.uploads == [(wheel, "drop")] * 4  # the first failure ends the loop: no sdist
    assert len(no_sleep) == 3 and stored(index_pair.test, project) == {}

    via.set("store-then-drop")  # the index keeps each file, the client never hears back
    finished = run_cli(project.path, capsys, "release", "--test", "--json")
    assert succeeded(finished, index_pair) == {"testpypi": {wheel: "uploaded", sdist: "uploaded"}}
    assert via.uploads[4:] == [(wheel, "store-then-drop"), (sdist, "store-then-drop")]
    assert len(no_sleep) == 3  # settled by reading the index, no retry
    assert stored(index_pair.test, project) == {
        f["filename"]: f["sha256"] for f in finished.summary()["files"]
    }


def test_truncated_file_on_the_test_index_stops_before_live(
    make_project, index_pair, isolated_env, capsys, proxy, no_sleep
):
    project = with_timeout(make_project())
    test_via, live_via = proxy(index_pair.test), proxy(index_pair.live)
    pypirc_via(isolated_env, index_pair, test_via, live_via)
    wheel, _ = names(project)
    test_via.set("truncate", times=1)
    line = error_line(run_cli(project.path, capsys, "release", "--yes"), index_pair)
    assert f"testpypi already holds {wheel} with different bytes" in line
    assert "on a private index delete that file" in line and "burnt: bump the version" in line
    assert test_via.uploads == [(wheel, "truncate")] and no_sleep == []
    artifact = project.path / ".git" / "releasekit" / "artifacts" / "1.4.2" / wheel
    kept = index_pair.test.index.packages_dir / wheel
    assert kept.read_bytes() == artifact.read_bytes()[: artifact.stat().st_size // 2]

    again = error_line(run_cli(project.path, capsys, "release", "--yes"), index_pair)
    assert f"testpypi holds {wheel} with other bytes than this release built" in again
    assert "bump the version" in again
    assert live_via.uploads == [] and stored(index_pair.live, project) == {}
    assert "v1.4.2" not in project.git("ls-remote", "--tags", "origin")


def test_4xx_refusals_are_not_retried_then_rerun_finishes(
    make_project, index_pair, isolated_env, capsys, proxy, no_sleep
):
    project = with_timeout(make_project())
    test_via, live_via = proxy(index_pair.test), proxy(index_pair.live)
    pypirc_via(isolated_env, index_pair, test_via, live_via)
    wheel, sdist = names(project)

    test_via.set("413")
    line = error_line(run_cli(project.path, capsys, "release", "--yes"), index_pair)
    assert f"testpypi refused {wheel}: 413 {http.client.responses[413]}" in line
    assert test_via.uploads == [(wheel, "413")]

    test_via.set("exists-other")  # "File already exists", yet the index does not list the file
    line = error_line(run_cli(project.path, capsys, "release", "--yes"), index_pair)
    assert f"testpypi says {wheel} already exists, but does not list it" in line and "bump" in line
    assert test_via.uploads[1:] == [(wheel, "exists-other")]
    assert no_sleep == [] and live_via.uploads == []
    assert stored(index_pair.test, project) == {} and stored(index_pair.live, project) == {}

    test_via.set("pass")
    files = succeeded(run_cli(project.path, capsys, "release", "--yes", "--json"), index_pair)
    assert files == {
        "testpypi": {wheel: "uploaded", sdist: "uploaded"},
        "pypi": {wheel: "uploaded", sdist: "uploaded"},
    }
    assert stored(index_pair.live, project) == stored(index_pair.test, project)


def test_exists_but_not_listed_names_the_burnt_file_name(index_pair, tmp_path, proxy):
    via = proxy(index_pair.test)
    index = index_pair.test.index
    repo = resolve.Repository("strict", via.url, via.url + "simple/", index.username, index.password)
    via.set("exists-other")
    with pytest.raises(UploadError) as failure:
        upload.upload(repo, artifact.describe(make_wheel(tmp_path, unique_name())), timeout=TIMEOUT)
    assert len(via.uploads) == 1
    assert "already exists" in str(failure.value) and "bump" in str(failure.value)


def test_outage_during_the_settling_read_is_retried(index_pair, tmp_path, proxy):
    via = proxy(index_pair.test)
    index = index_pair.test.index
    repo = resolve.Repository("shaky", via.url, via.url + "simple/", index.username, index.password)
    delays: list[float] = []
    via.set("outage", times=1)  # POST 503, then the GET that settles it 503 too; then all is well
    art = artifact.describe(make_wheel(tmp_path, unique_name()))
    result = upload.upload(repo, art, timeout=TIMEOUT, sleep=delays.append)
    assert result.outcome == "uploaded" and len(delays) == 1
    assert [m for _, m in via.uploads] == ["outage", "pass"]


# -- the live index answers badly --------------------------------------------------------------


def test_hang_on_live_ends_in_bounded_time_then_rerun_finishes(
    make_project, index_pair, isolated_env, capsys, proxy, no_sleep
):
    project = with_timeout(make_project())
    test_via, live_via = proxy(index_pair.test), proxy(index_pair.live)
    pypirc_via(isolated_env, index_pair, test_via, live_via)
    wheel, sdist = names(project)

    live_via.set("hang")
    start = time.monotonic()
    hung = run_cli(project.path, capsys, "release", "--yes")
    elapsed = time.monotonic() - start
    line = error_line(hung, index_pair)
    assert 4 * TIMEOUT <= elapsed < 60  # four timed-out attempts, plus the build
    assert len(no_sleep) == 3 and sum(no_sleep) <= 1 + 2 + 4  # slept for real: at most 7 s more
    assert f"uploading {wheel} to pypi failed after 4 attempts (ReadTimeout)" in line
    assert "re-run the same command" in line
    assert live_via.uploads == [(wheel, "hang")] * 4
    assert test_via.uploads == [(wheel, "pass"), (sdist, "pass")]
    assert stored(index_pair.live, project) == {}

    live_via.set("pass")
    files = succeeded(run_cli(project.path, capsys, "release", "--yes", "--json"), index_pair)
    assert files == {
        "testpypi": {wheel: "present", sdist: "present"},
        "pypi": {wheel: "uploaded", sdist: "uploaded"},
    }
    assert len(test_via.uploads) == 2  # the test index was not uploaded to again
    assert live_via.uploads[4:] == [(wheel, "pass"), (sdist, "pass")]
    assert stored(index_pair.live, project) == stored(index_pair.test, project)
    assert "refs/tags/v1.4.2" in project.git("ls-remote", "--tags", "origin")


@pytest.mark.parametrize("failing", ["whl", "tar.gz"])
def test_permanent_failure_stops_the_loop_and_rerun_uploads_the_rest(
    failing, make_project, index_pair, isolated_env, capsys, proxy, no_sleep
):
    project = with_timeout(make_project())
    test_via, live_via = proxy(index_pair.test), proxy(index_pair.live)
    pypirc_via(isolated_env, index_pair, test_via, live_via)
    wheel, sdist = names(project)
    broken = wheel if failing == "whl" else sdist

    live_via.set("503", times=1000, match=failing)
    line = error_line(run_cli(project.path, capsys, "release", "--yes"), index_pair)
    assert f"uploading {broken} to pypi failed after 4 attempts (503 Service Unavailable)" in line
    landed = [] if broken == wheel else [(wheel, "pass")]
    assert live_via.uploads == [*landed, (broken, "503"), (broken, "503"), (broken, "503"), (broken, "503")]
    assert len(no_sleep) == 3
    assert set(stored(index_pair.live, project)) == {f for f, _ in landed}

    live_via.set("pass")
    files = succeeded(run_cli(project.path, capsys, "release", "--yes", "--json"), index_pair)
    assert files["testpypi"] == {wheel: "present", sdist: "present"}
    rerun = live_via.uploads[len(landed) + 4 :]
    assert rerun == [(f, "pass") for f in (wheel, sdist) if (f, "pass") not in landed]
    assert files["pypi"] == {f: "present" if (f, "pass") in landed else "uploaded" for f in (wheel, sdist)}
    assert len(test_via.uploads) == 2
    assert stored(index_pair.live, project) == stored(index_pair.test, project)
