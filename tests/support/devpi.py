"""A real devpi-server on 127.0.0.1, with one user and two non-volatile indexes, for end-to-end tests.

It is set up the way devpi documents a team's staging/prod pair, minus any contact with pypi.org:
``devpi-init --no-root-pypi`` creates no PyPI mirror, the indexes have no bases, and the server
runs with ``--offline-mode``. The user and the indexes are made over devpi's REST API (the JSON
``PUT`` requests devpi-client sends), so no devpi-client is needed.
"""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

DEVPI_USER = "USER"
INDEXES = ("staging", "prod")
_BIN = Path(sys.executable).parent
# The loopback server must never be reached through an HTTP proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class DevpiServer:
    """One devpi-server process with ``USER/staging`` and ``USER/prod``; ``close()`` stops it."""

    def __init__(self, root: Path, *, timeout: float = 60.0) -> None:
        self.root = root
        self.password = secrets.token_urlsafe(16)
        self.port = _free_port()
        self.timeout = timeout
        self.startup_seconds = 0.0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def index_url(self, index: str) -> str:
        """The upload URL devpi documents for twine: ``http://host:port/USER/INDEX/``."""
        return f"{self.base}/{DEVPI_USER}/{index}/"

    def simple_url(self, index: str) -> str:
        return f"{self.base}/{DEVPI_USER}/{index}/+simple/"

    def start(self) -> DevpiServer:
        started = time.monotonic()
        serverdir = self.root / "serverdir"
        _run([str(_BIN / "devpi-init"), "--serverdir", str(serverdir), "--no-root-pypi",
              "--root-passwd", secrets.token_urlsafe(16)])  # fmt: skip
        secretfile = self.root / "secret"
        _run([str(_BIN / "devpi-gen-secret"), "--secretfile", str(secretfile)])
        log = (self.root / "devpi.log").open("wb")
        self._proc = subprocess.Popen(
            [str(_BIN / "devpi-server"), "--serverdir", str(serverdir), "--secretfile", str(secretfile),
             "--host", "127.0.0.1", "--port", str(self.port), "--offline-mode"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        self._wait()
        self._request("PUT", f"/{DEVPI_USER}", {"password": self.password, "email": "tester@example.invalid"})
        for index in INDEXES:
            self._request("PUT", f"/{DEVPI_USER}/{index}", {"type": "stage", "volatile": False, "bases": []})
        self.startup_seconds = time.monotonic() - started
        return self

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.root / "serverdir", ignore_errors=True)

    def log_tail(self) -> str:
        path = self.root / "devpi.log"
        return path.read_text("utf-8", "replace")[-2000:] if path.is_file() else "(no log)"

    def _wait(self) -> None:
        deadline = time.monotonic() + self.timeout
        assert self._proc is not None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"devpi-server exited early: {self.log_tail()}")
            try:
                with _OPENER.open(f"{self.base}/+api", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.close()
        raise RuntimeError(f"devpi-server gave no answer within {self.timeout:g}s: {self.log_tail()}")

    def _request(self, method: str, path: str, data: dict[str, object]) -> None:
        token = base64.b64encode(f"{DEVPI_USER}:{self.password}".encode()).decode()
        request = urllib.request.Request(
            self.base + path, data=json.dumps(data).encode(), method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json",
                     "Authorization": f"Basic {token}"},
        )  # fmt: skip
        with _OPENER.open(request, timeout=30) as response:
            assert response.status in (200, 201), response.status

    def pypirc(self) -> str:
        """A .pypirc as devpi documents it: the test index is staging, the live one prod."""
        return (
            "[distutils]\nindex-servers =\n    testpypi\n    pypi\n\n"
            f"[testpypi]\nrepository = {self.index_url('staging')}\n"
            f"username = {DEVPI_USER}\npassword = {self.password}\n\n"
            f"[pypi]\nrepository = {self.index_url('prod')}\n"
            f"username = {DEVPI_USER}\npassword = {self.password}\n"
        )


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode:
        raise RuntimeError(f"{Path(command[0]).name} failed: {(result.stderr or result.stdout)[-1000:]}")
