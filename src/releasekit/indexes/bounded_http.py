"""Reads from a package index that may be slow, broken or hostile, bounded in time and size.

A socket timeout bounds each read, not a request: a page trickled one byte a second never
times out, and an unbounded ``read()`` of a 150 MB page holds it all in memory. `fetch` bounds
the whole exchange by one deadline and the body by a byte limit, and turns every way a read can
fail into `Unreadable`, whose reason is printable and free of secrets.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import socket
import ssl
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from releasekit import redact
from releasekit.errors import PackageIndexError

USER_AGENT = "releasekit"


# A simple page larger than this is refused: the largest projects on PyPI stay well below it.
PAGE_LIMIT = 50 * 1024 * 1024


class Unreadable(PackageIndexError):
    """A read that produced no usable answer; `reason` is printable, secret-free and URL-free.

    Callers name the index and URL (they know its label); ``unreachable`` tells a network failure,
    where the URL itself may be wrong, from an index that answered too slowly or too much.
    """

    def __init__(self, reason: str, hint: str, *, unreachable: bool = False) -> None:
        super().__init__(reason, hint)
        self.reason = reason
        self.unreachable = unreachable


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str
    url: str


class _Deadline:
    """One deadline for a whole HTTP exchange: connecting, headers, every redirect and the body.

    A socket timeout bounds each read, so a page trickled a byte a second never times out; here
    a timer shuts the sockets down when the deadline passes, which ends any blocked read.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._timer.cancel()


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed: nothing left to interrupt
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the raw socket, also under TLS


class _WatchedHTTP(http.client.HTTPConnection):
    deadline: _Deadline

    def connect(self) -> None:
        super().connect()
        self.deadline.watch(self.sock)


class _WatchedHTTPS(http.client.HTTPSConnection):
    deadline: _Deadline

    def connect(self) -> None:
        super().connect()
        self.deadline.watch(self.sock)


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        def connection(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            conn = _WatchedHTTP(host, **kwargs)
            conn.deadline = self._deadline
            return conn

        return self.do_open(connection, req)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context per process, made on the first https read: loading the CA store costs
    ~30 ms, which a release to local or plain-http indexes should not pay six times."""
    return ssl.create_default_context()


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        def connection(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            conn = _WatchedHTTPS(host, context=_tls(), **kwargs)
            conn.deadline = self._deadline
            return conn

        return self.do_open(connection, req)


def fetch(
    url: str,
    timeout: float,
    *,
    accept: str = "*/*",
    limit: int = PAGE_LIMIT,
    method: str = "GET",
    body: bool = True,
) -> Answer:
    """One bounded read of an index: the whole exchange within `timeout`, at most `limit` bytes.

    An HTTP error status is an answer (the caller knows what a 404 means there); no answer, a
    late one, a broken one or one larger than `limit` raises `Unreadable`.
    """
    request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": USER_AGENT}, method=method)
    with _Deadline(timeout) as deadline:
        opener = urllib.request.build_opener(_HTTPHandler(deadline), _HTTPSHandler(deadline))
        try:
            try:
                response = opener.open(request, timeout=timeout)  # http(s) only: checked on resolve
            except urllib.error.HTTPError as exc:
                exc.close()
                return Answer(exc.code, b"", exc.headers.get("Content-Type", ""), exc.geturl())
            with response:
                content = _read_capped(response, limit) if body and method != "HEAD" else b""
                answer = Answer(
                    response.status, content, response.headers.get("Content-Type", ""), response.geturl()
                )
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            if deadline.expired:
                raise _too_slow(timeout) from None
            reason = getattr(exc, "reason", None) or exc
            raise Unreadable(
                f"is unreachable ({redact.printable(redact.scrub(str(reason)))[:200]})",
                "check the network and the index, then re-run the same command",
                unreachable=True,
            ) from None
        if deadline.expired:
            raise _too_slow(timeout)
    return answer


def _too_slow(timeout: float) -> Unreadable:
    return Unreadable(
        f"gave no complete answer within {timeout:g}s",
        "re-run when it is responsive, or raise `timeout` in [tool.releasekit]",
    )


def _read_capped(response: http.client.HTTPResponse, limit: int) -> bytes:
    too_large = Unreadable(
        f"sent a page larger than {limit // (1024 * 1024)} MB",
        "the index is broken or hostile: report it to its admins, or use another index",
    )
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
