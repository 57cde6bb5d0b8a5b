"""The check every test that can print a secret makes: that it did not."""

from __future__ import annotations

import base64
import urllib.parse

import pytest

from tests.support.indexes import UPLOADER


def assert_no_secret(text: str, *secrets_: str) -> None:
    """Fail if any secret shows up raw, URL-quoted or inside a Basic auth header value.

    The failure message names only which secret and form leaked, never the secret itself.
    """
    for number, secret in enumerate(secrets_, start=1):
        if not secret:
            continue
        forms = {
            "raw": secret,
            "basic-auth base64": base64.b64encode(f"{UPLOADER}:{secret}".encode()).decode(),
            "url-quoted": urllib.parse.quote(secret),
        }
        for form, value in forms.items():
            if value in text:
                pytest.fail(f"secret #{number} leaked in {form} form", pytrace=False)
