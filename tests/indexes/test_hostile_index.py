"""An index that answers badly on purpose: every answer is a one-line error naming the fix.

The stand-in is a small HTTP server on 127.0.0.1 that misbehaves in one chosen way per test
(malformed PEP 691 JSON, a page trickled a byte a second, 150 MB of page, forged file names).
It is not the thing under test: releasekit's reading of it is.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from releasekit.errors import PackageIndexError
from releasekit.indexes.listing import list_files
from releasekit.indexes.resolve import Repository
from tests.support.cli import run_cli
from tests.support.leaks import assert_no_secret

TIMEOUT = 2.0
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
MB = 1024 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    scenario: Callable[[BaseHTTPRequestHandler], None]
    stopping: threading.Event


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up, rightly
            self.server.scenario(self)

    do_HEAD = do_GET


class HostileIndex:
    """Serves whatever the current scenario writes, for every path."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.stopping = threading.Event()
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def stopping(self) -> threading.Event:
        return self._server.stopping

    def serve(self, scenario: Callable[[BaseHTTPRequestHandler], None]) -> Repository:
        self._server.scenario = scenario
        return Repository("hostile", self.url, self.url + "simple/")

    def close(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def hostile() -> Iterator[HostileIndex]:
    server = HostileIndex()
    yield server
    server.close()


def send(body: bytes, ctype: str = JSON_TYPE, status: int = 200) -> Callable[[BaseHTTPRequestHandler], None]:
    def scenario(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return scenario


def send_json(data: object) -> Callable[[BaseHTTPRequestHandler], None]:
    return send(json.dumps(data).encode())


def refused(repo: Repository, expected: str) -> PackageIndexError:
    """list_files must refuse with one line holding `expected` and a hint; no traceback text leaks."""
    with pytest.raises(PackageIndexError) as caught:
        list_files(repo, "sample", TIMEOUT)
    message = str(caught.value)
    assert expected in message
    assert caught.value.hint
    assert "\n" not in message and "\x1b" not in message and message.isprintable()
    error = caught.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)  # no chain
    return caught.value


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe garbage", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),  # nesting deep enough to blow the stack
        (json.dumps({"files": "all of them"}).encode(), "no list of files"),
        (json.dumps(["files"]).encode(), "no list of files"),
        (json.dumps({"files": ["sample-1.0.tar.gz"]}).encode(), "a file entry that is not an object"),
        (json.dumps({"files": [{"url": "sample-1.0.tar.gz"}]}).encode(), "without a 'filename' or 'url'"),
        (
            json.dumps({"files": [{"filename": "sample-1.0.tar.gz"}]}).encode(),
            "without a 'filename' or 'url'",
        ),
        (json.dumps({"files": [{"filename": 3, "url": []}]}).encode(), "without a 'filename' or 'url'"),
        (
            json.dumps({"files": [{"filename": "s-1.0.tar.gz", "url": "s", "hashes": "abc"}]}).encode(),
            "'hashes' of s-1.0.tar.gz is not a map of strings",
        ),
        (
            json.dumps(
                {"files": [{"filename": "s-1.0.tar.gz", "url": "s", "hashes": {"sha256": 1}}]}
            ).encode(),
            "'hashes' of s-1.0.tar.gz is not a map of strings",
        ),
    ],
)
def test_malformed_pep691_json_is_one_line(hostile: HostileIndex, body: bytes, what: str) -> None:
    error = refused(hostile.serve(send(body)), "hostile index sent malformed PEP 691 JSON for sample (")

    assert what in error.message
    assert "set simple-index for hostile" in str(error.hint)


def test_a_page_trickled_a_byte_a_second_is_bounded_by_the_whole_timeout(hostile: HostileIndex) -> None:
    def trickle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        for byte in b"<html><body>" + b" " * 60:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            if hostile.stopping.wait(1.0):
                return

    start = time.monotonic()
    error = refused(
        hostile.serve(trickle), f"index at {hostile.url}simple/ gave no complete answer within 2s"
    )

    assert time.monotonic() - start < TIMEOUT + 1.5  # not 60 s: one deadline for the whole request
    assert "timeout" in str(error.hint)


def test_trickled_headers_are_bounded_too(hostile: HostileIndex) -> None:
    def trickle(handler: BaseHTTPRequestHandler) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + b"X-Slow: " + b"y" * 60:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            if hostile.stopping.wait(0.5):
                return

    start = time.monotonic()
    refused(hostile.serve(trickle), "gave no complete answer within 2s")

    assert time.monotonic() - start < TIMEOUT + 1.5


def _huge(declare_length: bool) -> Callable[[BaseHTTPRequestHandler], None]:
    def scenario(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        if declare_length:
            handler.send_header("Content-Length", str(150 * MB))
        handler.end_headers()
        chunk = b"<a href='x'>x</a>" * (MB // 16)
        for _ in range(150):
            handler.wfile.write(chunk)

    return scenario


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "streamed"])
def test_a_150_mb_page_is_refused(hostile: HostileIndex, declare_length: bool) -> None:
    start = time.monotonic()
    error = refused(hostile.serve(_huge(declare_length)), "sent a page larger than 50 MB")

    assert "broken or hostile" in str(error.hint)
    assert time.monotonic() - start < 30


@pytest.mark.parametrize(
    "href",
    [
        "/files/sample-1.0.tar.gz%0Aerror:%20the%20release%20is%20done#sha256=00",
        "/files/sample-1.0%1B%5B31m.tar.gz",
        "/files/sample-1.0.tar.gz%E2%80%AE",  # a right-to-left override
    ],
    ids=["newline", "escape", "bidi"],
)
def test_a_forged_file_name_is_refused_and_printed_escaped(hostile: HostileIndex, href: str) -> None:
    page = f'<html><body><a href="{href}">sample</a></body></html>'.encode()

    error = refused(hostile.serve(send(page, "text/html")), "lists a file name with control characters")

    assert "\\x1b" in str(error) or "\\n" in str(error) or "\\u202e" in str(error)


def test_a_forged_file_name_in_json_is_refused(hostile: HostileIndex) -> None:
    entry = {"filename": "sample-1.0.tar.gz\x1b]0;owned\x07", "url": "sample-1.0.tar.gz", "hashes": {}}

    error = refused(hostile.serve(send_json({"files": [entry]})), "lists a file name with control characters")

    assert "\\x1b]0;owned\\x07" in str(error)


def test_a_link_to_a_local_file_is_refused(hostile: HostileIndex) -> None:
    entry = {"filename": "sample-1.0.tar.gz", "url": "file:///etc/passwd", "hashes": {}}

    refused(hostile.serve(send_json({"files": [entry]})), "links sample-1.0.tar.gz to a non-http(s) URL")


def test_a_garbage_status_line_is_printed_escaped(hostile: HostileIndex) -> None:
    def garbage(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"\x1b[2J error: forged\r\n\r\n")

    refused(hostile.serve(garbage), f"index at {hostile.url}simple/ is unreachable")


def test_a_well_formed_page_still_lists(hostile: HostileIndex) -> None:
    entry = {
        "filename": "sample-1.0.tar.gz",
        "url": "../../files/sample-1.0.tar.gz",
        "hashes": {"sha256": "ab"},
    }

    files = list_files(hostile.serve(send_json({"files": [entry]})), "sample", TIMEOUT)

    assert files["sample-1.0.tar.gz"].url == hostile.url + "files/sample-1.0.tar.gz"
    assert files["sample-1.0.tar.gz"].sha256 == "ab"


@pytest.mark.parametrize("case", ["forged-name", "malformed-json"])
def test_the_cli_says_one_line_and_changes_nothing(
    hostile: HostileIndex,
    make_project: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    project = make_project()
    password = secrets.token_urlsafe(16)
    monkeypatch.setenv("RELEASEKIT_TEST_PASSWORD", password)
    if case == "forged-name":
        page = b'<a href="/f/x-1.0.tar.gz%0Aerror:%20forged%1B%5B2J">x</a>'
        hostile.serve(send(page, "text/html"))
    else:
        hostile.serve(send(b'{"files": [{"url": 1}]}'))

    result = run_cli(project.path, capsys, "release", "--test", "--test-repository", hostile.url)

    assert result.code == 1, result.err
    lines = result.err.strip().splitlines()
    assert lines[-1].startswith(f"error: {hostile.url} index")
    assert not any(line.startswith("error: forged") for line in lines)
    assert "\x1b" not in result.text and "Traceback" not in result.text
    assert_no_secret(result.text, password)
    assert project.git("tag") == ""
