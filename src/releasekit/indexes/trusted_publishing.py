"""Trusted publishing: trade the CI job's OIDC identity for a short-lived upload token.

This follows PyPI's documented protocol, the one twine and pypa/gh-action-pypi-publish speak:
`GET {origin}/_/oidc/audience` names the audience, the `id` package asks the CI platform for an
OIDC token with that audience, and `POST {origin}/_/oidc/mint-token` exchanges it for an API
token that is valid for 15 minutes and is used as the password of `__token__`. `{origin}` is the
upload URL's scheme, host and port, so TestPyPI and PyPI (or two private indexes) each mint
their own token: they are separate publishers.

Both tokens are secrets: they are registered with `redact` the moment they exist, and no
message quotes an answer body (a malformed one could hold a token). Whatever an index says in
an error is untrusted text: it is shown stripped of control characters and cut short.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import os
import re
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from releasekit import redact
from releasekit.errors import CredentialsError
from releasekit.indexes.resolve import Repository
from releasekit.indexes.urls import is_loopback

Setting = Literal["auto", "always", "never"]


SETTINGS: tuple[Setting, ...] = ("auto", "always", "never")


TOKEN_USERNAME = "__token__"  # noqa: S105 (a user name, not a password)


# PyPI's minted tokens carry an expiration caveat 900 seconds after they are minted.
LIFETIME_SECONDS = 900.0


# Renew with time to spare: an upload that starts a minute before expiry may not finish in time.
RENEW_MARGIN_SECONDS = 300.0


_MAX_ANSWER_BYTES = 64 * 1024  # an audience or a token is well under 1 KiB; anything huge is not ours


_MAX_SHOWN = 200


_CHUNK = 8192


_PUBLISHING_PAGES = {
    "pypi.org": "https://pypi.org/manage/account/publishing/",
    "upload.pypi.org": "https://pypi.org/manage/account/publishing/",
    "test.pypi.org": "https://test.pypi.org/manage/account/publishing/",
}


# The CI platforms `id` detects, by the variable each one always sets. Google Cloud without
# impersonation is detected by reading a DMI file, which `should_try` cannot do purely: use
# `trusted-publishing = "always"` there.
_PLATFORMS = (
    ("GITHUB_ACTIONS", "GitHub Actions"),
    ("GITLAB_CI", "GitLab CI"),
    ("BUILDKITE", "Buildkite"),
    ("CIRCLECI", "CircleCI"),
    ("GOOGLE_SERVICE_ACCOUNT_NAME", "Google Cloud"),
)


# Variables that let a process ask for OIDC tokens: a build backend or the package under
# verification has no business with them.
_GITLAB_ID_TOKEN = re.compile(r"^[A-Z0-9_]+_ID_TOKEN$")


# Terminal escape sequences (CSI and OSC) go whole: dropping only ESC would leave "[31m" behind.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x9b[0-?]*[ -/]*[@-~]")


@dataclass(frozen=True)
class MintedToken:
    """An upload token minted for one index, and when it stops working.

    The token is left out of `repr`; `minted_at` and `expires_at` are Unix times, because the
    index states the expiry that way.
    """

    origin: str
    token: str = field(repr=False)
    minted_at: float
    expires_at: float

    @property
    def username(self) -> str:
        return TOKEN_USERNAME

    def expires_soon(self, margin: float = RENEW_MARGIN_SECONDS, now: float | None = None) -> bool:
        """True when less than `margin` seconds are left: mint a new one before the next upload."""
        return (time.time() if now is None else now) + margin >= self.expires_at


def ambient_platform(environ: Mapping[str, str]) -> str | None:
    """The CI platform whose OIDC identity `id` would look for here, or None (no network)."""
    return next((name for variable, name in _PLATFORMS if environ.get(variable)), None)


def should_try(setting: str, has_credentials: bool, environ: Mapping[str, str]) -> bool:
    """Whether to mint a token for an index, before anything is uploaded.

    "auto" mints only where nothing else can work: the index has no stored credentials and the
    process runs on a CI platform with an identity. A platform whose job lacks the permission
    (GitHub without `id-token: write`) still counts: minting then fails with the fix, which
    says more than "no credentials". "always" mints and ignores stored credentials; "never"
    never mints.
    """
    if setting not in SETTINGS:
        raise CredentialsError(
            f"trusted-publishing is {setting!r}", 'use "auto", "always" or "never" (default "auto")'
        )
    if setting == "never":
        return False
    if setting == "always":
        return True
    return not has_credentials and ambient_platform(environ) is not None


def origin_of(upload_url: str) -> str:
    """The upload URL's scheme, host and port: where the `/_/oidc/` endpoints live."""
    parts = urllib.parse.urlsplit(upload_url)
    return f"{parts.scheme.lower()}://{parts.netloc.rpartition('@')[2]}"


def mint_token(upload_url: str, timeout: float) -> MintedToken | None:
    """Mint an upload token for the index behind `upload_url`; None without an ambient identity.

    The identity comes from the process environment, which is where `id` looks. Raises
    CredentialsError, in one line, when the URL is plain http to another machine, the index
    does not support trusted publishing or answers nonsense, the CI platform will not issue a
    token, or the index refuses the exchange (the hint says how to register the publisher).
    Every request is bounded by `timeout` seconds and a small size.
    """
    origin = origin_of(upload_url)
    scheme = urllib.parse.urlsplit(upload_url).scheme.lower()
    if scheme not in ("http", "https") or (scheme == "http" and not is_loopback(upload_url)):
        raise CredentialsError(
            f"refusing trusted publishing with {redact.scrub(origin)} over {scheme or 'no scheme'}",
            "use an https URL (only loopback addresses may use http)",
        )
    _register_ambient_secrets(os.environ)
    host = _shown(urllib.parse.urlsplit(origin).netloc)
    audience = _audience(origin, host, timeout)
    oidc_token = _identity(audience, host)
    if oidc_token is None:
        return None
    redact.register(oidc_token)
    status, body = _request(f"{origin}/_/oidc/mint-token", host, timeout, {"token": oidc_token})
    minted_at = time.time()
    answer = _json(body, host, "mint-token", status)
    if status != 200:
        raise _refusal(answer, status, host, oidc_token)
    token = answer.get("token")
    if not isinstance(token, str) or not token or any(ch.isspace() for ch in token):
        raise CredentialsError(
            f"{host} answered the trusted publishing exchange without a usable token",
            "the index may be misconfigured or down: re-run the job in a few minutes",
        )
    redact.register(token, TOKEN_USERNAME)
    expires_at = minted_at + LIFETIME_SECONDS
    expires = answer.get("expires")  # newer PyPI states it; older ones and other indexes may not
    if isinstance(expires, int | float) and not isinstance(expires, bool) and expires > minted_at:
        expires_at = float(expires)
    return MintedToken(origin, token, minted_at, expires_at)


def publish_as(
    repo: Repository, *, setting: str, timeout: float, environ: Mapping[str, str] | None = None
) -> tuple[Repository, MintedToken | None]:
    """`repo` with a minted token when `should_try` says so, else unchanged; before any upload.

    With "always" and no identity to trade this is an error: the user asked for trusted
    publishing, so falling back to whatever credentials are stored would surprise them.
    """
    environ = os.environ if environ is None else environ
    if not should_try(setting, repo.has_credentials, environ):
        return repo, None
    minted = mint_token(repo.upload_url, timeout)
    if minted is None:
        if setting == "always":
            raise CredentialsError(
                f'trusted-publishing is "always", but no CI identity can publish to {repo.label}',
                'run it in CI with an OIDC identity (GitHub Actions: id-token: write), or set it to "auto"',
            )
        return repo, None
    return with_token(repo, minted), minted


def renewed(repo: Repository, minted: MintedToken, *, timeout: float) -> tuple[Repository, MintedToken]:
    """`repo` and its token, minted again when it expires soon: call it before each upload."""
    if not minted.expires_soon():
        return repo, minted
    fresh = mint_token(repo.upload_url, timeout)
    if fresh is None:
        raise CredentialsError(
            f"the CI identity went away while publishing to {repo.label}; the token cannot be renewed",
            "re-run the job: the release resumes where it stopped",
        )
    return with_token(repo, fresh), fresh


def publishing_page(host: str) -> str | None:
    """Where PyPI or TestPyPI (by the upload URL's host) registers trusted publishers, else None."""
    return _PUBLISHING_PAGES.get(host.lower())


def with_token(repo: Repository, minted: MintedToken) -> Repository:
    """`repo` uploading as `__token__` with the minted token (stored credentials set aside)."""
    return dataclasses.replace(
        repo, username=TOKEN_USERNAME, password=minted.token, credential_source="trusted publishing"
    )


def _register_ambient_secrets(environ: Mapping[str, str]) -> None:
    """The request token mints OIDC tokens, and GitLab's `*_ID_TOKEN` variables are OIDC tokens."""
    for key, value in environ.items():
        if key == "ACTIONS_ID_TOKEN_REQUEST_TOKEN" or _GITLAB_ID_TOKEN.match(key):
            redact.register(value)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could carry the OIDC token to another host: it is an answer, not a hop."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener(url: str) -> urllib.request.OpenerDirector:
    proxies = urllib.request.ProxyHandler({}) if is_loopback(url) else urllib.request.ProxyHandler()
    return urllib.request.build_opener(proxies, _NoRedirect())


def _request(url: str, host: str, timeout: float, payload: dict[str, str] | None = None) -> tuple[int, bytes]:
    """(status, body) of one GET (or JSON POST), the whole of it within `timeout` seconds."""
    data = None if payload is None else json.dumps(payload).encode()
    headers = {"Accept": "application/json", "User-Agent": "releasekit"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(
        url, data=data, headers=headers, method="GET" if data is None else "POST"
    )
    what = "audience" if payload is None else "mint-token"
    deadline = time.monotonic() + timeout
    try:
        try:
            response = _opener(url).open(request, timeout=timeout)
        except urllib.error.HTTPError as exc:
            response = exc  # an error answer still has a status and a JSON body worth reading
        with response:
            status = response.status or 0
            if 300 <= status < 400:
                raise CredentialsError(
                    f"{host} redirected the trusted publishing {what} request (HTTP {status})",
                    "use the index's own upload URL (a redirect could carry the token away)",
                )
            return status, _read(response, deadline, host, what)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CredentialsError(
            f"{host} did not answer the trusted publishing {what} request ({_shown(str(reason))})",
            "check the network or the index, then re-run the same command",
        ) from None


def _read(response: Any, deadline: float, host: str, what: str) -> bytes:
    body = b""
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError("the answer took too long")
        chunk = response.read1(_CHUNK)  # what has arrived: `read` would wait out a dripping answer
        if not chunk:
            return body
        body += chunk
        if len(body) > _MAX_ANSWER_BYTES:
            raise CredentialsError(
                f"{host} answered the trusted publishing {what} request with over "
                f"{_MAX_ANSWER_BYTES // 1024} KiB",
                "that is not a trusted publishing answer: check the repository URL",
            )


def _json(body: bytes, host: str, what: str, status: int) -> dict[str, Any]:
    try:
        answer = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        answer = None
    if not isinstance(answer, dict):
        raise CredentialsError(
            f"{host} answered the trusted publishing {what} request with malformed JSON (HTTP {status})",
            "the index may be down or not support trusted publishing: re-run later, or store an API token",
        )
    return answer


def _audience(origin: str, host: str, timeout: float) -> str:
    status, body = _request(f"{origin}/_/oidc/audience", host, timeout)
    if status == 404:
        raise CredentialsError(
            f"{host} does not support trusted publishing (no /_/oidc/audience)",
            'store an API token for it in ~/.pypirc, or set trusted-publishing = "never"',
        )
    answer = _json(body, host, "audience", status)
    if status == 403:
        raise CredentialsError(
            f"{host} has trusted publishing disabled ({_shown(str(answer.get('message', '')))})",
            "store an API token for it in ~/.pypirc, or re-run when it is enabled again",
        )
    audience = answer.get("audience")
    if status != 200 or not isinstance(audience, str) or not audience.strip():
        raise CredentialsError(
            f"{host} answered the trusted publishing audience request without an audience (HTTP {status})",
            "the index may be misconfigured or down: re-run the job in a few minutes",
        )
    return audience


def _identity(audience: str, host: str) -> str | None:
    """The CI platform's OIDC token for `audience` (checked by `id`), or None off CI."""
    import id as oidc_id

    try:
        token = oidc_id.detect_credential(audience)
    except oidc_id.GitHubOidcPermissionCredentialError:
        raise CredentialsError(
            f"this GitHub Actions job may not request an OIDC token for {host}",
            "give the publishing job `permissions: id-token: write` "
            "(workflows run for pull requests from forks never get one)",
        ) from None
    except oidc_id.IdentityError as exc:
        raise CredentialsError(
            f"the CI platform did not issue an OIDC token for {host} ({_shown(str(exc))})",
            "check the job's OIDC settings (GitLab: id_tokens with this audience), then re-run",
        ) from None
    return token or None


def _refusal(answer: dict[str, Any], status: int, host: str, oidc_token: str) -> CredentialsError:
    """One line: what the index said, and how to register the publisher on that index."""
    errors = answer.get("errors")
    reasons = []
    if isinstance(errors, list):
        for error in errors[:3]:
            if isinstance(error, dict):
                code, description = error.get("code", "?"), error.get("description", "")
                reasons.append(f"{_shown(str(code), 40)}: {_shown(str(description))}")
    said = "; ".join(reasons) or _shown(str(answer.get("message", ""))) or f"HTTP {status}"
    page = publishing_page(host)
    where = f"at {page}" if page else f"in the project's trusted publisher settings on {host}"
    return CredentialsError(
        f"{host} refused the trusted publishing exchange ({said})",
        f"register a trusted publisher {where} for {_publisher(oidc_token)} "
        "(a project that does not exist yet takes a pending publisher), then re-run",
    )


def _publisher(oidc_token: str) -> str:
    """Repository, workflow file and environment, read from the token's claims when it has them."""
    claims = _claims(oidc_token)
    repository = claims.get("repository") or claims.get("project_path")
    workflow_ref = claims.get("job_workflow_ref") or claims.get("ci_config_ref_uri") or ""
    workflow = str(workflow_ref).partition("@")[0].rpartition("/")[2]
    environment = claims.get("environment")
    if not repository:
        return "this job's repository, workflow file and environment"
    parts = [f"repository {_shown(str(repository), 100)}"]
    if workflow:
        parts.append(f"workflow {_shown(workflow, 100)}")
    parts.append(f"environment {_shown(str(environment), 100)}" if environment else "no environment")
    return ", ".join(parts)


def _claims(oidc_token: str) -> dict[str, Any]:
    """The JWT's payload, unverified: only to say which publisher to register."""
    try:
        payload = oidc_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _shown(text: str, limit: int = _MAX_SHOWN) -> str:
    """Untrusted text as one short printable line: control and format characters removed."""
    kept = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in _ESCAPES.sub("", text))
    line = redact.scrub(" ".join(kept.split()))
    return line if len(line) <= limit else line[: limit - 1] + "…"
