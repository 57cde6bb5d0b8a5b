"""Keep secrets out of every message, log line and journal.

Secrets are registered the moment credentials are resolved; everything that leaves the library
(step lines, errors, captured tool output) passes through `scrub`. Registration is process-wide
on purpose: an error raised deep inside twine or requests must be cleaned by the one error funnel
without that funnel knowing which repository it came from.
"""

from __future__ import annotations

import base64
import os
import re
import urllib.parse
from collections.abc import Mapping

_SECRETS: set[str] = set()
_MASK = "********"
# Greedy up to the last "@" before the path, as URL parsers split userinfo from the host.
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\s]+@")
_TOKEN = re.compile(r"pypi-[A-Za-z0-9_-]{16,}")


def register(secret: str | None, username: str | None = None) -> None:
    """Remember a secret in every form it could travel in (raw, URL-encoded, basic auth)."""
    if not secret:
        return
    forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}
    for user in {username or "", "__token__"}:
        forms.add(base64.b64encode(f"{user}:{secret}".encode()).decode())
    _SECRETS.update(f for f in forms if len(f) >= 4)


def scrub(text: str) -> str:
    """Return text with registered secrets, URL credentials and PyPI tokens masked."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    text = _USERINFO.sub(lambda m: m.group("scheme") + _MASK + "@", text)
    return _TOKEN.sub("pypi-" + _MASK, text)


def forget_all() -> None:
    """Drop every registered secret (tests run many releases in one process)."""
    _SECRETS.clear()


def printable(text: str) -> str:
    """Text from an index with control characters escaped, so it cannot forge lines or colours.

    A file name like ``x%0Aerror: ...`` or one holding ESC would otherwise print a fake error line
    or drive the terminal; every index-provided string passes here before it enters a message.
    """
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


# -- the environment of child processes ----------------------------------------------------------

# Name rules for `child_environ`, on the upper-cased variable name.
_CREDENTIAL_PREFIXES = ("TWINE_", "UV_PUBLISH_", "PYPI_", "FLIT_", "HATCH_INDEX_", "POETRY_PYPI_TOKEN_")
_CREDENTIAL_PARTS = ("PASSWORD", "PASSWD", "SECRET")
_CREDENTIAL_WORDS = frozenset({"TOKEN", "CREDENTIALS", "APIKEY"})
# uv authenticates the downloads it makes (build requirements, dependencies) with these; they
# read a private mirror and cannot upload anywhere.
_INSTALLER_CREDENTIALS = ("UV_INDEX_",)


def is_credential_variable(name: str) -> bool:
    """Whether an environment variable's name says it carries a credential.

    The rule: a TWINE_*, UV_PUBLISH_*, PYPI_*, FLIT_*, HATCH_INDEX_* or POETRY_PYPI_TOKEN_* name
    (the upload tools' credential variables); any name containing PASSWORD, PASSWD or SECRET;
    any name with TOKEN, CREDENTIALS or APIKEY as one of its "_"-separated words (GITHUB_TOKEN,
    GH_TOKEN, ACTIONS_RUNTIME_TOKEN, ACTIONS_ID_TOKEN_REQUEST_TOKEN and _URL). uv's UV_INDEX_*
    variables are kept: they are read credentials for the index uv installs from, which a build
    needs to reach a private mirror, and they cannot upload.
    """
    upper = name.upper()
    if upper.startswith(_INSTALLER_CREDENTIALS):
        return False
    if upper.startswith(_CREDENTIAL_PREFIXES) or any(part in upper for part in _CREDENTIAL_PARTS):
        return True
    return not _CREDENTIAL_WORDS.isdisjoint(upper.split("_"))


def child_environ(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child process: `base` (default os.environ) without any credential.

    The build backend, the import that verifies an install, and uv run code we did not write;
    none of them needs an upload credential, so none may inherit one. A variable is left out
    when its name says it is a credential (`is_credential_variable`) or when its value holds a
    registered secret, whatever it is called (a CI job that copies the token into MY_VAR).
    """
    source = os.environ if base is None else base
    # Short registered forms could turn up inside an unrelated value (a PATH entry) by chance.
    secrets = [s for s in _SECRETS if len(s) >= 8]
    return {
        key: value
        for key, value in source.items()
        if not is_credential_variable(key) and not any(s in value for s in secrets)
    }
