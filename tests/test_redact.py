"""Secrets are masked in every form they travel in, and known token shapes even unregistered."""

from __future__ import annotations

import base64
import secrets
import urllib.parse
from collections.abc import Iterator

import pytest

from releasekit import redact

MASK = "********"


@pytest.fixture(autouse=True)
def forget() -> Iterator[None]:
    redact.forget_all()
    yield
    redact.forget_all()


def test_a_registered_secret_is_masked_in_every_form() -> None:
    secret = "s3cr3t/+=&" + secrets.token_hex(4) + " x"
    redact.register(secret, "alice")
    forms = {
        "raw": secret,
        "url-quoted": urllib.parse.quote(secret, safe=""),
        "url-quoted-plus": urllib.parse.quote_plus(secret),
        "basic auth": base64.b64encode(f"alice:{secret}".encode()).decode(),
        "token basic auth": base64.b64encode(f"__token__:{secret}".encode()).decode(),
    }
    assert len(set(forms.values())) == len(forms)  # the forms really differ

    for form, value in forms.items():
        scrubbed = redact.scrub(f"before {value} after")
        assert scrubbed == f"before {MASK} after", form


def test_a_secret_registered_without_a_username_covers_token_basic_auth() -> None:
    secret = secrets.token_urlsafe(16)
    redact.register(secret)
    header = "Authorization: Basic " + base64.b64encode(f"__token__:{secret}".encode()).decode()

    assert redact.scrub(header) == f"Authorization: Basic {MASK}"


def test_unregistered_text_is_unchanged() -> None:
    redact.register("registered-secret", "alice")
    text = "uploading rk_sample-1.0.tar.gz to https://upload.pypi.org/legacy/ (pypiserver, pypi-attest)"

    assert redact.scrub(text) == text


@pytest.mark.parametrize("secret", [None, "", "abc"])
def test_empty_or_tiny_secrets_are_not_registered(secret: str | None) -> None:
    # Masking every "abc" in every message would destroy the messages, not protect anything.
    redact.register(secret, "alice")

    assert redact.scrub("abc alice") == "abc alice"


def test_url_userinfo_is_masked() -> None:
    assert redact.scrub("POST https://alice:hunter2@pkgs.example.invalid/legacy/ failed") == (
        f"POST https://{MASK}@pkgs.example.invalid/legacy/ failed"
    )
    assert (
        redact.scrub("see http://token@127.0.0.1:8080/simple/") == f"see http://{MASK}@127.0.0.1:8080/simple/"
    )
    assert redact.scrub("https://pkgs.example.invalid/simple/") == "https://pkgs.example.invalid/simple/"


def test_url_userinfo_with_an_unencoded_at_sign_is_masked_whole() -> None:
    assert (
        redact.scrub("https://alice:p@ss-word@pkgs.example.invalid/")
        == f"https://{MASK}@pkgs.example.invalid/"
    )


def test_a_pypi_token_is_masked_even_if_never_registered() -> None:
    token = "pypi-AgEIcHlwaS5vcmc" + secrets.token_urlsafe(48)

    scrubbed = redact.scrub(f"TWINE_PASSWORD={token} rejected")

    assert scrubbed == f"TWINE_PASSWORD=pypi-{MASK} rejected"
    assert token[5:] not in scrubbed


def test_forget_all_resets() -> None:
    secret = secrets.token_hex(16)
    redact.register(secret, "alice")
    assert redact.scrub(secret) == MASK

    redact.forget_all()

    assert redact.scrub(secret) == secret


def test_an_unexpected_exception_keeps_its_traceback_but_not_the_secret(tmp_path, capsys, monkeypatch):
    """A bug's traceback is shown, scrubbed: the secret in its message never reaches stderr."""
    from releasekit.release import state
    from tests.support.cli import run_cli

    secret = "s3cret-" + "x" * 20

    def broken(*args, **kwargs):
        redact.register(secret)
        raise RuntimeError(f"http://user:{secret}@127.0.0.1:1/ broke")

    monkeypatch.setattr(state, "observe", broken)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1.0"\n')
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = run_cli(tmp_path, capsys, "release", "--dry-run")
    assert result.code == 1
    assert "Traceback" in result.err and "RuntimeError" in result.err
    assert secret not in result.err and secret not in result.out
