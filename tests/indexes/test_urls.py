"""What an index URL says by itself: pure functions, checked against each server's documented shapes."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import pytest

from releasekit import redact
from releasekit.indexes.urls import (
    normalise_url,
    same_index,
    simple_rule_for,
    split_credentials,
    token_location,
)
from tests.support.tokens import macaroon_v1, macaroon_v2


@pytest.fixture(autouse=True)
def forget_secrets() -> Iterator[None]:
    yield
    redact.forget_all()


# The upload URLs each server documents for twine, and the simple index it documents for pip.
DOCUMENTED = [
    ("https://upload.pypi.org/legacy/", "https://pypi.org/simple/", "PyPI"),
    ("https://test.pypi.org/legacy/", "https://test.pypi.org/simple/", "TestPyPI"),
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/simple/", "pypiserver (/ -> /simple/)"),
    ("http://pypi.corp.example:8080", "http://pypi.corp.example:8080/simple/", "pypiserver (/ -> /simple/)"),
    (
        "https://corp.jfrog.io/artifactory/api/pypi/pypi-local",
        "https://corp.jfrog.io/artifactory/api/pypi/pypi-local/simple/",
        "Artifactory",
    ),
    (
        "https://nexus.corp.example/repository/pypi-internal/",
        "https://nexus.corp.example/repository/pypi-internal/simple/",
        "Nexus",
    ),
    (
        "https://nexus.corp.example/nexus/repository/pypi-hosted",
        "https://nexus.corp.example/nexus/repository/pypi-hosted/simple/",
        "Nexus",
    ),
    (
        "https://gitlab.example.com/api/v4/projects/42/packages/pypi",
        "https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple/",
        "GitLab",
    ),
    (
        "https://my_domain-111122223333.d.codeartifact.us-west-2.amazonaws.com/pypi/my_repo/",
        "https://my_domain-111122223333.d.codeartifact.us-west-2.amazonaws.com/pypi/my_repo/simple/",
        "CodeArtifact",
    ),
    (
        "https://us-east1-python.pkg.dev/my-project/my-repo/",
        "https://us-east1-python.pkg.dev/my-project/my-repo/simple/",
        "Artifact Registry",
    ),
    ("https://pkgs.example.invalid/legacy/", "https://pkgs.example.invalid/simple/", "Warehouse"),
    ("https://pkgs.example.invalid/upload/", "https://pkgs.example.invalid/upload/simple/", "other"),
]


@pytest.mark.parametrize(("upload_url", "simple", "rule"), DOCUMENTED, ids=[d[2] for d in DOCUMENTED])
def test_the_simple_index_of_each_documented_upload_url(upload_url: str, simple: str, rule: str) -> None:
    found = simple_rule_for(upload_url)

    assert found is not None
    assert found[0] == simple
    assert found[1].startswith(rule)


@pytest.mark.parametrize(
    "upload_url",
    ["http://127.0.0.1:3141/USER/staging/", "https://devpi.corp.example/team/prod", "http://host/a/b/"],
)
def test_a_two_level_path_cannot_be_told_from_the_url(upload_url: str) -> None:
    # devpi's /USER/INDEX/ (simple at +simple/) or another server's path: indexes asks the server.
    assert simple_rule_for(upload_url) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
        ("http://127.0.0.1:8080/", "http://localhost:8080/"),
        ("http://LOCALHOST:8080/", "http://[::1]:8080"),
        ("HTTPS://Upload.PyPI.org:443/legacy/", "https://upload.pypi.org/legacy"),
        ("https://upload.pypi.org/legacy/", "https://upload.pypi.org/"),
        ("http://pkgs.example.invalid:80/x/", "http://pkgs.example.invalid/x"),
        ("http://user:pw@127.0.0.1:8080/", "http://127.0.0.1:8080/"),
    ],
)
def test_one_index_spelt_two_ways_is_the_same_index(a: str, b: str) -> None:
    assert same_index(a, b)
    assert normalise_url(a) == normalise_url(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8081/"),
        ("https://upload.pypi.org/legacy/", "https://test.pypi.org/legacy/"),
        ("http://127.0.0.1:3141/USER/staging/", "http://127.0.0.1:3141/USER/prod/"),
        ("http://pkgs.example.invalid/", "https://pkgs.example.invalid/"),
    ],
)
def test_different_indexes_stay_different(a: str, b: str) -> None:
    assert not same_index(a, b)


def test_credentials_are_taken_out_of_a_url_and_registered() -> None:
    url, user, password = split_credentials("http://user:s3cret%2Fx@127.0.0.1:8080/path/")

    assert (url, user, password) == ("http://127.0.0.1:8080/path/", "user", "s3cret/x")
    assert redact.scrub("sent s3cret/x and s3cret%2Fx") == "sent ******** and ********"


def test_a_token_in_a_url_is_taken_out() -> None:
    token = "pypi-" + base64.urlsafe_b64encode(os.urandom(48)).decode().rstrip("=")

    url, user, password = split_credentials(f"https://__token__:{token}@pkgs.example.invalid/legacy/")

    assert (url, user, password) == ("https://pkgs.example.invalid/legacy/", "__token__", token)
    assert token not in redact.scrub(f"error: {token}")


def test_a_url_without_credentials_is_unchanged() -> None:
    assert split_credentials("https://pkgs.example.invalid/a@b/") == (
        "https://pkgs.example.invalid/a@b/",
        None,
        None,
    )


@pytest.mark.parametrize("location", ["pypi.org", "test.pypi.org"])
def test_the_issuer_of_a_pypi_token(location: str) -> None:
    assert token_location(macaroon_v2(location.encode())) == location
    assert token_location(macaroon_v2(location.encode(), identifier=b"y" * 300)) == location
    assert token_location(macaroon_v1(location)) == location


@pytest.mark.parametrize(
    "token",
    ["hunter2", "pypi-", "pypi-!!!notbase64", "pypi-" + "A" * 40, macaroon_v2(None)],
    ids=["not-a-token", "empty", "garbage", "no-macaroon", "no-location"],
)
def test_a_token_that_names_no_issuer(token: str) -> None:
    assert token_location(token) is None


def test_printable_escapes_control_characters() -> None:
    forged = "pkg-1.0.tar.gz\nerror: \x1b[31mfake\x1b[0m\u202e"

    escaped = redact.printable(forged)

    assert escaped == "pkg-1.0.tar.gz\\nerror: \\x1b[31mfake\\x1b[0m\\u202e"
    assert escaped.isprintable()
    assert redact.printable("plain name-1.0.whl") == "plain name-1.0.whl"
