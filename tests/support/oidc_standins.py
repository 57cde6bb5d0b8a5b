"""Stand-ins for what cannot exist here: GitHub's OIDC token service and PyPI's mint endpoint.

Both follow their documented contracts and nothing more:

- `GitHubTokenService` answers `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD` carrying
  `Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN` with `{"value": "<JWT>"}`, a JWT whose
  `aud` claim is the audience asked for (the `id` package checks it) and whose other claims are
  GitHub's: `repository`, `job_workflow_ref`, `environment`, `ref`, `sha`, `iss`, `exp`.
  It signs with HMAC (GitHub uses RS256 and a JWKS; only our PyPI stand-in has to verify it).
- `PyPIStandIn` is warehouse's `/_/oidc/audience` (`{"audience": ...}`, or 403 with a
  `message` when disabled) and `/_/oidc/mint-token` (`{"success": true, "token": ..., "expires":
  ...}`, or 422 with `{"message": "Token request failed", "errors": [{"code", "description"}]}`),
  in front of a real pypiserver: every other request is relayed to it unchanged, so the stand-in's
  URL is the index's URL. The token it mints IS the pypiserver's upload password (start the
  server with username `__token__`), so an upload with it really lands.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import secrets
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from releasekit.testing.localindex import LocalIndex

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
ISSUER = "https://token.actions.githubusercontent.com"
# An answer a test imposes on an endpoint instead of the contract's: (status, body, headers).
Answer = tuple[int, bytes, dict[str, str]]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every handler: no thread outlives the stand-in
    block_on_close = True
    owner: Any

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if not isinstance(exc, ConnectionError | TimeoutError):  # a client that gave up is fine
            self.owner.errors.append(repr(exc))


class _Quiet(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the tests read stderr: keep it for releasekit's own output

    def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        drip = getattr(self.server.owner, "drip", 0.0)
        if not drip:
            self.wfile.write(body)
            return
        for offset in range(len(body)):  # a byte at a time: each socket read is quick, the whole is not
            self.wfile.write(body[offset : offset + 1])
            self.wfile.flush()
            time.sleep(drip)

    def reply_json(self, status: int, document: object) -> None:
        self.reply(status, json.dumps(document).encode())


class _Running:
    """Start on `__enter__`, stop and join on `__exit__`; the server binds a free port now."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = _Server(("127.0.0.1", 0), handler)
        self._server.owner = self
        self.errors: list[str] = []  # unexpected exceptions in handlers
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Any:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class _TokenHandler(_Quiet):
    def do_GET(self) -> None:
        service: GitHubTokenService = self.server.owner
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        scheme, _, credential = self.headers.get("Authorization", "").partition(" ")
        if url.path != "/token" or query.get("api-version") != "2.0":
            self.reply_json(404, {"message": "Not Found"})
        elif scheme.lower() != "bearer" or not hmac.compare_digest(credential, service.request_token):
            self.reply_json(401, {"message": "Bad credentials"})
        elif "audience" not in query:
            self.reply_json(400, {"message": "audience is required"})
        else:
            self.reply_json(200, {"value": service.issue(query["audience"])})


class GitHubTokenService(_Running):
    """GitHub's OIDC token endpoint for one job: `environ()` is what the runner would set."""

    def __init__(
        self,
        *,
        repository: str = "acme/rk-sample",
        workflow: str = "release.yml",
        environment: str | None = "pypi",
        ref: str = "refs/tags/v1.4.2",
    ) -> None:
        super().__init__(_TokenHandler)
        self.key = secrets.token_bytes(32)
        self.request_token = secrets.token_urlsafe(24)
        self.claims: dict[str, Any] = {
            "iss": ISSUER,
            "repository": repository,
            "repository_owner": repository.partition("/")[0],
            "job_workflow_ref": f"{repository}/.github/workflows/{workflow}@{ref}",
            "ref": ref,
            "sha": "0" * 40,
            "sub": f"repo:{repository}:environment:{environment}" if environment else f"repo:{repository}",
        }
        if environment:
            self.claims["environment"] = environment
        self.issued: list[str] = []  # every JWT handed out: secrets the tests look for in output
        self.wrong_audience = False  # issue tokens for another audience than asked (id must refuse)

    @property
    def request_url(self) -> str:
        return f"{self.base_url}/token?api-version=2.0"

    def environ(self) -> dict[str, str]:
        """The variables a GitHub Actions job with `id-token: write` has."""
        return {
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": self.request_url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token,
            "GITHUB_REPOSITORY": str(self.claims["repository"]),
            "GITHUB_REF": str(self.claims["ref"]),
            "GITHUB_EVENT_NAME": "push",
        }

    def issue(self, audience: str) -> str:
        now = int(time.time())
        claims = {
            **self.claims,
            "aud": "someone-else" if self.wrong_audience else audience,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": secrets.token_hex(8),
        }
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "standin"}).encode())
        payload = _b64(json.dumps(claims).encode())
        signature = hmac.new(self.key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        token = f"{header}.{payload}.{_b64(signature)}"
        self.issued.append(token)
        return token

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a JWT this service signed and that has not expired, else None."""
        try:
            header, payload, signature = token.split(".")
            expected = hmac.new(self.key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(_unb64(signature), expected):
                return None
            claims = json.loads(_unb64(payload))
        except ValueError:
            return None
        if not isinstance(claims, dict) or claims.get("iss") != ISSUER or claims.get("exp", 0) < time.time():
            return None
        return claims


class _PyPIHandler(_Quiet):
    def do_GET(self) -> None:
        standin: PyPIStandIn = self.server.owner
        if self.path == "/_/oidc/audience":
            standin.audience_requests += 1
            imposed = standin.audience_answer
            if imposed is not None:
                self.reply(*imposed)
            elif not standin.enabled:
                self.reply_json(403, {"message": "Trusted publishing functionality not enabled"})
            else:
                self.reply_json(200, {"audience": standin.audience})
        else:
            self.relay("GET", b"")

    def do_POST(self) -> None:
        standin: PyPIStandIn = self.server.owner
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/_/oidc/mint-token":
            standin.uploads += 1
            self.relay("POST", body)
            return
        if standin.mint_answer is not None:
            standin.mint_requests += 1
            self.reply(*standin.mint_answer(body))
            return
        status, document = standin.mint(body)
        self.reply_json(status, document)

    def relay(self, method: str, body: bytes) -> None:
        upstream = urllib.parse.urlsplit(self.server.owner.index.url)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        if body:
            headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(upstream.hostname or "", upstream.port, timeout=30)
        try:
            conn.request(method, self.path, body=body or None, headers=headers)  # Host kept: links stay ours
            response = conn.getresponse()
            data = response.read()
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in _HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            conn.close()


class PyPIStandIn(_Running):
    """An index with trusted publishing: `url` is the repository URL to upload to.

    `publisher` is the trusted publisher registered for the project: the claims a token must
    carry (`repository`, `workflow` file name, `environment`) to be exchanged.
    """

    def __init__(
        self,
        index: LocalIndex,
        issuer: GitHubTokenService,
        *,
        audience: str,
        publisher: dict[str, str],
        lifetime: int = 900,
    ) -> None:
        super().__init__(_PyPIHandler)
        self.index, self.issuer, self.audience = index, issuer, audience
        self.publisher = dict(publisher)
        self.lifetime = lifetime
        self.enabled = True
        self.drip = 0.0  # seconds between the bytes of every answer of the stand-in's own
        self.audience_answer: Answer | None = None  # imposed instead of the contract's answer
        self.mint_answer: Callable[[bytes], Answer] | None = None
        self.audience_requests = 0
        self.mint_requests = 0
        self.minted = 0
        self.uploads = 0

    @property
    def url(self) -> str:
        return self.base_url + "/"

    @property
    def origin(self) -> str:
        return self.base_url

    def mint(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """warehouse's `mint_token_from_oidc`, checking what it checks in the order it does."""
        self.mint_requests += 1
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("token"), str) or len(payload) != 1:
            return _invalid("invalid-payload", "1 validation error for TokenPayload: token")
        claims = self.issuer.verify(payload["token"])
        if claims is None or claims.get("aud") != self.audience:
            return _invalid("invalid-token", "malformed or invalid token")
        workflow = str(claims.get("job_workflow_ref", "")).partition("@")[0].rpartition("/")[2]
        seen = {"repository": claims.get("repository"), "workflow": workflow}
        seen["environment"] = claims.get("environment", "")
        wanted = {k: v for k, v in self.publisher.items() if v}  # no environment: any environment
        if any(seen.get(key) != value for key, value in wanted.items()):
            return _invalid(
                "invalid-publisher",
                "valid token, but no corresponding publisher (All lookup strategies exhausted)",
            )
        self.minted += 1
        now = int(time.time())
        return 200, {"success": True, "token": self.index.password, "expires": now + self.lifetime}


def _invalid(code: str, description: str) -> tuple[int, dict[str, Any]]:
    return 422, {"message": "Token request failed", "errors": [{"code": code, "description": description}]}
