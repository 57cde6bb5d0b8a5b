"""Package indexes: which URL a name means, whose credentials go there, and what it holds.

Repository names resolve like twine (`~/.pypirc` index-servers, built-in pypi/testpypi), but
`TWINE_REPOSITORY*` variables are deliberately ignored: a stray one must never redirect an upload
aimed elsewhere. What an index holds is read from its simple API (PEP 691 JSON, or PEP 503 HTML
with `#sha256=` fragments), so "already uploaded" means "the same bytes are there".
"""

from __future__ import annotations

import configparser
import json
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from releasekit import redact
from releasekit.errors import ConfigError, CredentialsError
from releasekit.indexes.bounded_http import Unreadable, fetch
from releasekit.indexes.pypirc import pypirc_path, read_pypirc
from releasekit.indexes.urls import (
    BUILTIN,
    DEVPI_RULE,
    GENERIC_RULE,
    is_loopback,
    simple_rule_for,
    split_credentials,
    token_location,
)
from releasekit.redact import printable

# Where each PyPI host's tokens come from: the macaroon location PyPI writes into them.
_TOKEN_HOSTS = {"upload.pypi.org": "pypi.org", "pypi.org": "pypi.org", "test.pypi.org": "test.pypi.org"}


# Environment credentials for each role (the README's "Private indexes" states this rule).
ENV_CREDENTIALS = {
    "live": ("TWINE_USERNAME", "TWINE_PASSWORD"),
    "test": ("RELEASEKIT_TEST_USERNAME", "RELEASEKIT_TEST_PASSWORD"),
}


_PROBE_LIMIT = 64 * 1024
_DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Repository:
    """An upload target with the simple index that mirrors it and the credentials for it."""

    label: str  # the .pypirc section name, or the URL the user gave
    upload_url: str
    simple_url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    credential_source: str | None = None  # "repository URL" | "environment" | ".pypirc" | "keyring"
    simple_rule: str = "as given"  # how simple_url was found: urls.simple_rule_for, devpi, setting

    @property
    def has_credentials(self) -> bool:
        return bool(self.password)


def simple_url_for(upload_url: str, overrides: dict[str, str], label: str) -> str:
    """The simple index behind an upload URL, from the overrides or the URL alone (no network)."""
    return _simple_from(upload_url, overrides, label)[0]


def _simple_from(upload_url: str, overrides: dict[str, str], label: str) -> tuple[str, str]:
    for key in (label, upload_url):
        if key in overrides:
            return overrides[key].rstrip("/") + "/", "simple-index setting"
    found = simple_rule_for(upload_url)
    if found is not None:
        return found
    return upload_url.rstrip("/") + "/simple/", GENERIC_RULE


_DISCOVERED: dict[str, tuple[str, str]] = {}


_DISCOVERED_LOCK = threading.Lock()


def discover_simple(
    upload_url: str, overrides: dict[str, str], label: str, timeout: float
) -> tuple[str, str]:
    """Like `simple_url_for`, but a URL that cannot tell is asked: devpi answers ``+api``.

    The answer is cached per URL for the process, so a run resolves each index once at the cost
    of one bounded GET (never a simple root listing).
    """
    if any(key in overrides for key in (label, upload_url)) or simple_rule_for(upload_url):
        return _simple_from(upload_url, overrides, label)
    with _DISCOVERED_LOCK:
        if upload_url in _DISCOVERED:
            return _DISCOVERED[upload_url]
    found = _ask_devpi(upload_url, timeout)
    if found is None:  # no answer now: the listing will say why; ask again next time
        return upload_url.rstrip("/") + "/simple/", GENERIC_RULE
    with _DISCOVERED_LOCK:
        _DISCOVERED[upload_url] = found
    return found


def _ask_devpi(upload_url: str, timeout: float) -> tuple[str, str] | None:
    """devpi's ``+simple/`` if the server says it is devpi, else the generic rule; None: no answer."""
    try:
        answer = fetch(
            upload_url.rstrip("/") + "/+api", timeout, accept="application/json", limit=_PROBE_LIMIT
        )
    except Unreadable:
        return None
    try:
        data = json.loads(answer.body) if answer.status == 200 else None
    except (ValueError, RecursionError):
        data = None
    result = data.get("result") if isinstance(data, dict) else None
    simple = result.get("simpleindex") if isinstance(result, dict) else None
    if not isinstance(simple, str) or not simple.rstrip("/").endswith("/+simple"):
        return upload_url.rstrip("/") + "/simple/", GENERIC_RULE
    # Built from the URL the user configured, not from the server's idea of its own address.
    return upload_url.rstrip("/") + "/+simple/", DEVPI_RULE


def _keyring_credentials(url: str, username: str | None) -> tuple[str | None, str | None]:
    try:
        import keyring
        import keyring.errors
    except ImportError:
        return None, None
    try:
        cred = keyring.get_credential(url, username)
        if cred is not None and cred.password:
            return cred.username or username, cred.password
        # Backends without credential lookup by service only: the name twine documents.
        user = username or "__token__"
        password = keyring.get_password(url, user)
        return (user, password) if password else (None, None)
    except (keyring.errors.KeyringError, RuntimeError):
        return None, None
    except (ImportError, AttributeError, ValueError) as exc:  # PYTHON_KEYRING_BACKEND names nothing
        raise CredentialsError(
            f"the keyring backend cannot be loaded ({type(exc).__name__})",
            "fix PYTHON_KEYRING_BACKEND or keyringrc.cfg, or set "
            "PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring to skip the keyring",
        ) from None


def _check_token_destination(password: str, upload_url: str, label: str, source: str) -> None:
    """A PyPI token only goes to the PyPI that issued it: TestPyPI never sees a live token."""
    expected = _TOKEN_HOSTS.get((urllib.parse.urlsplit(upload_url).hostname or "").lower())
    issuer = token_location(password) if expected else None
    if issuer is None or issuer == expected:
        return
    raise CredentialsError(
        f"the token for {label} (from {source}) was issued by {printable(issuer)[:40]}, not {expected}: "
        f"refusing to send it to {redact.scrub(upload_url)}",
        f"create a token on {expected} and put it in the [{label}] section of ~/.pypirc",
    )


def resolve_repository(
    target: str,
    *,
    simple_overrides: dict[str, str],
    pypirc: Path | None = None,
    environ: dict[str, str] | None = None,
    role: Literal["test", "live"] = "live",
    timeout: float = _DEFAULT_TIMEOUT,
) -> Repository:
    """Resolve a .pypirc section name or URL to a Repository with its credentials.

    Credentials come from the repository URL itself (``https://user:pw@host/``, taken out of the
    URL), then the role's environment variables (`ENV_CREDENTIALS`: TWINE_USERNAME/TWINE_PASSWORD
    for the live index only, RELEASEKIT_TEST_USERNAME/RELEASEKIT_TEST_PASSWORD for the test
    index), then the .pypirc section, then keyring. They may only travel over https or to a
    loopback address, and a PyPI-issued token only to the PyPI that issued it. Finding the simple
    index may ask the server once (see `discover_simple`), bounded by `timeout`.
    """
    environ = dict(os.environ) if environ is None else environ
    path = pypirc or pypirc_path()
    parser = read_pypirc(path)
    label, section, (upload_url, url_user, url_password) = _locate(target, parser, path)
    _check_url(upload_url)
    username, password, source = _credentials(
        upload_url, parser, section, environ, role, (url_user, url_password)
    )
    if password and not username:
        username = "__token__"
    redact.register(password, username)
    if password and urllib.parse.urlsplit(upload_url).scheme != "https" and not is_loopback(upload_url):
        raise CredentialsError(
            f"refusing to send credentials to {redact.scrub(upload_url)} over plain http",
            "use an https URL (only loopback addresses may use http)",
        )
    if password and source:
        _check_token_destination(password, upload_url, label, source)
    simple, rule = discover_simple(upload_url, simple_overrides, label, timeout)
    return Repository(label, upload_url, simple, username, password, source, rule)


def _locate(
    target: str, parser: configparser.RawConfigParser, path: Path
) -> tuple[str, str | None, tuple[str, str | None, str | None]]:
    """(label, .pypirc section, (upload URL, user, password in the URL)) for a name or a URL.

    A URL is its own label and may still have a section (one whose `repository` is that URL);
    a name is a section, or one of the built-in pypi/testpypi.
    """
    if "://" in target:
        split = split_credentials(target)
        section = next(
            (s for s in parser.sections() if parser.get(s, "repository", fallback="") in (target, split[0])),
            None,
        )
        return split[0], section, split
    aliases = [target] + (["testpypi", "pypitest"] if target in ("testpypi", "pypitest") else [])
    section = next((a for a in aliases if parser.has_section(a)), None)
    if section is not None:
        configured = parser.get(section, "repository", fallback=BUILTIN.get(target, ""))
    elif target in BUILTIN:
        configured = BUILTIN[target]
    else:
        known = ", ".join(sorted(set(parser.sections()) - {"distutils"} | {"pypi", "testpypi"}))
        raise ConfigError(f"unknown repository '{target}'", f"use a URL or one of: {known}")
    if not configured:
        raise ConfigError(f"[{section}] in {path.name} has no repository URL", "add repository = https://...")
    return target, section, split_credentials(configured)


def _check_url(upload_url: str) -> None:
    try:
        parts = urllib.parse.urlsplit(upload_url)
        parts.port  # noqa: B018 (a port that is not a number raises here, not deep in http.client)
    except ValueError:
        raise ConfigError(  # not shown: a password with a raw "/" or "#" is where it breaks
            "a repository URL has an invalid host or port (not shown: it may hold a password)",
            "write it as https://host[:port]/path/ and percent-encode a password kept in it",
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"repository URL '{printable(redact.scrub(upload_url))}' is not http(s)")


def _credentials(
    upload_url: str,
    parser: configparser.RawConfigParser,
    section: str | None,
    environ: dict[str, str],
    role: Literal["test", "live"],
    from_url: tuple[str | None, str | None],
) -> tuple[str | None, str | None, str | None]:
    """(username, password, source) by the documented order; see `resolve_repository`."""
    if from_url[1]:
        return from_url[0], from_url[1], "repository URL"
    user_var, password_var = ENV_CREDENTIALS[role]
    username = from_url[0] or environ.get(user_var) or None
    password = environ.get(password_var) or None
    if password:
        return username, password, "environment"
    if section is not None:
        username = username or parser.get(section, "username", fallback=None)
        password = parser.get(section, "password", fallback=None) or None
        if password:
            return username, password, ".pypirc"
    username, password = _keyring_credentials(upload_url, username)
    return username, password, "keyring" if password else None
