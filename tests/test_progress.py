"""Progress of long work: what the library reports, and what the console shows of it, where.

Uploads and downloads report the file's bytes through a progress callback (real transfers to a
real local index); the console draws a live bar only for a person at a terminal (a pty here)
and never in a pipe, under TERM=dumb, in CI or under --json; NO_COLOR keeps the bar colourless.
"""

from __future__ import annotations

import contextlib
import io
import os
import pty
import re
import secrets
import subprocess
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from releasekit.console import ConsoleReporter
from releasekit.dists import artifact
from releasekit.indexes import listing, resolve, upload
from tests.support.cli import BIN
from tests.support.faultproxy import FaultProxy
from tests.support.indexes import write_pypirc

TIMEOUT = 30
SGR = re.compile(r"\x1b\[([0-9;]*)m")


@dataclass
class Transfer:
    what: str
    total: int | None
    advances: list[int] = field(default_factory=list)
    closed: bool = False


class Recorder:
    """A reporter's progress that keeps every call, to check what the library reports."""

    def __init__(self) -> None:
        self.transfers: list[Transfer] = []

    @contextlib.contextmanager
    def progress(self, what: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        transfer = Transfer(what, total)
        self.transfers.append(transfer)
        try:
            yield transfer.advances.append
        finally:
            transfer.closed = True


def _wheel(directory: Path, payload: int) -> Path:
    """A valid pure-Python wheel carrying `payload` incompressible bytes, so it takes many reads."""
    name = f"progress_{secrets.token_hex(4)}"
    info = f"{name}-1.0.dist-info"
    wheel = directory / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{name}/__init__.py", "")
        archive.writestr(f"{name}/blob.bin", os.urandom(payload))
        archive.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        archive.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr(f"{info}/RECORD", "")
    return wheel


def test_an_upload_and_its_download_report_the_files_bytes(index_pair, tmp_path: Path) -> None:
    index = index_pair.test.index
    repo = resolve.Repository("test", index.url, index.simple_url, index.username, index.password)
    art = artifact.describe(_wheel(tmp_path, 2 << 20))
    recorder = Recorder()
    result = upload.upload(repo, art, timeout=TIMEOUT, progress=recorder.progress)
    assert result.outcome == "uploaded"
    (sent,) = recorder.transfers
    assert (sent.what, sent.total, sent.closed) == (f"uploading {art.filename} to test", art.size, True)
    assert sum(sent.advances) == art.size
    assert len(sent.advances) > 10 and min(sent.advances) > 0  # as it goes, not once at the end

    entry = listing.list_files(repo, art.name, TIMEOUT)[art.filename]
    back = tmp_path / "back"
    back.mkdir()
    listing.download(entry, back, TIMEOUT, expected_sha256=art.sha256, progress=recorder.progress)
    received = recorder.transfers[1]
    assert (received.what, received.total, received.closed) == (f"downloading {art.filename}", art.size, True)
    assert sum(received.advances) == art.size
    assert (back / art.filename).read_bytes() == art.path.read_bytes()


def test_each_attempt_of_a_retried_upload_has_its_own_progress(index_pair, tmp_path: Path) -> None:
    index = index_pair.test.index
    with FaultProxy(index.url) as via:
        repo = resolve.Repository("flaky", via.url, via.url + "simple/", index.username, index.password)
        via.set("503", times=1)
        art = artifact.describe(_wheel(tmp_path, 256 << 10))
        recorder = Recorder()
        result = upload.upload(repo, art, timeout=TIMEOUT, sleep=lambda _: None, progress=recorder.progress)
    assert result.outcome == "uploaded"
    first, second = recorder.transfers
    assert first.what == f"uploading {art.filename} to flaky"
    assert second.what == f"uploading {art.filename} to flaky (attempt 2 of 4)"
    assert first.closed and second.closed
    assert sum(first.advances) <= art.size  # never more than the file, whatever the first attempt sent
    assert sum(second.advances) == art.size


def test_a_file_already_there_is_not_uploaded_and_shows_no_progress(index_pair, tmp_path: Path) -> None:
    index = index_pair.test.index
    repo = resolve.Repository("test", index.url, index.simple_url, index.username, index.password)
    art = artifact.describe(_wheel(tmp_path, 1024))
    upload.upload(repo, art, timeout=TIMEOUT)
    recorder = Recorder()
    assert upload.upload(repo, art, timeout=TIMEOUT, progress=recorder.progress).outcome == "present"
    assert recorder.transfers == []


# The console


@contextlib.contextmanager
def _terminal() -> Iterator[tuple[int, list[bytes]]]:
    """A pty: yields its terminal side's fd and the list its output is read into as it comes.

    Read while it is written, as a terminal does: a pty holds only a few kB unread. The fd is
    closed on the way out (a child given it keeps its own copy).
    """
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        with contextlib.suppress(OSError):  # EIO: every holder of the terminal side has closed it
            while chunk := os.read(master, 65536):
                chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        yield slave, chunks
    finally:
        with contextlib.suppress(OSError):
            os.close(slave)
        reader.join(timeout=30)
        os.close(master)


def _on_a_pty(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str | None], work: Callable[[ConsoleReporter], None]
) -> str:
    """What `work` writes through a ConsoleReporter whose stream is a real terminal (a pty)."""
    # rich sizes its bar by the process's own terminal (none under pytest): COLUMNS stands in.
    settings = {"NO_COLOR": None, "CI": None, "TERM": "xterm-256color", "COLUMNS": "120", **env}
    for name, value in settings.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with _terminal() as (slave, chunks), open(slave, "w", encoding="utf-8", closefd=False) as stream:
        work(ConsoleReporter(stream))
    return b"".join(chunks).decode()


def _upload_and_step(reporter: ConsoleReporter) -> None:
    with reporter.progress("uploading demo-1.0.tar.gz to test", 3000) as advance:
        advance(1000)
        time.sleep(0.15)  # long enough for a redraw between the reports
        reporter.warn("a warning while the bar is up")
        advance(2000)
    with reporter.progress("building demo 1.0"):
        time.sleep(0.15)
    reporter.step("upload-test", "done", "test: 1 uploaded", 0.4)


def _colours(text: str) -> list[str]:
    """The SGR colour parameters in `text` (foreground, background, 256-colour and true colour)."""
    colour = re.compile(r"^(3[0-9]|4[0-9]|9[0-7]|10[0-7])$")
    return [p for params in SGR.findall(text) for p in params.split(";") if colour.match(p)]


def test_a_terminal_shows_bytes_rate_and_time_left_then_the_step_line(monkeypatch) -> None:
    shown = _on_a_pty(monkeypatch, {}, _upload_and_step)
    assert "uploading demo-1.0.tar.gz to test" in shown
    assert "3.0 kB" in shown and "kB/s" in shown and "0:00:00" in shown  # size, rate, time left
    assert "building demo 1.0" in shown
    assert "warning: " in shown and "a warning while the bar is up" in shown
    assert shown.rstrip().endswith("upload-test          test: 1 uploaded (0.4s)")
    assert _colours(shown)


def test_no_color_keeps_the_bar_and_drops_the_colour(monkeypatch) -> None:
    shown = _on_a_pty(monkeypatch, {"NO_COLOR": "1"}, _upload_and_step)
    assert "uploading demo-1.0.tar.gz to test" in shown and "kB/s" in shown
    assert _colours(shown) == []


@pytest.mark.parametrize("env", [{"TERM": "dumb"}, {"CI": "true"}])
def test_a_dumb_terminal_or_ci_gets_no_bar(monkeypatch, env: dict[str, str | None]) -> None:
    shown = _on_a_pty(monkeypatch, env, _upload_and_step)
    assert "uploading" not in shown and "building" not in shown
    assert "\x1b[?25l" not in shown and "\x1b[2K" not in shown  # no cursor hidden, no line redrawn
    assert "a warning while the bar is up" in shown and "upload-test" in shown
    if env.get("TERM") == "dumb":
        assert "\x1b" not in shown  # no colour either


def test_no_terminal_or_json_gets_no_bar(monkeypatch) -> None:
    """A pipe or a file gets the lines alone; so does a terminal under --json (progress=False)."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    stream = io.StringIO()
    _upload_and_step(ConsoleReporter(stream))
    assert stream.getvalue() == (
        "warning: a warning while the bar is up\n✓ upload-test          test: 1 uploaded (0.4s)\n"
    )
    json_like = _on_a_pty(
        monkeypatch, {}, lambda r: _upload_and_step(ConsoleReporter(r.stream, progress=False))
    )
    assert "uploading" not in json_like and "\x1b[2K" not in json_like


# A real `releasekit release --test`, as a user runs it


def _release_on_a_pty(project_path: Path, *args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Run the installed command with stderr on a terminal; returns the code, stdout and the terminal."""
    with _terminal() as (slave, chunks):
        proc = subprocess.run(
            [str(BIN / "releasekit"), "release", "--test", *args], cwd=project_path, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, timeout=300, check=False,
        )  # fmt: skip
    return proc.returncode, proc.stdout.decode(), b"".join(chunks).decode()


@pytest.mark.slow
def test_a_real_release_shows_progress_only_on_a_terminal(make_project, index_pair, isolated_env) -> None:
    write_pypirc(isolated_env, index_pair)
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CI")}
    env.update(TERM="xterm-256color", COLUMNS="120")  # a pty has no size until a terminal gives it one

    project = make_project()
    code, _, terminal = _release_on_a_pty(project.path, env=env)
    assert code == 0, terminal
    assert f"uploading {project.import_name}-1.4.2-py3-none-any.whl to testpypi" in terminal
    assert f"uploading {project.import_name}-1.4.2.tar.gz to testpypi" in terminal
    assert re.search(r"\d\.\d/\d\.\d kB", terminal)  # the bytes sent, of the file's size
    assert f"building {project.name} 1.4.2" in terminal
    assert "verify-test" in terminal

    project = make_project()
    code, out, terminal = _release_on_a_pty(project.path, "--json", env=env)
    assert code == 0, terminal
    assert "uploading " not in terminal and "building " not in terminal
    assert out.startswith("{")

    project = make_project()
    proc = subprocess.run(
        [str(BIN / "releasekit"), "release", "--test"], cwd=project.path, env=env, capture_output=True,
        text=True, stdin=subprocess.DEVNULL, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "uploading " not in proc.stderr and "\x1b" not in proc.stderr  # a pipe: no bar, no colour
    assert "verify-test" in proc.stderr
