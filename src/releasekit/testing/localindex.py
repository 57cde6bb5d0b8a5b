"""An embedded package index (pypiserver) on 127.0.0.1, for tests, the demo and benchmarks.

It behaves like PyPI where a release can go wrong: uploads need a password, downloads do not,
a second upload of the same file is refused (no ``--overwrite``), links carry ``#sha256=``
fragments and there is no fallback redirect to the real PyPI. The password only ever lands,
hashed, in an htpasswd file in a private temporary directory: never on a command line.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from releasekit.errors import LocalIndexError

_BIND_ATTEMPTS = 5


_STOP_GRACE_SECONDS = 5.0


_POLL_SECONDS = 0.05


_ADDRESS_IN_USE = ("Address already in use", "Errno 98", "Errno 48", "WinError 10048")


@dataclass(frozen=True)
class LocalIndex:
    """Where a running local index is and how to upload to it.

    The password is left out of ``repr`` so a failing assertion or a log line cannot show it.
    """

    url: str
    simple_url: str
    username: str
    password: str = field(repr=False)
    packages_dir: Path


def _free_port() -> int:
    """Ask the kernel for a port nobody holds right now (the server may still lose a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _htpasswd_line(username: str, password: str) -> str:
    """An Apache ``{SHA}`` entry: passlib (and so pypiserver) reads it, and no salt is needed."""
    digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()  # noqa: S324
    return f"{username}:{{SHA}}{digest}\n"


class LocalIndexServer:
    """One pypiserver process that can be stopped and started again on the same port.

    Stopping and restarting is how tests simulate "the index is down, then back up"; the
    packages directory and the URL survive a restart, like a real index's would.
    """

    def __init__(self, packages_dir: Path, *, username: str, password: str, timeout: float = 30.0) -> None:
        self._packages_dir = packages_dir.resolve()
        self._username = username
        self._password = password
        self._timeout = timeout
        self._workdir: Path | None = None
        self._port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def index(self) -> LocalIndex:
        """The index's coordinates; known once the server has been started once."""
        if self._port is None:
            raise LocalIndexError("the local index has not been started", "call start() first")
        base = f"http://127.0.0.1:{self._port}/"
        return LocalIndex(
            url=base,
            simple_url=f"{base}simple/",
            username=self._username,
            password=self._password,
            packages_dir=self._packages_dir,
        )

    @property
    def running(self) -> bool:
        """Whether the server process is alive (it may still be starting)."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> LocalIndex:
        """Start the server and wait until it answers; retry on a lost port race."""
        if self.running:
            return self.index
        self._packages_dir.mkdir(parents=True, exist_ok=True)
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="releasekit-index-"))
            htpasswd = self._workdir / "htpasswd"
            htpasswd.touch(mode=0o600)
            htpasswd.write_text(_htpasswd_line(self._username, self._password), "utf-8")
        keep_port = self._port is not None
        for attempt in range(1, _BIND_ATTEMPTS + 1):
            if not keep_port:
                self._port = _free_port()
            log_tail = self._launch_and_wait()
            if log_tail is None:
                return self.index
            port_taken = any(marker in log_tail for marker in _ADDRESS_IN_USE)
            if attempt == _BIND_ATTEMPTS or not port_taken:
                hint = (
                    f"another process holds port {self._port}; stop it or use a new server"
                    if port_taken
                    else "check that pypiserver and passlib are installed in this environment"
                )
                raise LocalIndexError(f"the local index on port {self._port} did not start: {log_tail}", hint)
            if keep_port:  # a restart must keep its URL, so it waits for the port instead
                time.sleep(0.2 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        """Terminate the server (kill it if it lingers); the URL and packages stay."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=_STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def close(self) -> None:
        """Stop the server and remove its private directory (htpasswd and log)."""
        self.stop()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> LocalIndexServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _launch_and_wait(self) -> str | None:
        """Launch once; return None when it answers, else the tail of its log (it is stopped)."""
        assert self._workdir is not None
        log_path = self._workdir / "server.log"
        # The standard library's server, named: pypiserver's "auto" takes waitress wherever it is
        # installed (devpi-server brings it), and waitress refuses a body over 1 GiB with a 413,
        # which the benchmark's 1 GiB wheel is.
        command = [
            sys.executable, "-m", "pypiserver", "run",
            "--host", "127.0.0.1", "--port", str(self._port),
            "--passwords", str(self._workdir / "htpasswd"), "--authenticate", "update",
            "--disable-fallback", "--hash-algo", "sha256", "--server", "wsgiref",
            str(self._packages_dir),
        ]  # fmt: skip
        with log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        # The loopback index must never be reached through an HTTP proxy from the environment.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            try:
                with opener.open(self.index.simple_url, timeout=1.0) as response:
                    response.read()
            except (urllib.error.URLError, OSError):
                time.sleep(_POLL_SECONDS)
                continue
            if self._proc.poll() is None:  # it was our server that answered, not a squatter
                return None
            break
        else:
            self.stop()
            return f"no answer within {self._timeout:g}s; log: {_tail(log_path)}"
        self.stop()
        return f"the server exited early; log: {_tail(log_path)}"


def _tail(log_path: Path, lines: int = 3) -> str:
    """The last few non-empty log lines joined into one line, for an error message."""
    try:
        text = log_path.read_text("utf-8", errors="replace")
    except OSError:
        return "(no log)"
    kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept)[-400:] or "(empty log)"


@contextmanager
def serve_local_index(
    packages_dir: Path, *, username: str, password: str, timeout: float = 30.0
) -> Iterator[LocalIndex]:
    """Run a local index for the duration of a ``with`` block, then clean it away."""
    server = LocalIndexServer(packages_dir, username=username, password=password, timeout=timeout)
    try:
        yield server.start()
    finally:
        server.close()
