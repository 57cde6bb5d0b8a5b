"""Keep secrets out of every message, log line and journal.

Secrets are registered the moment credentials are resolved; everything that leaves the library
(step lines, errors, captured tool output) passes through `scrub`. Registration is process-wide
on purpose: an error raised deep inside twine or requests must be cleaned by the one error funnel
without that funnel knowing which repository it came from.
"""

from __future__ import annotations

import base64
import re
import urllib.parse

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
