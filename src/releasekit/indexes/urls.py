"""What an index URL says by itself: its one normal spelling, its simple index, and PyPI tokens.

Pure functions, no network: the rules here are unit-tested against the URL shapes each server
documents, and `indexes` adds the one probe a URL cannot answer (devpi's ``/USER/INDEX/``).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import urllib.error
import urllib.parse
import urllib.request

from releasekit import redact

PYPI_UPLOAD = "https://upload.pypi.org/legacy/"


TESTPYPI_UPLOAD = "https://test.pypi.org/legacy/"


BUILTIN = {"pypi": PYPI_UPLOAD, "testpypi": TESTPYPI_UPLOAD, "pypitest": TESTPYPI_UPLOAD}


def safe_for_credentials(url: str) -> bool:
    """Credentials may travel over https, or over plain http only to this machine."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    return scheme == "https" or (scheme == "http" and is_loopback(url))


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_PYPI_SIMPLE = {
    "upload.pypi.org": ("https://pypi.org/simple/", "PyPI"),
    "test.pypi.org": ("https://test.pypi.org/simple/", "TestPyPI"),
}


def normalise_url(url: str) -> str:
    """One spelling per index: lower-case scheme and host, one loopback name, no default port.

    A trailing slash and a trailing ``/legacy`` are dropped too, so ``http://LOCALHOST:8080``,
    ``http://127.0.0.1:8080/`` and ``http://[::1]:8080/legacy/`` all read as the same index.
    """
    parts = urllib.parse.urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if host in ("localhost", "127.0.0.1", "::1"):
        host = "localhost"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port == {"http": 80, "https": 443}.get(scheme):
        port = None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    path = parts.path.rstrip("/").removesuffix("/legacy")
    return f"{scheme}://{netloc}{path}/"


def same_index(a_url: str, b_url: str) -> bool:
    """Whether two URLs name the same index, however they are spelt (see `normalise_url`)."""
    return normalise_url(a_url) == normalise_url(b_url)


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """A URL without its ``user:password@`` part, and the credentials it held (registered as secrets).

    A password in a repository URL must travel as a credential, never in the URL that messages,
    logs and twine's own errors show.
    """
    scheme, sep, rest = url.partition("://")
    authority_end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority = rest[:authority_end]
    userinfo, at, hostport = authority.rpartition("@")
    if not sep or not at:
        return url, None, None
    user, _, password = userinfo.partition(":")
    username = urllib.parse.unquote(user) or None
    secret = urllib.parse.unquote(password) or None
    redact.register(secret, username)
    if secret:
        redact.register(password)  # as written too: it may be encoded otherwise than quote() does
    return f"{scheme}://{hostport}{rest[authority_end:]}", username, secret


# Upload URL shapes of the common index servers, tried in order; each says where the simple index is.
_CODEARTIFACT_HOST = re.compile(r"^[a-z0-9_-]+-\d{12}\.d\.codeartifact\.[a-z0-9-]+\.amazonaws\.com$")


_ARTIFACT_REGISTRY_HOST = re.compile(r"^[a-z0-9-]+-python\.pkg\.dev$")


_ARTIFACTORY_PATH = re.compile(r"/api/pypi/[^/]+$")


_GITLAB_PATH = re.compile(r"/api/v4/projects/[^/]+/packages/pypi$")


_NEXUS_PATH = re.compile(r"/repository/[^/]+$")


GENERIC_RULE = "other (… -> …/simple/)"


DEVPI_RULE = "devpi (+simple)"


def simple_rule_for(upload_url: str) -> tuple[str, str] | None:
    """The simple index behind an upload URL and the rule that says so, from the URL alone.

    None means the URL cannot tell: ``/USER/INDEX/`` is devpi's shape (``+simple/``) but also
    any server's two-level path, so `discover_simple` asks the server.
    """
    parts = urllib.parse.urlsplit(upload_url)
    host = (parts.hostname or "").lower()
    path = parts.path.rstrip("/")
    base = urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    if host in _PYPI_SIMPLE and path == "/legacy":
        return _PYPI_SIMPLE[host]
    rules = (
        ("CodeArtifact", bool(_CODEARTIFACT_HOST.match(host)) and path.startswith("/pypi/")),
        ("Artifact Registry", bool(_ARTIFACT_REGISTRY_HOST.match(host))),
        ("Artifactory", bool(_ARTIFACTORY_PATH.search(path))),
        ("GitLab", bool(_GITLAB_PATH.search(path))),
        ("Nexus", bool(_NEXUS_PATH.search(path))),
    )
    for rule, matches in rules:
        if matches:
            return base + "/simple/", rule
    if path.endswith("/legacy"):
        return base.removesuffix("/legacy") + "/simple/", "Warehouse (/legacy/ -> /simple/)"
    if not path:
        return base + "/simple/", "pypiserver (/ -> /simple/)"
    if path.count("/") == 2:
        return None
    return base + "/simple/", GENERIC_RULE


def token_location(token: str) -> str | None:
    """The location a PyPI-issued token names (``pypi.org``, ``test.pypi.org``), else None.

    PyPI tokens are ``pypi-`` + base64url of a macaroon (pymacaroons' v2 binary format: a
    version byte 2, then fields of varint type, varint length and data, the location first);
    v1 macaroons are packets of four hex digits of length and ``location <value>``.
    """
    if not token.startswith("pypi-"):
        return None
    body = token.removeprefix("pypi-")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None
    if raw[:1] == b"\x02":
        return _v2_location(raw)
    match = re.match(rb"[0-9a-f]{4}location ([^\n]*)\n", raw)
    return match.group(1).decode("utf-8", "replace") if match else None


def _v2_location(raw: bytes) -> str | None:
    def varint(at: int) -> tuple[int, int]:
        value = shift = 0
        while at < len(raw) and shift < 35:
            byte = raw[at]
            value |= (byte & 0x7F) << shift
            at, shift = at + 1, shift + 7
            if not byte & 0x80:
                return value, at
        raise ValueError("truncated varint")

    try:
        field_type, at = varint(1)
        if field_type != 1:  # the location is optional and, when there, comes first
            return None
        length, at = varint(at)
    except ValueError:
        return None
    location = raw[at : at + length]
    return location.decode("utf-8", "replace") if len(location) == length else None
