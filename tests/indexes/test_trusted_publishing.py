"""Trusted publishing against stand-ins of GitHub's token service and PyPI's mint endpoint.

The stand-ins (tests/support/oidc_standins.py) follow the documented contracts; the index behind the
mint endpoint is a real pypiserver whose upload password is the token the endpoint mints, so a
minted token is proved by a real upload. The `id` package is used as it is, reading the
process environment, exactly as on a runner.
"""

from __future__ import annotations

import base64
import secrets
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from releasekit import redact
from releasekit.config import Config, load_config
from releasekit.dists.artifact import describe
from releasekit.errors import ConfigError, CredentialsError
from releasekit.indexes import trusted_publishing, upload
from releasekit.indexes.resolve import Repository
from releasekit.testing.localindex import LocalIndexServer
from tests.support.cli import run_cli
from tests.support.dists import make_wheel
from tests.support.leaks import assert_no_secret
from tests.support.oidc_standins import GitHubTokenService, PyPIStandIn

PUBLISHER = {"repository": "acme/rk-sample", "workflow": "release.yml", "environment": "pypi"}
_AMBIENT = (
    "GITHUB_ACTIONS", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "GITLAB_CI",
    "BUILDKITE", "CIRCLECI", "GOOGLE_SERVICE_ACCOUNT_NAME",
)  # fmt: skip


@pytest.fixture(autouse=True)
def no_ambient_identity(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Whatever CI runs these tests, its identity stays out; and secrets are forgotten after."""
    for name in _AMBIENT:
        monkeypatch.delenv(name, raising=False)
    yield
    redact.forget_all()


@pytest.fixture(scope="module")
def token_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndexServer]:
    """A real pypiserver whose upload credentials are `__token__` and the token to be minted."""
    server = LocalIndexServer(
        tmp_path_factory.mktemp("oidc-index"), username="__token__", password=secrets.token_urlsafe(16)
    )
    server.start()
    yield server
    server.close()


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubTokenService]:
    """A GitHub Actions job with `id-token: write`: the runner's variables point at the stand-in."""
    with GitHubTokenService() as service:
        for key, value in service.environ().items():
            monkeypatch.setenv(key, value)
        yield service


@pytest.fixture
def pypi(token_index: LocalIndexServer, github: GitHubTokenService) -> Iterator[PyPIStandIn]:
    with PyPIStandIn(token_index.index, github, audience="testpypi", publisher=PUBLISHER) as standin:
        yield standin


def _secrets(github: GitHubTokenService, index: LocalIndexServer) -> tuple[str, ...]:
    return (github.request_token, index.index.password, *github.issued)


def _assert_clean(text: str, *secrets_: str) -> None:
    """No secret raw, quoted or in Basic auth as either user; and one printable line."""
    assert_no_secret(text, *secrets_)
    for secret in secrets_:
        assert base64.b64encode(f"__token__:{secret}".encode()).decode() not in text
    assert "\n" not in text and all(unicodedata.category(ch)[0] != "C" for ch in text), repr(text)


def _refused(upload_url: str, *secrets_: str, timeout: float = 10.0) -> str:
    with pytest.raises(CredentialsError) as caught:
        trusted_publishing.mint_token(upload_url, timeout)
    text = str(caught.value)
    _assert_clean(text, *secrets_)
    return text


def _repo(standin: PyPIStandIn, password: str | None = None) -> Repository:
    return Repository("testpypi", standin.url, standin.url + "simple/", password and "__token__", password)


# Minting


def test_a_minted_token_uploads_for_real(pypi, github, token_index, tmp_path):
    minted = trusted_publishing.mint_token(pypi.url, timeout=10)

    assert minted is not None
    assert minted.token == token_index.index.password
    assert minted.username == "__token__" and minted.origin == pypi.origin
    assert 899 <= minted.expires_at - minted.minted_at <= 901  # the index's `expires`, 15 minutes
    assert not minted.expires_soon() and minted.expires_soon(margin=901)
    assert minted.token not in repr(minted)
    assert (pypi.audience_requests, pypi.mint_requests, pypi.minted) == (1, 1, 1)
    assert len(github.issued) == 1  # one OIDC token, for the audience the index named ("testpypi")
    art = describe(make_wheel(tmp_path, "rk_oidc_demo", "1.0"))
    result = upload.upload(trusted_publishing.with_token(_repo(pypi), minted), art, timeout=30, attempts=1)
    assert result.outcome == "uploaded" and pypi.uploads == 1
    upload.confirm(_repo(pypi), [art], timeout=30)
    # The index really checks: the same upload with another token is refused.
    other = describe(make_wheel(tmp_path, "rk_oidc_demo", "2.0"))
    with pytest.raises(CredentialsError) as caught:
        upload.upload(_repo(pypi, "pypi-not-the-token-at-all"), other, timeout=30, attempts=1)
    _assert_clean(str(caught.value), *_secrets(github, token_index))


def test_every_token_is_registered_as_a_secret(pypi, github, token_index):
    minted = trusted_publishing.mint_token(pypi.url, timeout=10)
    assert minted is not None

    text = f"{minted.token} {github.issued[0]} {github.request_token}"
    assert redact.scrub(text) == " ".join(["********"] * 3)


def test_without_an_ambient_identity_there_is_no_token(token_index, github, monkeypatch):
    monkeypatch.delenv("GITHUB_ACTIONS")
    with PyPIStandIn(token_index.index, github, audience="testpypi", publisher=PUBLISHER) as standin:
        assert trusted_publishing.mint_token(standin.url, timeout=10) is None
        assert standin.mint_requests == 0 and github.issued == []


def test_a_short_lived_token_is_renewed_before_an_upload(token_index, github):
    with PyPIStandIn(
        token_index.index, github, audience="testpypi", publisher=PUBLISHER, lifetime=60
    ) as standin:
        repo, minted = trusted_publishing.publish_as(
            _repo(standin), setting="auto", timeout=10, environ=github.environ()
        )
        assert minted is not None and minted.expires_soon()  # 60 s left, under the 300 s margin
        assert repo.password == minted.token and repo.credential_source == "trusted publishing"

        renewed_repo, renewed = trusted_publishing.renewed(repo, minted, timeout=10)

        assert renewed is not minted and renewed.minted_at >= minted.minted_at and standin.minted == 2
        assert renewed_repo.password == renewed.token
        fresh = trusted_publishing.MintedToken(minted.origin, minted.token, time.time(), time.time() + 900)
        assert trusted_publishing.renewed(repo, fresh, timeout=10) == (repo, fresh) and standin.minted == 2


# Refusals: one line, how to register the publisher, nothing secret


def test_an_unknown_publisher_is_one_line_saying_what_to_register(pypi, github, token_index):
    pypi.publisher["environment"] = "release"  # registered for another environment than the job's

    text = _refused(pypi.url, *_secrets(github, token_index))

    host = pypi.origin.removeprefix("http://")
    assert text.startswith(f"{host} refused the trusted publishing exchange (invalid-publisher: valid token,")
    assert f"register a trusted publisher in the project's trusted publisher settings on {host}" in text
    assert "for repository acme/rk-sample, workflow release.yml, environment pypi" in text
    assert "pending publisher" in text


def test_a_token_for_another_audience_is_refused_by_id(pypi, github, token_index):
    github.wrong_audience = True

    text = _refused(pypi.url, *_secrets(github, token_index))

    assert "the CI platform did not issue an OIDC token" in text and "audience" in text
    assert pypi.mint_requests == 0  # never sent on


def test_a_token_the_index_cannot_verify_is_invalid_token(token_index, github):
    with (
        GitHubTokenService() as stranger,
        PyPIStandIn(token_index.index, stranger, audience="testpypi", publisher=PUBLISHER) as standin,
    ):
        text = _refused(standin.url, *_secrets(github, token_index))
    assert "(invalid-token: malformed or invalid token)" in text


def test_a_github_job_without_id_token_permission_is_told_how_to_fix_it(
    pypi, github, token_index, monkeypatch
):
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")

    text = _refused(pypi.url, *_secrets(github, token_index))

    assert "may not request an OIDC token" in text and "permissions: id-token: write" in text


@pytest.mark.parametrize(
    "description",
    [
        "line one\nline two\r\x1b[31mred\x1b[0m\x07",
        "right-to-left \u202eoverride\u2066 and \u2028 separator",
        "x" * 5000,
    ],
)
def test_what_the_index_says_is_shown_stripped_and_short(pypi, github, token_index, description):
    def answer(body: bytes) -> tuple[int, bytes, dict[str, str]]:
        echoed = body.decode()  # a hostile index echoing the OIDC token back in its error
        errors = [{"code": "invalid-payload\x1b]0;", "description": f"{description} {echoed}"}]
        return 422, json_bytes({"message": "Token request failed", "errors": errors}), {}

    pypi.mint_answer = answer

    text = _refused(pypi.url, *_secrets(github, token_index))

    assert "(invalid-payload: " in text and len(text) < 800
    assert "\x1b" not in text and "\u202e" not in text and "[31m" not in text


def test_the_publishing_pages_of_pypi_and_testpypi():
    assert (
        trusted_publishing.publishing_page("upload.pypi.org") == "https://pypi.org/manage/account/publishing/"
    )
    assert trusted_publishing.publishing_page("pypi.org") == "https://pypi.org/manage/account/publishing/"
    assert (
        trusted_publishing.publishing_page("test.pypi.org")
        == "https://test.pypi.org/manage/account/publishing/"
    )
    assert trusted_publishing.publishing_page("127.0.0.1:8080") is None


# Malformed and unsafe answers


def json_bytes(document: object) -> bytes:
    import json

    return json.dumps(document).encode()


AUDIENCE_ANSWERS = {
    "html": ((200, b"<html>down</html>", {"Content-Type": "text/html"}), "malformed JSON (HTTP 200)"),
    "a list": ((200, b'["pypi"]', {}), "audience request with malformed JSON (HTTP 200)"),
    "no audience": ((200, b'{"aud": "pypi"}', {}), "without an audience (HTTP 200)"),
    "not found": ((404, b"Not Found", {}), "does not support trusted publishing"),
    "disabled": ((403, b'{"message": "Turned off"}', {}), "has trusted publishing disabled (Turned off)"),
    "server error": ((502, b"Bad Gateway", {}), "audience request with malformed JSON (HTTP 502)"),
    "redirect": ((302, b"", {"Location": "http://127.0.0.1:9/_/oidc/audience"}), "redirected the"),
    "huge": ((200, b'{"audience": "' + b"a" * 100_000 + b'"}', {}), "over 64 KiB"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(AUDIENCE_ANSWERS))
def test_a_malformed_audience_answer_is_one_line(pypi, github, token_index, case):
    pypi.audience_answer, says = AUDIENCE_ANSWERS[case]

    text = _refused(pypi.url, *_secrets(github, token_index))

    assert says in text
    assert github.issued == [] and pypi.mint_requests == 0


MINT_ANSWERS = {
    "not json": ((200, b"token=abc", {}), "mint-token request with malformed JSON (HTTP 200)"),
    "server error": ((500, b"<h1>Internal Server Error</h1>", {}), "malformed JSON (HTTP 500)"),
    "no token": ((200, b'{"success": true}', {}), "without a usable token"),
    "a number": ((200, b'{"token": 12345}', {}), "without a usable token"),
    "a line break": ((200, b'{"token": "pypi-abc\\ndef"}', {}), "without a usable token"),
    "no reasons": ((422, b'{"message": "Token request failed"}', {}), "exchange (Token request failed)"),
    "redirect": ((307, b"", {"Location": "http://127.0.0.1:9/steal"}), "mint-token request (HTTP 307)"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(MINT_ANSWERS))
def test_a_malformed_mint_answer_is_one_line(pypi, github, token_index, case):
    answer, says = MINT_ANSWERS[case]
    pypi.mint_answer = lambda body: answer

    text = _refused(pypi.url, *_secrets(github, token_index))

    assert says in text


def test_a_dripping_answer_is_cut_off_by_the_timeout(pypi, github, token_index):
    pypi.drip = 0.1  # every byte comes quickly, the whole answer takes seconds

    start = time.monotonic()
    text = _refused(pypi.url, *_secrets(github, token_index), timeout=0.5)

    assert time.monotonic() - start < 2.0
    assert "did not answer the trusted publishing audience request (the answer took too long)" in text


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://example.org/legacy/", "over http"),
        ("http://10.0.0.1:8080/", "over http"),
        ("ftp://127.0.0.1/", "over ftp"),
    ],
)
def test_plain_http_to_another_machine_is_refused_before_any_request(url, says, github):
    text = _refused(url, github.request_token)

    assert says in text and "https" in text
    assert github.issued == []


@pytest.mark.parametrize("host", ["http://localhost:1/", "http://127.0.0.2:1/", "http://[::1]:1/"])
def test_plain_http_to_loopback_is_allowed(host, github):
    text = _refused(host, github.request_token, timeout=2)  # allowed, so it is tried: nobody listens

    assert "did not answer the trusted publishing audience request" in text


# When to try


@pytest.mark.parametrize(
    ("setting", "has_credentials", "environ", "expected"),
    [
        ("auto", False, {"GITHUB_ACTIONS": "true"}, True),
        ("auto", False, {"GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": ""}, True),
        ("auto", False, {"GITLAB_CI": "true"}, True),
        ("auto", False, {"BUILDKITE": "true"}, True),
        ("auto", False, {"CIRCLECI": "true"}, True),
        ("auto", False, {"GOOGLE_SERVICE_ACCOUNT_NAME": "sa@example.iam.gserviceaccount.com"}, True),
        ("auto", True, {"GITHUB_ACTIONS": "true"}, False),
        ("auto", False, {}, False),
        ("auto", False, {"CI": "true", "GITHUB_ACTIONS": ""}, False),
        ("always", True, {}, True),
        ("always", False, {}, True),
        ("never", False, {"GITHUB_ACTIONS": "true"}, False),
        ("never", True, {"GITHUB_ACTIONS": "true"}, False),
    ],
)
def test_should_try(setting, has_credentials, environ, expected):
    assert trusted_publishing.should_try(setting, has_credentials, environ) is expected


def test_should_try_refuses_an_unknown_setting():
    with pytest.raises(CredentialsError, match='"auto", "always" or "never"'):
        trusted_publishing.should_try("sometimes", False, {})


def test_publish_as_follows_the_setting(pypi, github):
    stored = _repo(pypi, "pypi-stored-token-value")

    assert trusted_publishing.publish_as(stored, setting="auto", timeout=10) == (stored, None)
    assert trusted_publishing.publish_as(_repo(pypi), setting="never", timeout=10) == (_repo(pypi), None)
    forced, minted = trusted_publishing.publish_as(stored, setting="always", timeout=10)
    assert minted is not None and forced.password == minted.token != stored.password


def test_always_without_an_identity_is_an_error(pypi, monkeypatch):
    monkeypatch.delenv("GITHUB_ACTIONS")

    with pytest.raises(CredentialsError, match='trusted-publishing is "always", but no CI identity'):
        trusted_publishing.publish_as(_repo(pypi), setting="always", timeout=10)
    assert trusted_publishing.publish_as(_repo(pypi), setting="auto", timeout=10, environ={}) == (
        _repo(pypi),
        None,
    )


def test_child_processes_get_no_way_to_mint():
    environ = {
        "PATH": "/bin",
        "GITHUB_ACTIONS": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://example.invalid/token",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "secret",
        "PYPI_ID_TOKEN": "eyJ...",
        "TESTPYPI_ID_TOKEN": "eyJ...",
    }

    # One rule for every child process (redact.child_environ), minting variables included.
    assert redact.child_environ(environ) == {"PATH": "/bin", "GITHUB_ACTIONS": "true"}


# The setting


def test_the_trusted_publishing_key(tmp_path):
    assert Config().trusted_publishing == "auto"
    for value in ("auto", "always", "never"):
        (tmp_path / "pyproject.toml").write_text(f'[tool.releasekit]\ntrusted-publishing = "{value}"\n')
        assert load_config(tmp_path).trusted_publishing == value
    assert load_config(tmp_path, {"trusted_publishing": "auto"}).trusted_publishing == "auto"
    for bad, says in (('"yes"', '"auto", "always" or "never"'), ("true", "wrong type")):
        (tmp_path / "pyproject.toml").write_text(f"[tool.releasekit]\ntrusted-publishing = {bad}\n")
        with pytest.raises(ConfigError, match="'trusted-publishing'") as caught:
            load_config(tmp_path)
        assert says in str(caught.value)


# End to end


def _write_url_only_pypirc(home: Path, test: PyPIStandIn, live: PyPIStandIn) -> None:
    """Both indexes by URL only: no username, no password anywhere."""
    text = "[distutils]\nindex-servers =\n    pypi\n    testpypi\n"
    text += f"\n[testpypi]\nrepository = {test.url}\n\n[pypi]\nrepository = {live.url}\n"
    path = home / ".pypirc"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


def test_a_release_with_no_credentials_publishes_through_trusted_publishing(
    make_project, github, isolated_env, tmp_path, capsys
):
    project = make_project()
    servers = [
        LocalIndexServer(tmp_path / "idx" / role, username="__token__", password=secrets.token_urlsafe(16))
        for role in ("test", "live")
    ]
    try:
        for server in servers:
            server.start()
        with (
            PyPIStandIn(servers[0].index, github, audience="testpypi", publisher=PUBLISHER) as test,
            PyPIStandIn(servers[1].index, github, audience="pypi", publisher=PUBLISHER) as live,
        ):
            _write_url_only_pypirc(isolated_env, test, live)

            result = run_cli(project.path, capsys, "release", "--yes", "--json")

            secrets_ = (github.request_token, servers[0].index.password, servers[1].index.password)
            _assert_no_secret_in_output(result.text, *secrets_, *github.issued)
            assert result.code == 0, result.err
            summary = result.summary()
            assert summary["complete"] and summary["pushed"]
            assert test.minted >= 1 and live.minted >= 1  # each index its own token
            assert test.uploads == 2 and live.uploads == 2
            assert "refs/tags/v1.4.2" in project.git("ls-remote", "--tags", "origin")
    finally:
        for server in servers:
            server.close()


def _assert_no_secret_in_output(text: str, *secrets_: str) -> None:
    assert_no_secret(text, *secrets_)
    for secret in secrets_:
        assert base64.b64encode(f"__token__:{secret}".encode()).decode() not in text
