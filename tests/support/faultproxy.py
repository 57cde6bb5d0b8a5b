"""A reverse proxy in front of a local index that breaks uploads on purpose.

GET requests (the simple API, file downloads) pass through unchanged. Each POST (an upload) is
handled according to ``mode``:

- ``"pass"``: forward it.
- ``"store-then-503"`` / ``"store-then-drop"``: forward it (the index stores the file), then
  answer 503 / close the connection without an answer.
- ``"503"``, ``"413"``, any status code: answer it without forwarding.
- ``"exists-other"``: answer 400 "File already exists" without forwarding.
- ``"outage"``: answer 503, and 503 to the next GET too (the whole index is briefly down).
- ``"hang"``: read the request, never answer (until the proxy stops): the client must time out.
- ``"drop"``: read part of the body, close the connection without an answer.
- ``"truncate"``: upload the first half of the file under its own name to the index (as a
  complete request), then close the connection: the index keeps a truncated file.

``times`` limits how many matching POSTs get the fault before the mode falls back to "pass";
``match`` limits the fault to file names containing it (other uploads pass).
"""

from __future__ import annotations

import email.parser
import email.policy
import http.client
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import urllib3

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
_UPSTREAM_TIMEOUT = 30.0
_FILENAME = re.compile(rb'filename="([^"]+)"\r\n(?:[^\r\n]+\r\n)*\r\n')  # a file part's headers


def _form(content_type: str, body: bytes) -> list[tuple[str, Any]]:
    """The fields of a multipart/form-data body: (name, value) or (name, (filename, bytes))."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: list[tuple[str, Any]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)  # form fields are never nested multiparts
        filename = part.get_filename()
        fields.append((str(name), (filename, payload) if filename else payload.decode("utf-8")))
    return fields


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every handler: no thread outlives the proxy
    block_on_close = True
    proxy: FaultProxy

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if not isinstance(exc, ConnectionError | TimeoutError):  # a client that gave up is fine
            self.proxy.errors.append(repr(exc))


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the tests capture stderr: keep it for releasekit's own output

    def do_GET(self) -> None:
        if self.server.proxy.count(get=True):
            self._reply(503, "Service Unavailable")
        else:
            self._relay(*self._forward("GET", b""))

    def do_POST(self) -> None:
        proxy = self.server.proxy
        proxy.count()
        length = int(self.headers.get("Content-Length", "0"))
        body = b""
        while len(body) < length and not _FILENAME.search(body):  # the form's fields, not yet the file
            chunk = self.rfile.read(min(1024, length - len(body)))
            if not chunk:
                return
            body += chunk
        found = _FILENAME.search(body)
        mode = proxy.take(found.group(1).decode() if found else "")
        if mode == "drop":
            self.close_connection = True  # the file's bytes are left unread: the client is cut off
            return
        body += self.rfile.read(length - len(body))
        if mode == "pass":
            self._relay(*self._forward("POST", body))
        elif mode in ("store-then-503", "store-then-drop"):
            self._forward("POST", body)
            if mode == "store-then-503":
                self._reply(503, "Service Unavailable")
        elif mode == "exists-other":
            self._reply(400, "File already exists")
        elif mode == "outage":
            self._reply(503, "Service Unavailable")
        elif mode.isdigit():
            self._reply(int(mode), http.client.responses.get(int(mode), "Fault"))
        elif mode == "hang":
            proxy.stopping.wait()
        elif mode == "truncate":
            fields = _form(self.headers.get("Content-Type", ""), body)
            half = [(n, (v[0], v[1][: len(v[1]) // 2]) if isinstance(v, tuple) else v) for n, v in fields]
            data, ctype = urllib3.encode_multipart_formdata(half)
            self._forward("POST", data, ctype)
        self.close_connection = True  # a fault without an answer: the connection just closes

    def _forward(self, method: str, body: bytes, ctype: str | None = None) -> tuple[int, str, Any, bytes]:
        upstream = urllib.parse.urlsplit(self.server.proxy.upstream)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        if ctype:
            headers["Content-Type"] = ctype
        if body:
            headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(upstream.hostname or "", upstream.port, timeout=_UPSTREAM_TIMEOUT)
        try:
            conn.request(method, self.path, body=body or None, headers=headers)  # Host kept: links stay ours
            response = conn.getresponse()
            return response.status, response.reason, response.getheaders(), response.read()
        finally:
            conn.close()

    def _relay(self, status: int, reason: str, headers: Any, body: bytes) -> None:
        self.send_response(status, reason)
        for key, value in headers:
            if key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reply(self, status: int, reason: str) -> None:
        self._relay(status, reason, [("Content-Type", "text/plain")], f"{status} {reason}\n".encode())


class FaultProxy:
    """Start with ``with FaultProxy(index.url) as proxy:``; ``proxy.url`` replaces the index's."""

    def __init__(self, upstream: str, mode: str = "pass") -> None:
        self.upstream = upstream
        self.mode, self.times, self.match = mode, -1, ""
        self.uploads: list[tuple[str, str]] = []  # (file name, mode applied), one per POST
        self.requests_seen = 0
        self.errors: list[str] = []  # unexpected exceptions in handlers
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._gets_down = 0
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="faultproxy", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def set(self, mode: str, *, times: int = -1, match: str = "") -> None:
        """Apply ``mode`` to the next ``times`` uploads whose name contains ``match`` (-1: all)."""
        with self._lock:
            self.mode, self.times, self.match = mode, times, match

    def count(self, get: bool = False) -> bool:
        """Count a request; True when it is a GET that falls into an outage."""
        with self._lock:
            self.requests_seen += 1
            if get and self._gets_down:
                self._gets_down -= 1
                return True
            return False

    def take(self, filename: str) -> str:
        """The mode for this upload, recorded; counts down ``times``."""
        with self._lock:
            mode = self.mode
            if self.match not in filename or self.times == 0:
                mode = "pass"
            elif self.times > 0:
                self.times -= 1
            self.uploads.append((filename, mode))
            self._gets_down += mode == "outage"
            return mode

    def posts(self, mode: str | None = None) -> list[str]:
        return [f for f, m in self.uploads if mode is None or m == mode]

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
