"""Repository resolution, credentials and what an index holds, against real local indexes."""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.credentials import Credential, SimpleCredential

from releasekit import redact
from releasekit.errors import ConfigError, CredentialsError, PackageIndexError
from releasekit.indexes.listing import IndexFile, check_readable, download, list_files
from releasekit.indexes.pypirc import pypirc_warnings
from releasekit.indexes.resolve import Repository, resolve_repository, simple_url_for
from releasekit.indexes.urls import PYPI_UPLOAD, TESTPYPI_UPLOAD
from tests.support import faultproxy
from tests.support.cli import run_cli
from tests.support.dists import make_wheel
from tests.support.indexes import IndexPair, twine_upload
from tests.support.indexes import write_pypirc as write_pair_pypirc
from tests.support.leaks import assert_no_secret
from tests.support.projects import Project
from tests.support.tokens import macaroon_v2

CORP_URL = "https://pkgs.example.invalid/upload/"


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring, so the keyring layer is exercised without touching a real one.

    Its get_credential is keyring's default (it needs a username), as in the macOS backend;
    with ``search`` set it also finds a credential without one, as SecretService and Windows do.
    """

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.search = False

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.entries[(service, username)]

    def get_credential(self, service: str, username: str | None) -> Credential | None:
        if username is None and self.search:
            for (entry_service, entry_user), password in self.entries.items():
                if entry_service == service:
                    return SimpleCredential(entry_user, password)
        return super().get_credential(service, username)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def forget_secrets() -> Iterator[None]:
    """resolve_repository registers secrets process-wide; keep each test's to itself."""
    yield
    redact.forget_all()


def resolve(
    target: str, pypirc: Path, environ: dict[str, str] | None = None, /, **overrides: str
) -> Repository:
    return resolve_repository(target, simple_overrides=overrides, pypirc=pypirc, environ=environ or {})


def write_pypirc(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


# resolve_repository: which URL a name means


def test_builtin_repositories_without_pypirc(tmp_path: Path) -> None:
    missing = tmp_path / ".pypirc"

    pypi = resolve("pypi", missing)
    testpypi = resolve("testpypi", missing)

    assert (pypi.label, pypi.upload_url, pypi.simple_url) == ("pypi", PYPI_UPLOAD, "https://pypi.org/simple/")
    assert (testpypi.label, testpypi.upload_url, testpypi.simple_url) == (
        "testpypi",
        TESTPYPI_UPLOAD,
        "https://test.pypi.org/simple/",
    )
    assert (pypi.username, pypi.password, pypi.credential_source) == (None, None, None)
    assert not pypi.has_credentials


def test_a_pypitest_section_serves_testpypi(tmp_path: Path) -> None:
    pypirc = write_pypirc(
        tmp_path / ".pypirc",
        "[distutils]\nindex-servers =\n    pypitest\n\n[pypitest]\nusername = tester\npassword = pt-secret\n",
    )

    repo = resolve("testpypi", pypirc)

    assert repo.upload_url == TESTPYPI_UPLOAD
    assert repo.simple_url == "https://test.pypi.org/simple/"
    assert (repo.username, repo.password, repo.credential_source) == ("tester", "pt-secret", ".pypirc")


def test_a_pypirc_section_names_its_repository(tmp_path: Path) -> None:
    pypirc = write_pypirc(
        tmp_path / ".pypirc",
        f"[distutils]\nindex-servers =\n    corp\n\n[corp]\nrepository = {CORP_URL}\n"
        "username = builder\npassword = corp-secret\n",
    )

    repo = resolve("corp", pypirc)

    assert repo.label == "corp"
    assert repo.upload_url == CORP_URL
    assert repo.simple_url == "https://pkgs.example.invalid/upload/simple/"
    assert (repo.username, repo.password, repo.credential_source) == ("builder", "corp-secret", ".pypirc")


def test_a_url_is_its_own_repository(tmp_path: Path) -> None:
    repo = resolve("https://pkgs.example.invalid/legacy/", tmp_path / ".pypirc")

    assert repo.label == "https://pkgs.example.invalid/legacy/"
    assert repo.upload_url == "https://pkgs.example.invalid/legacy/"
    assert repo.simple_url == "https://pkgs.example.invalid/simple/"


def test_a_url_picks_up_the_credentials_of_the_section_that_names_it(tmp_path: Path) -> None:
    pypirc = write_pypirc(
        tmp_path / ".pypirc", f"[corp]\nrepository = {CORP_URL}\nusername = builder\npassword = corp-secret\n"
    )

    repo = resolve(CORP_URL, pypirc)

    assert (repo.username, repo.password, repo.credential_source) == ("builder", "corp-secret", ".pypirc")


def test_an_unknown_name_is_refused_listing_the_known_ones(tmp_path: Path) -> None:
    pypirc = write_pypirc(
        tmp_path / ".pypirc",
        f"[distutils]\nindex-servers =\n    corp\n\n[corp]\nrepository = {CORP_URL}\n",
    )

    with pytest.raises(ConfigError) as caught:
        resolve("crop", pypirc)

    assert caught.value.message == "unknown repository 'crop'"
    assert caught.value.hint == "use a URL or one of: corp, pypi, testpypi"


def test_a_section_without_a_repository_url_is_refused(tmp_path: Path) -> None:
    pypirc = write_pypirc(tmp_path / ".pypirc", "[corp]\nusername = builder\n")

    with pytest.raises(ConfigError) as caught:
        resolve("corp", pypirc)

    assert caught.value.message == "[corp] in .pypirc has no repository URL"


def test_a_url_that_is_not_http_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve("ftp://pkgs.example.invalid/", tmp_path / ".pypirc")

    assert "is not http(s)" in str(caught.value)


def test_twine_repository_variables_are_ignored(tmp_path: Path) -> None:
    environ = {"TWINE_REPOSITORY_URL": "https://evil.example.invalid/legacy/", "TWINE_REPOSITORY": "evil"}

    repo = resolve("pypi", tmp_path / ".pypirc", environ)

    assert repo.upload_url == PYPI_UPLOAD
    assert repo.simple_url == "https://pypi.org/simple/"


# resolve_repository: whose credentials go there


def test_credentials_precedence_environment_then_pypirc_then_keyring(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password(CORP_URL, "builder", "keyring-secret")
    with_password = f"[corp]\nrepository = {CORP_URL}\nusername = builder\npassword = pypirc-secret\n"
    pypirc = write_pypirc(tmp_path / ".pypirc", with_password)
    environ = {"TWINE_USERNAME": "ci", "TWINE_PASSWORD": "env-secret"}

    from_env = resolve("corp", pypirc, environ)
    from_pypirc = resolve("corp", pypirc)
    write_pypirc(pypirc, f"[corp]\nrepository = {CORP_URL}\nusername = builder\n")
    from_keyring = resolve("corp", pypirc)

    assert (from_env.username, from_env.password, from_env.credential_source) == (
        "ci",
        "env-secret",
        "environment",
    )
    assert (from_pypirc.username, from_pypirc.password, from_pypirc.credential_source) == (
        "builder",
        "pypirc-secret",
        ".pypirc",
    )
    assert (from_keyring.username, from_keyring.password, from_keyring.credential_source) == (
        "builder",
        "keyring-secret",
        "keyring",
    )


def test_keyring_supplies_the_username_when_nothing_else_does(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.search = True
    memory_keyring.set_password(CORP_URL, "kr-user", "keyring-secret")

    repo = resolve(CORP_URL, tmp_path / ".pypirc")

    assert (repo.username, repo.password, repo.credential_source) == ("kr-user", "keyring-secret", "keyring")


def test_a_token_stored_as_the_readme_says_is_found_in_any_keyring(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    token = "pypi-" + secrets.token_urlsafe(32)
    memory_keyring.set_password(PYPI_UPLOAD, "__token__", token)  # keyring set <upload-url> __token__

    repo = resolve("pypi", tmp_path / ".pypirc")

    assert (repo.username, repo.password, repo.credential_source) == ("__token__", token, "keyring")


def test_the_null_keyring_gives_no_credentials(tmp_path: Path) -> None:
    # isolated_env selects keyring.backends.null: nothing is looked up in a real keyring.
    repo = resolve(CORP_URL, tmp_path / ".pypirc")

    assert (repo.username, repo.password, repo.credential_source) == (None, None, None)


def test_a_password_without_a_username_is_a_token(tmp_path: Path) -> None:
    token = "pypi-" + secrets.token_urlsafe(32)
    pypirc = write_pypirc(tmp_path / ".pypirc", f"[corp]\nrepository = {CORP_URL}\npassword = {token}\n")

    from_env = resolve("pypi", tmp_path / "absent", {"TWINE_PASSWORD": token})
    from_pypirc = resolve("corp", pypirc)

    assert (from_env.username, from_env.password, from_env.credential_source) == (
        "__token__",
        token,
        "environment",
    )
    assert (from_pypirc.username, from_pypirc.password, from_pypirc.credential_source) == (
        "__token__",
        token,
        ".pypirc",
    )


def test_credentials_never_travel_over_plain_http_to_another_host(tmp_path: Path) -> None:
    password = secrets.token_urlsafe(16)
    environ = {"TWINE_USERNAME": "ci", "TWINE_PASSWORD": password}

    for url in ("http://pkgs.example.invalid/legacy/", "http://localhost.example.invalid/"):
        with pytest.raises(CredentialsError) as caught:
            resolve(url, tmp_path / ".pypirc", environ)
        message = "".join(traceback.format_exception(caught.value))
        assert f"refusing to send credentials to {url} over plain http" in message
        assert_no_secret(message, password)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/", "http://localhost:8080/", "http://[::1]:8080/", CORP_URL]
)
def test_credentials_may_travel_over_https_or_to_loopback(tmp_path: Path, url: str) -> None:
    repo = resolve(url, tmp_path / ".pypirc", {"TWINE_USERNAME": "ci", "TWINE_PASSWORD": "pw-secret"})

    assert (repo.upload_url, repo.username, repo.password) == (url, "ci", "pw-secret")


def test_plain_http_without_credentials_is_allowed(tmp_path: Path) -> None:
    repo = resolve("http://pkgs.example.invalid/", tmp_path / ".pypirc")

    assert repo.simple_url == "http://pkgs.example.invalid/simple/"
    assert not repo.has_credentials


# simple_url_for


def test_simple_url_for_pypi_and_testpypi() -> None:
    assert simple_url_for(PYPI_UPLOAD, {}, "pypi") == "https://pypi.org/simple/"
    assert simple_url_for(TESTPYPI_UPLOAD, {}, "anything") == "https://test.pypi.org/simple/"


@pytest.mark.parametrize(
    ("upload_url", "simple"),
    [
        ("http://host:8080/", "http://host:8080/simple/"),
        ("http://host:8080", "http://host:8080/simple/"),
        ("https://pkgs.example.invalid/legacy/", "https://pkgs.example.invalid/simple/"),
    ],
)
def test_simple_url_for_another_server(upload_url: str, simple: str) -> None:
    assert simple_url_for(upload_url, {}, "corp") == simple


def test_simple_url_for_overrides_by_label_and_by_url() -> None:
    mirror = "https://mirror.example.invalid/corp/simple"

    assert simple_url_for(CORP_URL, {"corp": mirror}, "corp") == mirror + "/"
    assert simple_url_for(CORP_URL, {CORP_URL: mirror + "/"}, "other") == mirror + "/"
    assert simple_url_for(PYPI_UPLOAD, {"pypi": mirror}, "pypi") == mirror + "/"
    assert simple_url_for(CORP_URL, {"unrelated": mirror}, "corp") == CORP_URL + "simple/"


def test_resolve_repository_applies_simple_overrides(tmp_path: Path) -> None:
    repo = resolve("testpypi", tmp_path / ".pypirc", testpypi="https://mirror.example.invalid/simple")

    assert repo.upload_url == TESTPYPI_UPLOAD
    assert repo.simple_url == "https://mirror.example.invalid/simple/"


# .pypirc hygiene


def test_pypirc_warnings_for_a_readable_file_with_a_password(tmp_path: Path) -> None:
    pypirc = write_pypirc(tmp_path / ".pypirc", "[pypi]\nusername = u\npassword = pw-secret\n", 0o644)

    warnings_ = pypirc_warnings(pypirc)

    assert len(warnings_) == 1
    assert "chmod 600" in warnings_[0]
    assert "pw-secret" not in warnings_[0]


def test_pypirc_warnings_none_when_private_or_without_password(tmp_path: Path) -> None:
    private = write_pypirc(tmp_path / "private", "[pypi]\nusername = u\npassword = pw-secret\n", 0o600)
    no_password = write_pypirc(tmp_path / "no-password", "[pypi]\nusername = __token__\n", 0o644)

    assert pypirc_warnings(private) == []
    assert pypirc_warnings(no_password) == []
    assert pypirc_warnings(tmp_path / "missing") == []


@pytest.mark.parametrize(
    "text",
    [
        "password = {password}\n[pypi]\n",  # no section header before the first option
        "[pypi]\nusername = u\npassword = {password}\nthis line is not an option\n",
    ],
)
def test_a_broken_pypirc_is_reported_without_its_text(tmp_path: Path, text: str) -> None:
    password = "fake-" + secrets.token_urlsafe(12)
    pypirc = write_pypirc(tmp_path / ".pypirc", text.format(password=password))

    with pytest.raises(ConfigError) as caught:
        resolve("pypi", pypirc)

    message = str(caught.value)
    assert message.startswith(".pypirc cannot be parsed")  # a line number may follow: it is no secret
    assert message.endswith("(details hidden: the file holds credentials); fix its INI syntax")
    assert password not in str(caught.value)
    assert_no_secret(str(caught.value), password)
    with pytest.raises(ConfigError):
        pypirc_warnings(pypirc)


def test_a_broken_pypirc_leaves_no_text_in_the_traceback(tmp_path: Path) -> None:
    password = "fake-" + secrets.token_urlsafe(12)
    pypirc = write_pypirc(tmp_path / ".pypirc", f"password = {password}\n[pypi]\n")

    with pytest.raises(ConfigError) as caught:
        resolve("pypi", pypirc)

    assert_no_secret(redact.scrub("".join(traceback.format_exception(caught.value))), password)


# list_files and download against a real local index


def _local_repo(index_pair: IndexPair, tmp_path: Path) -> Repository:
    return resolve(index_pair.test.index.url, tmp_path / ".pypirc")


def _uploaded(index_pair: IndexPair, tmp_path: Path) -> tuple[str, Path]:
    index = index_pair.test.index
    name = f"rk-indexes-{secrets.token_hex(4)}"
    wheel = make_wheel(tmp_path, name)
    result = twine_upload(index, wheel, password=index.password)
    assert result.returncode == 0, result.stdout + result.stderr
    return name, wheel


def test_list_files_gives_each_file_with_its_sha256(index_pair: IndexPair, tmp_path: Path) -> None:
    name, wheel = _uploaded(index_pair, tmp_path)
    repo = _local_repo(index_pair, tmp_path)

    files = list_files(repo, name, timeout=10)

    assert list(files) == [wheel.name]
    entry = files[wheel.name]
    assert entry.filename == wheel.name
    assert entry.sha256 == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert entry.url.startswith(index_pair.test.index.url)
    assert "#" not in entry.url
    # The listing is looked up by canonical name, whatever spelling the caller uses.
    assert list_files(repo, name.upper().replace("-", "_"), timeout=10) == files


def test_download_fetches_the_listed_bytes(index_pair: IndexPair, tmp_path: Path) -> None:
    name, wheel = _uploaded(index_pair, tmp_path)
    entry = list_files(_local_repo(index_pair, tmp_path), name, timeout=10)[wheel.name]
    dest = tmp_path / "downloads"
    dest.mkdir()

    path = download(entry, dest, timeout=10)

    assert path == dest / wheel.name
    assert path.read_bytes() == wheel.read_bytes()
    assert sorted(p.name for p in dest.iterdir()) == [wheel.name]


def test_download_refuses_bytes_with_another_sha256(index_pair: IndexPair, tmp_path: Path) -> None:
    name, wheel = _uploaded(index_pair, tmp_path)
    entry = list_files(_local_repo(index_pair, tmp_path), name, timeout=10)[wheel.name]
    wrong = IndexFile(entry.filename, hashlib.sha256(b"other bytes").hexdigest(), entry.url)
    dest = tmp_path / "downloads"
    dest.mkdir()

    with pytest.raises(PackageIndexError) as caught:
        download(wrong, dest, timeout=10)

    assert str(caught.value) == f"{wheel.name} downloaded with a different sha256 than the index lists"
    assert list(dest.iterdir()) == []  # neither the file nor a .part is left behind


def test_list_files_of_an_unknown_project_is_empty(index_pair: IndexPair, tmp_path: Path) -> None:
    repo = _local_repo(index_pair, tmp_path)

    assert list_files(repo, f"rk-never-uploaded-{secrets.token_hex(4)}", timeout=10) == {}


def test_an_unreachable_index_is_a_package_index_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The socket is closed: nothing listens on the port now.
    repo = resolve(f"http://127.0.0.1:{port}/", tmp_path / ".pypirc")

    with pytest.raises(PackageIndexError) as caught:
        list_files(repo, "anything", timeout=5)

    assert f"index at http://127.0.0.1:{port}/simple/ is unreachable" in str(caught.value)


# Each credential only to its own index (issue 11, case 1)


def test_environment_credentials_go_to_the_live_index_only(tmp_path: Path) -> None:
    pypirc = write_pypirc(
        tmp_path / ".pypirc",
        f"[testpypi]\nrepository = {CORP_URL}\nusername = tester\npassword = test-secret\n",
    )
    environ = {"TWINE_USERNAME": "ci", "TWINE_PASSWORD": "live-secret"}

    live = resolve_repository("pypi", simple_overrides={}, pypirc=pypirc, environ=environ, role="live")
    test = resolve_repository("testpypi", simple_overrides={}, pypirc=pypirc, environ=environ, role="test")

    assert (live.username, live.password, live.credential_source) == ("ci", "live-secret", "environment")
    assert (test.username, test.password, test.credential_source) == ("tester", "test-secret", ".pypirc")


def test_the_test_index_has_variables_of_its_own(tmp_path: Path) -> None:
    environ = {
        "TWINE_PASSWORD": "live-secret",
        "RELEASEKIT_TEST_USERNAME": "tester",
        "RELEASEKIT_TEST_PASSWORD": "test-secret",
    }

    test = resolve_repository(
        "testpypi", simple_overrides={}, pypirc=tmp_path / "none", environ=environ, role="test"
    )
    live = resolve_repository("pypi", simple_overrides={}, pypirc=tmp_path / "none", environ=environ)

    assert (test.username, test.password, test.credential_source) == ("tester", "test-secret", "environment")
    assert (live.username, live.password) == ("__token__", "live-secret")  # role="live" is the default


def test_without_its_own_credentials_the_test_index_gets_none(tmp_path: Path) -> None:
    environ = {"TWINE_USERNAME": "ci", "TWINE_PASSWORD": "live-secret"}

    test = resolve_repository(
        "testpypi", simple_overrides={}, pypirc=tmp_path / "none", environ=environ, role="test"
    )

    assert (test.password, test.credential_source) == (None, None)


@pytest.mark.parametrize(
    ("target", "role", "issuer", "expected"),
    [
        ("testpypi", "test", "pypi.org", "test.pypi.org"),
        ("pypi", "live", "test.pypi.org", "pypi.org"),
    ],
)
def test_a_pypi_token_never_goes_to_the_other_pypi(
    tmp_path: Path, target: str, role: str, issuer: str, expected: str
) -> None:
    token = macaroon_v2(issuer.encode())
    pypirc = write_pypirc(tmp_path / ".pypirc", f"[{target}]\nusername = __token__\npassword = {token}\n")

    with pytest.raises(CredentialsError) as caught:
        resolve_repository(target, simple_overrides={}, pypirc=pypirc, environ={}, role=role)  # type: ignore[arg-type]

    message = "".join(traceback.format_exception(caught.value))
    assert f"the token for {target} (from .pypirc) was issued by {issuer}, not {expected}" in str(
        caught.value
    )
    assert f"create a token on {expected}" in str(caught.value)
    assert_no_secret(redact.scrub(message), token)
    assert token not in str(caught.value)


def test_a_pypi_token_for_its_own_index_or_a_private_one_is_kept(tmp_path: Path) -> None:
    live_token, test_token = macaroon_v2(b"pypi.org"), macaroon_v2(b"test.pypi.org")
    pypirc = write_pypirc(
        tmp_path / ".pypirc",
        f"[pypi]\npassword = {live_token}\n[testpypi]\npassword = {test_token}\n"
        f"[corp]\nrepository = {CORP_URL}\npassword = {live_token}\n",
    )

    assert resolve("pypi", pypirc).password == live_token
    assert resolve_repository(
        "testpypi", simple_overrides={}, pypirc=pypirc, environ={}, role="test"
    ).password == (test_token)
    assert resolve("corp", pypirc).password == live_token  # not a PyPI host: the issuer is not checked


# Credentials in a repository URL (issue 11, case 2)


def test_credentials_in_a_url_are_taken_out_and_used(tmp_path: Path) -> None:
    password = "s3cret-" + secrets.token_urlsafe(8)

    repo = resolve(
        f"http://user:{password}@127.0.0.1:8080/", tmp_path / ".pypirc", {"TWINE_PASSWORD": "other"}
    )

    assert (repo.label, repo.upload_url, repo.simple_url) == (
        "http://127.0.0.1:8080/",
        "http://127.0.0.1:8080/",
        "http://127.0.0.1:8080/simple/",
    )
    assert (repo.username, repo.password, repo.credential_source) == ("user", password, "repository URL")
    assert password not in repr(repo)
    assert redact.scrub(f"nonnumeric port: '{password}'") == "nonnumeric port: '********'"


def test_a_token_in_a_pypirc_repository_url_is_taken_out(tmp_path: Path) -> None:
    token = "pypi-" + secrets.token_urlsafe(32)
    pypirc = write_pypirc(
        tmp_path / ".pypirc", f"[corp]\nrepository = https://__token__:{token}@pkgs.example.invalid/legacy/\n"
    )

    repo = resolve("corp", pypirc)

    assert (repo.upload_url, repo.username, repo.password) == (
        "https://pkgs.example.invalid/legacy/",
        "__token__",
        token,
    )


def test_a_url_that_breaks_on_its_password_is_refused_without_it(tmp_path: Path) -> None:
    password = "pa/ss" + secrets.token_urlsafe(8)  # a raw "/" ends the host part early

    with pytest.raises(ConfigError) as caught:
        resolve(f"http://user:{password}@127.0.0.1:8080/", tmp_path / ".pypirc")

    text = "".join(traceback.format_exception(caught.value))
    assert str(caught.value).startswith("a repository URL has an invalid host or port (not shown")
    assert password.split("/")[1] not in text and password not in text


def test_a_password_in_the_test_repository_url_uploads_and_never_shows(
    make_project: Callable[..., Project], index_pair: IndexPair, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project()
    test = index_pair.test.index
    url = test.url.replace("http://", f"http://{test.username}:{test.password}@")

    result = run_cli(project.path, capsys, "release", "--test", "--test-repository", url, "--debug", "--json")

    assert result.code == 0, result.err
    assert "credentials from repository URL" in result.err
    assert_no_secret(result.text, test.password)
    assert [d["index"] for d in result.summary()["destinations"]] == [test.url]


# The same index spelt twice (issue 11, case 9)


@pytest.mark.parametrize("spelling", ["{url}", "{bare}", "{localhost}", "{upper}"])
def test_the_same_index_spelt_another_way_is_refused(
    make_project: Callable[..., Project],
    index_pair: IndexPair,
    isolated_env: Path,
    capsys: pytest.CaptureFixture[str],
    spelling: str,
) -> None:
    project = make_project()
    write_pair_pypirc(isolated_env, index_pair)
    url = index_pair.test.index.url
    port = url.rstrip("/").rsplit(":", 1)[1]
    live = spelling.format(
        url=url, bare=url.rstrip("/"), localhost=f"http://localhost:{port}/", upper=f"HTTP://LOCALHOST:{port}"
    )

    result = run_cli(
        project.path, capsys, "release", "--yes", "--test-repository", url.rstrip("/"), "--repository", live
    )

    assert result.code == 1
    assert "the test and live repositories are the same" in result.err.strip().splitlines()[-1]
    assert project.git("tag") == ""


# Which rule found the simple index, and whether it answers before the first upload (issue 14)


def test_a_pypiserver_root_says_its_rule(index_pair: IndexPair, tmp_path: Path) -> None:
    repo = _local_repo(index_pair, tmp_path)

    assert (repo.simple_url, repo.simple_rule) == (
        index_pair.test.index.simple_url,
        "pypiserver (/ -> /simple/)",
    )
    assert resolve("pypi", tmp_path / ".pypirc").simple_rule == "PyPI"
    override = resolve("testpypi", tmp_path / ".pypirc", testpypi="https://mirror.example.invalid/simple")
    assert override.simple_rule == "simple-index setting"


def test_check_readable_accepts_a_new_project_on_a_live_index(index_pair: IndexPair, tmp_path: Path) -> None:
    repo = _local_repo(index_pair, tmp_path)

    check_readable(repo, f"rk-never-uploaded-{secrets.token_hex(4)}", timeout=10)  # its page 404s: fine
    name, _ = _uploaded(index_pair, tmp_path)
    check_readable(repo, name, timeout=10)


def test_check_readable_refuses_a_simple_index_that_does_not_answer(
    index_pair: IndexPair, tmp_path: Path
) -> None:
    wrong = index_pair.test.index.url + "nowhere/simple/"
    repo = resolve(index_pair.test.index.url, tmp_path / ".pypirc", **{index_pair.test.index.url: wrong})

    with pytest.raises(PackageIndexError) as caught:
        check_readable(repo, "anything", timeout=10)

    assert str(caught.value) == (
        f"{repo.label} simple index does not answer at {wrong} (404); "
        f"set simple-index for {repo.label} in [tool.releasekit] to where it serves its simple pages"
    )


def test_check_readable_refuses_an_unreachable_simple_index(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    repo = resolve("testpypi", tmp_path / ".pypirc", testpypi=f"http://127.0.0.1:{port}/simple/")

    with pytest.raises(PackageIndexError) as caught:
        check_readable(repo, "anything", timeout=5)

    message = str(caught.value)
    assert message.startswith(f"testpypi index at http://127.0.0.1:{port}/simple/ is unreachable (")
    assert "simple-index for testpypi" in message and "\n" not in message


class _RecordingHandler(faultproxy._Handler):
    """Records the Authorization header of every upload the test index receives."""

    def do_POST(self) -> None:
        self.server.proxy.authorizations.append(self.headers.get("Authorization", ""))  # type: ignore[attr-defined]
        super().do_POST()


def test_the_live_password_from_the_environment_never_reaches_the_test_index(
    make_project: Callable[..., Project],
    index_pair: IndexPair,
    isolated_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = make_project()
    test, live = index_pair.test.index, index_pair.live.index
    with faultproxy.FaultProxy(test.url) as proxy:
        proxy.authorizations = []  # type: ignore[attr-defined]
        proxy._server.RequestHandlerClass = _RecordingHandler
        (isolated_env / ".pypirc").write_text(
            f"[testpypi]\nrepository = {proxy.url}\nusername = {test.username}\npassword = {test.password}\n"
            f"[pypi]\nrepository = {live.url}\n",
            encoding="utf-8",
        )
        (isolated_env / ".pypirc").chmod(0o600)
        monkeypatch.setenv("TWINE_USERNAME", live.username)
        monkeypatch.setenv("TWINE_PASSWORD", live.password)

        result = run_cli(project.path, capsys, "release", "--yes", "--json")

        assert result.code == 0, result.err
        seen = list(proxy.authorizations)  # type: ignore[attr-defined]
    assert result.summary()["complete"] and result.summary()["pushed"]
    expected = "Basic " + base64.b64encode(f"{test.username}:{test.password}".encode()).decode()
    assert seen and set(seen) == {expected}  # every upload to the test index carried its own password
    assert_no_secret("\n".join(seen), live.password)
    assert_no_secret(result.text, test.password, live.password)
