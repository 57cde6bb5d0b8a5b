"""`releasekit pypirc`: write and check ~/.pypirc with API tokens, mode 0600, nothing else disturbed.

Real files in the throwaway HOME of the autouse `isolated_env` fixture; the command runs in-process
through the real Program. Keyring tests install an in-memory backend and restore the previous one;
no real keyring and no network are ever touched. Every run of the tool is checked for token leaks.
"""

from __future__ import annotations

import base64
import configparser
import contextlib
import io
import os
import secrets
import stat
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest

from releasekit import redact
from releasekit.errors import CredentialsError
from releasekit.indexes import pypirc
from releasekit.indexes.resolve import resolve_repository
from releasekit.indexes.urls import PYPI_UPLOAD, TESTPYPI_UPLOAD
from tests.support.cli import Result, run_cli

CORP_URL = "https://pypi.corp.example/legacy/"


def fake_token(location: bytes = b"pypi.org") -> str:
    """A token shaped like PyPI's: `pypi-` + base64url of a macaroon naming its location."""
    macaroon = b"\x02\x01" + bytes([len(location)]) + location + b"\x02" + os.urandom(40)
    return "pypi-" + base64.urlsafe_b64encode(macaroon).decode().rstrip("=")


def token_for_pypi() -> str:
    return fake_token(b"pypi.org")


def token_for_testpypi() -> str:
    return fake_token(b"test.pypi.org")


def assert_not_leaked(text: str, *secrets_: str) -> None:
    """No secret in the output: raw, as the Basic auth value twine would send, or URL-quoted."""
    for number, secret in enumerate(secrets_, start=1):
        forms = {
            "raw": secret,
            "basic-auth base64": base64.b64encode(f"__token__:{secret}".encode()).decode(),
            "url-quoted": urllib.parse.quote(secret, safe=""),
        }
        for form, value in forms.items():
            if value in text:
                pytest.fail(f"secret #{number} leaked in {form} form", pytrace=False)


def cli(where: Path, capsys: pytest.CaptureFixture[str], *args: str, secrets_: tuple[str, ...]) -> Result:
    """Run `releasekit pypirc ARGS` in `where` and fail if any of `secrets_` shows in its output."""
    result = run_cli(where, capsys, "pypirc", *args)
    assert_not_leaked(result.text, *secrets_)
    return result


def parse(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    with path.open(encoding="utf-8") as fh:
        parser.read_file(fh)
    return parser


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def servers(parser: configparser.RawConfigParser) -> list[str]:
    return parser.get("distutils", "index-servers").split()


def write_file(path: Path, text: str, file_mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(file_mode)
    return path


def leftovers(directory: Path) -> list[str]:
    """Temporary files of an atomic write that were not cleaned up."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def one_line_error(result: Result) -> str:
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, "expected exactly one line on stderr"
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def home(isolated_env: Path) -> Path:
    return isolated_env


@pytest.fixture
def rc(home: Path) -> Path:
    return home / ".pypirc"


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    """A directory to run the command in that is not a project."""
    path = tmp_path / "elsewhere"
    path.mkdir()
    return path


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    yield
    redact.forget_all()


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives only in this test's memory."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


@contextlib.contextmanager
def _use_keyring(backend: keyring.backend.KeyringBackend) -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring(isolated_env: Path) -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    with _use_keyring(backend):
        yield backend


# --- token_index -------------------------------------------------------------------------------


def test_token_index_tells_pypi_from_testpypi() -> None:
    assert pypirc.token_index(token_for_pypi()) == "pypi"
    assert pypirc.token_index(token_for_testpypi()) == "testpypi"


@pytest.mark.parametrize(
    "token",
    [
        "hunter2",
        "pypi-",
        "pypi-!!!not base64!!!",
        "pypi-" + base64.urlsafe_b64encode(b"\x02\x01\x0bexample.org" + bytes(40)).decode().rstrip("="),
    ],
    ids=["not-a-token", "empty-body", "garbage", "other-location"],
)
def test_token_index_unknown(token: str) -> None:
    assert pypirc.token_index(token) is None


# --- creating ----------------------------------------------------------------------------------


def test_new_pypirc_is_private_and_complete(
    rc: Path, home: Path, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = token_for_pypi()
    monkeypatch.setenv("TWINE_PASSWORD", token)

    result = cli(cwd, capsys, secrets_=(token,))

    assert result.code == 0, result.err
    assert "token stored in" in result.err
    assert mode(rc) == 0o600
    assert rc.is_file() and not rc.is_symlink()
    parser = parse(rc)
    assert servers(parser)[:2] == ["pypi", "testpypi"]
    assert parser.get("pypi", "username") == "__token__"
    assert parser.get("pypi", "password") == token
    assert not parser.has_option("pypi", "repository")  # built-in: twine knows its URL
    assert leftovers(home) == []


def test_freshly_written_file_passes_check(
    cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = token_for_pypi()
    monkeypatch.setenv("TWINE_PASSWORD", token)
    assert cli(cwd, capsys, secrets_=(token,)).code == 0

    checked = cli(cwd, capsys, "--check", secrets_=(token,))

    assert checked.code == 0, "the command's own output fails --check"


@pytest.mark.parametrize("via", ["TWINE_PASSWORD", "stdin"])
def test_token_from_environment_or_stdin(
    via: str, rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = token_for_pypi()
    stdin = io.StringIO(token + "\n" if via == "stdin" else "")
    assert not stdin.isatty()
    monkeypatch.setattr("sys.stdin", stdin)
    if via == "TWINE_PASSWORD":
        monkeypatch.setenv("TWINE_PASSWORD", token)

    result = cli(cwd, capsys, secrets_=(token,))

    assert result.code == 0, result.err
    assert parse(rc).get("pypi", "password") == token
    assert mode(rc) == 0o600


def test_token_typed_on_a_terminal_is_read_without_echo(
    rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = token_for_testpypi()

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    prompts: list[str] = []

    def fake_getpass(prompt: str = "Password: ", stream: object = None) -> str:
        prompts.append(prompt)
        return token + "\n"

    monkeypatch.setattr("sys.stdin", Terminal(""))
    monkeypatch.setattr("getpass.getpass", fake_getpass)
    monkeypatch.setenv("TWINE_PASSWORD", token_for_pypi())  # a terminal wins over the environment

    result = cli(cwd, capsys, "--repository", "testpypi", secrets_=(token,))

    assert result.code == 0, result.err
    assert len(prompts) == 1 and "testpypi" in prompts[0]
    assert parse(rc).get("testpypi", "password") == token


# --- updating ----------------------------------------------------------------------------------

_CUSTOM = (
    "[internal]\n"
    "repository = https://pypi.internal.example/legacy/\n"
    "username = alice\n"
    "password = internal-secret-42\n"
    "; keep this note about [internal]\n"
)


def test_update_keeps_comments_and_other_sections(
    rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new, test = token_for_pypi(), token_for_pypi(), token_for_testpypi()
    testpypi_block = f"[testpypi]\nusername = __token__\npassword = {test}\n"
    original = (
        "# my upload settings -- do not share\n"
        "[distutils]\n"
        "index-servers =\n"
        "    pypi\n"
        "    testpypi\n"
        "    internal\n"
        "\n"
        "[pypi]\n"
        "# rotated every year\n"
        "username = __token__\n"
        f"password = {old}\n"
        "\n" + testpypi_block + "\n" + _CUSTOM
    )
    write_file(rc, original, 0o644)
    monkeypatch.setenv("TWINE_PASSWORD", new)

    result = cli(cwd, capsys, secrets_=(old, new, test, "internal-secret-42"))

    assert result.code == 0, result.err
    text = rc.read_text(encoding="utf-8")
    assert mode(rc) == 0o600
    assert text.startswith("# my upload settings -- do not share\n")
    assert "# rotated every year\n" in text
    assert _CUSTOM in text
    assert testpypi_block in text
    assert old not in text
    parser = parse(rc)
    assert parser.get("pypi", "password") == new
    assert parser.get("pypi", "username") == "__token__"
    assert servers(parser) == ["pypi", "testpypi", "internal"]
    assert pypirc.check(rc) == []

    checked = cli(cwd, capsys, "--check", secrets_=(old, new, test, "internal-secret-42"))
    assert checked.code == 0, checked.err
    assert "looks right" in checked.err
    assert "warning" not in checked.err


def test_update_adds_missing_distutils_and_trailing_newline(
    rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = token_for_pypi()
    write_file(rc, _CUSTOM.rstrip("\n"))  # no [distutils], no final newline
    monkeypatch.setenv("TWINE_PASSWORD", token)

    result = cli(cwd, capsys, secrets_=(token, "internal-secret-42"))

    assert result.code == 0, result.err
    assert rc.read_text(encoding="utf-8").startswith(_CUSTOM)
    parser = parse(rc)
    assert servers(parser) == ["pypi", "testpypi"]
    assert parser.get("pypi", "password") == token
    assert parser.get("internal", "password") == "internal-secret-42"


# --- --repository / --url ---------------------------------------------------------------------


def test_testpypi_section_has_no_repository_line(
    rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = token_for_testpypi()
    monkeypatch.setenv("TWINE_PASSWORD", token)

    result = cli(cwd, capsys, "--repository", "testpypi", secrets_=(token,))

    assert result.code == 0, result.err
    parser = parse(rc)
    assert servers(parser) == ["pypi", "testpypi"]
    assert parser.get("testpypi", "username") == "__token__"
    assert parser.get("testpypi", "password") == token
    assert not parser.has_option("testpypi", "repository")
    assert mode(rc) == 0o600
    repo = resolve_repository("testpypi", simple_overrides={}, environ={})
    assert (repo.upload_url, repo.password, repo.credential_source) == (TESTPYPI_UPLOAD, token, ".pypirc")


def test_custom_repository_with_url(
    rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = secrets.token_urlsafe(24)  # a private index: any password will do
    monkeypatch.setenv("TWINE_PASSWORD", token)

    result = cli(cwd, capsys, "--repository", "corp", "--url", CORP_URL, secrets_=(token,))

    assert result.code == 0, result.err
    parser = parse(rc)
    assert servers(parser) == ["pypi", "testpypi", "corp"]
    assert parser.get("corp", "repository") == CORP_URL
    assert parser.get("corp", "username") == "__token__"
    assert parser.get("corp", "password") == token
    assert mode(rc) == 0o600
    repo = resolve_repository("corp", simple_overrides={}, environ={})
    assert (repo.upload_url, repo.username, repo.password) == (CORP_URL, "__token__", token)


def test_custom_repository_updated_in_place(
    rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    new_url = "https://pypi2.corp.example/legacy/"
    monkeypatch.setenv("TWINE_PASSWORD", first)
    assert cli(cwd, capsys, "--repository", "corp", "--url", CORP_URL, secrets_=(first,)).code == 0
    monkeypatch.setenv("TWINE_PASSWORD", second)

    result = cli(cwd, capsys, "--repository", "corp", "--url", new_url, secrets_=(first, second))

    assert result.code == 0, result.err
    text = rc.read_text(encoding="utf-8")
    assert text.count("[corp]") == 1 and first not in text and CORP_URL not in text
    parser = parse(rc)
    assert servers(parser) == ["pypi", "testpypi", "corp"]
    assert (parser.get("corp", "repository"), parser.get("corp", "password")) == (new_url, second)


def test_loopback_http_url_is_allowed(
    rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = secrets.token_urlsafe(24)
    url = "http://127.0.0.1:8080/legacy/"
    monkeypatch.setenv("TWINE_PASSWORD", token)

    result = cli(cwd, capsys, "--repository", "local", "--url", url, secrets_=(token,))

    assert result.code == 0, result.err
    assert parse(rc).get("local", "repository") == url


def test_custom_repository_without_url_is_refused(
    rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = secrets.token_urlsafe(24)
    monkeypatch.setenv("TWINE_PASSWORD", token)

    result = cli(cwd, capsys, "--repository", "corp", secrets_=(token,))

    assert result.code == 1
    line = one_line_error(result)
    assert "[corp] is not a built-in repository" in line and "--url" in line
    assert not rc.exists()


@pytest.mark.parametrize("url", ["http://pypi.corp.example/", "ftp://pypi.corp.example/legacy/"])
def test_insecure_url_is_refused(
    url: str,
    rc: Path,
    home: Path,
    cwd: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = secrets.token_urlsafe(24)
    monkeypatch.setenv("TWINE_PASSWORD", token)

    result = cli(cwd, capsys, "--repository", "corp", "--url", url, secrets_=(token,))

    assert result.code == 1
    assert "refusing to store credentials" in one_line_error(result)
    assert not rc.exists()
    assert leftovers(home) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1@pypi.corp.example/legacy/",  # userinfo: the host is pypi.corp.example
        "http://localhost.corp.example/legacy/",
        "http://127.0.0.1.nip.io/legacy/",
    ],
    ids=["userinfo", "localhost-prefix", "127-prefix"],
)
def test_plain_http_to_lookalike_loopback_host_is_refused(url: str, rc: Path) -> None:
    with pytest.raises(CredentialsError, match="refusing to store credentials"):
        pypirc.write_token(rc, section="corp", token=secrets.token_urlsafe(24), url=url)
    assert not rc.exists()


# --- refusing tokens ---------------------------------------------------------------------------


def test_password_that_is_not_a_token_is_refused(
    rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = token_for_pypi()
    original = f"[distutils]\nindex-servers =\n    pypi\n\n[pypi]\nusername = __token__\npassword = {old}\n"
    write_file(rc, original)
    monkeypatch.setenv("TWINE_PASSWORD", "hunter2")

    result = cli(cwd, capsys, secrets_=(old, "hunter2"))

    assert result.code == 1
    assert "not a PyPI API token" in one_line_error(result)
    assert rc.read_text(encoding="utf-8") == original
    assert mode(rc) == 0o600


@pytest.mark.parametrize(
    ("section", "issued_by"),
    [("pypi", "testpypi"), ("testpypi", "pypi")],
    ids=["test-for-live", "live-for-test"],
)
def test_token_for_the_other_index_is_refused(
    section: str,
    issued_by: str,
    rc: Path,
    cwd: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = token_for_testpypi() if issued_by == "testpypi" else token_for_pypi()
    monkeypatch.setenv("TWINE_PASSWORD", token)

    result = cli(cwd, capsys, "--repository", section, secrets_=(token,))

    assert result.code == 1
    assert f"issued by {issued_by}, not {section}" in one_line_error(result)
    assert not rc.exists()


def test_empty_token_is_refused(
    rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))

    result = cli(cwd, capsys, secrets_=())

    assert result.code == 1
    assert "the token is empty" in one_line_error(result)
    assert not rc.exists()


def test_token_with_line_break_is_refused(rc: Path) -> None:
    token = "s3cret\n[pypi]\nrepository = https://evil.example/legacy/"
    with pytest.raises(CredentialsError):
        pypirc.write_token(rc, section="corp", token=token, url=CORP_URL)
    assert not rc.exists()


# --- unsafe targets ----------------------------------------------------------------------------


def test_symlinked_pypirc_is_refused(
    rc: Path, tmp_path: Path, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "dotfiles" / "pypirc"
    target.parent.mkdir()
    original = "[distutils]\nindex-servers =\n    pypi\n"
    write_file(target, original, 0o644)
    rc.symlink_to(target)
    token = token_for_pypi()
    stdin = io.StringIO(token + "\n")
    monkeypatch.setattr("sys.stdin", stdin)

    result = cli(cwd, capsys, secrets_=(token,))

    assert result.code == 1
    assert "is a symlink" in one_line_error(result)
    assert stdin.tell() == 0  # refused before asking for the token
    assert rc.is_symlink()
    assert target.read_text(encoding="utf-8") == original
    assert mode(target) == 0o644

    checked = cli(cwd, capsys, "--check", secrets_=(token,))
    assert checked.code == 1
    assert "is a symlink" in checked.err


def test_config_file_inside_a_project_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "proj"
    (project / "conf").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'proj'\nversion = '1.0'\n", encoding="utf-8")
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    token = token_for_pypi()
    stdin = io.StringIO(token + "\n")
    monkeypatch.setattr("sys.stdin", stdin)

    for config_file in ("conf/.pypirc", str(project / ".pypirc")):
        result = cli(project, capsys, "--config-file", config_file, secrets_=(token,))

        assert result.code == 1
        assert "refusing to write credentials inside the project" in one_line_error(result)
        assert sorted(p.relative_to(project) for p in project.rglob("*")) == before
    assert stdin.tell() == 0


def test_config_file_outside_a_project(
    tmp_path: Path, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "secrets" / "deep" / "pypirc"
    token = token_for_pypi()
    monkeypatch.setenv("TWINE_PASSWORD", token)

    result = cli(cwd, capsys, "--config-file", str(target), secrets_=(token,))

    assert result.code == 0, result.err
    assert mode(target) == 0o600
    assert parse(target).get("pypi", "password") == token


def test_config_file_through_symlinked_directory_into_project_is_refused(tmp_path: Path, home: Path) -> None:
    project = tmp_path / "proj"
    (project / "sub").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'proj'\n", encoding="utf-8")
    (home / "link").symlink_to(project / "sub", target_is_directory=True)

    with pytest.raises(CredentialsError, match="inside the project"):
        pypirc.write_token(home / "link" / ".pypirc", section="pypi", token=token_for_pypi())
    assert not (project / "sub" / ".pypirc").exists()


def test_refuse_unsafe_target_library(tmp_path: Path, home: Path) -> None:
    pypirc.refuse_unsafe_target(home / ".pypirc")  # absent, outside a project: fine
    (home / "dir").mkdir()
    with pytest.raises(CredentialsError, match="not a regular file"):
        pypirc.refuse_unsafe_target(home / "dir")
    (home / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(CredentialsError, match="symlink"):
        pypirc.refuse_unsafe_target(home / "dangling")
    (tmp_path / "proj" / "a" / "b").mkdir(parents=True)
    (tmp_path / "proj" / "setup.cfg").write_text("[metadata]\n", encoding="utf-8")
    with pytest.raises(CredentialsError, match="inside the project"):
        pypirc.refuse_unsafe_target(tmp_path / "proj" / "a" / "b" / ".pypirc")


# --- --check -----------------------------------------------------------------------------------


def good_file(pypi: str, test: str) -> str:
    return (
        "[distutils]\n"
        "index-servers =\n"
        "    pypi\n"
        "    testpypi\n"
        "\n"
        f"[pypi]\nusername = __token__\npassword = {pypi}\n"
        "\n"
        f"[testpypi]\nusername = __token__\npassword = {test}\n"
    )


def test_check_good_file(rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    live, test = token_for_pypi(), token_for_testpypi()
    original = write_file(rc, good_file(live, test)).read_text(encoding="utf-8")

    result = cli(cwd, capsys, "--check", secrets_=(live, test))

    assert result.code == 0, result.err
    assert "looks right" in result.err
    assert "warning" not in result.err
    assert rc.read_text(encoding="utf-8") == original


def test_check_group_readable_file(rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    live, test = token_for_pypi(), token_for_testpypi()
    write_file(rc, good_file(live, test), 0o644)

    result = cli(cwd, capsys, "--check", secrets_=(live, test))

    assert result.code == 1
    assert "readable by group or others (mode 644)" in result.err
    assert "chmod 600" in result.err
    assert "1 problem(s)" in result.err
    assert mode(rc) == 0o644  # --check changes nothing


def test_check_password_that_is_not_a_token(rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    test = token_for_testpypi()
    write_file(rc, good_file("hunter2", test))

    result = cli(cwd, capsys, "--check", secrets_=("hunter2", test))

    assert result.code == 1
    assert "[pypi] has a password that is not an API token" in result.err


def test_check_token_with_wrong_username(rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    live, test = token_for_pypi(), token_for_testpypi()
    write_file(rc, good_file(live, test).replace("username = __token__", "username = alice", 1))

    result = cli(cwd, capsys, "--check", secrets_=(live, test))

    assert result.code == 1
    assert "[pypi] uses a token with username 'alice'; it must be __token__" in result.err


def test_check_testpypi_token_in_pypi(rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wrong, test = token_for_testpypi(), token_for_testpypi()
    write_file(rc, good_file(wrong, test))

    result = cli(cwd, capsys, "--check", secrets_=(wrong, test))

    assert result.code == 1
    assert "[pypi] holds a token issued by testpypi, but uploads to pypi" in result.err


def test_check_index_server_without_section(rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    live, test = token_for_pypi(), token_for_testpypi()
    write_file(rc, good_file(live, test).replace("    testpypi\n", "    testpypi\n    ghost\n", 1))

    result = cli(cwd, capsys, "--check", secrets_=(live, test))

    assert result.code == 1
    assert "index-servers lists ghost, but there is no [ghost] section" in result.err


def test_check_missing_testpypi(rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    live = token_for_pypi()
    write_file(
        rc, f"[distutils]\nindex-servers =\n    pypi\n\n[pypi]\nusername = __token__\npassword = {live}\n"
    )

    result = cli(cwd, capsys, "--check", secrets_=(live,))

    assert result.code == 1
    assert "index-servers does not list testpypi" in result.err
    assert "does not list pypi" not in result.err


def test_check_plain_http_password(rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    live, test, corp = token_for_pypi(), token_for_testpypi(), secrets.token_urlsafe(24)
    text = good_file(live, test).replace("    testpypi\n", "    testpypi\n    corp\n", 1)
    write_file(
        rc, text + f"\n[corp]\nrepository = http://pypi.corp.example/\nusername = bob\npassword = {corp}\n"
    )

    result = cli(cwd, capsys, "--check", secrets_=(live, test, corp))

    assert result.code == 1
    assert "[corp] sends its password over plain http" in result.err


def test_check_missing_file(rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = cli(cwd, capsys, "--check", secrets_=())

    assert result.code == 1
    assert "does not exist" in result.err
    assert not rc.exists()


def test_check_library_reports_every_problem(rc: Path) -> None:
    wrong = token_for_testpypi()
    write_file(
        rc,
        "[distutils]\nindex-servers =\n    pypi\n    ghost\n\n"
        f"[pypi]\nusername = __token__\npassword = {wrong}\n\n"
        "[testpypi]\nusername = carol\npassword = hunter2\n",
        0o640,
    )

    problems = pypirc.check(rc)

    assert problems == [
        f".pypirc is readable by group or others (mode 640); run: chmod 600 {rc}",
        "index-servers does not list testpypi",
        "index-servers lists ghost, but there is no [ghost] section",
        "[pypi] holds a token issued by testpypi, but uploads to pypi",
        "[testpypi] has a password that is not an API token; PyPI accepts only tokens",
    ]
    assert not any(wrong in p or "hunter2" in p for p in problems)


def test_check_looks_at_legacy_pypitest_section(rc: Path) -> None:
    live = token_for_pypi()
    write_file(
        rc,
        "[distutils]\nindex-servers =\n    pypi\n    pypitest\n\n"
        f"[pypi]\nusername = __token__\npassword = {live}\n\n"
        "[pypitest]\nusername = carol\npassword = hunter2\n",
    )

    assert pypirc.check(rc) == [
        "[pypitest] has a password that is not an API token; PyPI accepts only tokens"
    ]


# --- --keyring ---------------------------------------------------------------------------------


def test_keyring_stores_token_outside_the_file(
    memory_keyring: MemoryKeyring,
    rc: Path,
    cwd: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, new = token_for_pypi(), token_for_pypi()
    write_file(
        rc, f"[distutils]\nindex-servers =\n    pypi\n\n[pypi]\nusername = __token__\npassword = {old}\n"
    )
    monkeypatch.setenv("TWINE_PASSWORD", new)

    result = cli(cwd, capsys, "--keyring", secrets_=(old, new))

    assert result.code == 0, result.err
    assert "token stored in the system keyring" in result.err
    assert memory_keyring.entries == {(PYPI_UPLOAD, "__token__"): new}
    text = rc.read_text(encoding="utf-8")
    assert old not in text and new not in text
    parser = parse(rc)
    assert parser.get("pypi", "username") == "__token__"
    assert not parser.has_option("pypi", "password")
    assert servers(parser) == ["pypi", "testpypi"]
    assert mode(rc) == 0o600

    monkeypatch.delenv("TWINE_PASSWORD")
    repo = resolve_repository("pypi", simple_overrides={})
    assert (repo.upload_url, repo.username, repo.password) == (PYPI_UPLOAD, "__token__", new)
    assert repo.credential_source == "keyring"


def test_keyring_for_custom_repository(
    memory_keyring: MemoryKeyring,
    rc: Path,
    cwd: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = secrets.token_urlsafe(24)
    monkeypatch.setattr("sys.stdin", io.StringIO(token + "\n"))

    result = cli(cwd, capsys, "--repository", "corp", "--url", CORP_URL, "--keyring", secrets_=(token,))

    assert result.code == 0, result.err
    assert memory_keyring.entries == {(CORP_URL, "__token__"): token}
    assert not parse(rc).has_option("corp", "password")
    repo = resolve_repository("corp", simple_overrides={}, environ={})
    assert (repo.upload_url, repo.password, repo.credential_source) == (CORP_URL, token, "keyring")


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        (keyring.backends.fail.Keyring, "no usable system keyring"),
        # A disabled keyring (the null backend) accepts the write and keeps nothing.
        (keyring.backends.null.Keyring, "the system keyring did not keep the token"),
    ],
)
def test_keyring_that_cannot_keep_the_token_is_refused_and_file_kept(
    backend: type[keyring.backend.KeyringBackend],
    expected: str,
    isolated_env: Path,
    rc: Path,
    cwd: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, new = token_for_pypi(), token_for_pypi()
    original = write_file(rc, good_file(old, token_for_testpypi())).read_text(encoding="utf-8")
    monkeypatch.setenv("TWINE_PASSWORD", new)

    with _use_keyring(backend()):
        result = cli(cwd, capsys, "--keyring", secrets_=(old, new))

    assert result.code == 1
    assert expected in one_line_error(result)
    assert rc.read_text(encoding="utf-8") == original


# --- bad UTF-8 (issue 11, case 7) ---------------------------------------------------------------


def test_writing_to_a_pypirc_that_is_not_utf8_is_one_line_and_changes_nothing(
    rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = b"[pypi]\nusername = __token__\npassword = s3cr\xe9t-latin1\n"
    rc.write_bytes(old)
    rc.chmod(0o600)
    token = token_for_pypi()
    monkeypatch.setenv("TWINE_PASSWORD", token)

    result = cli(cwd, capsys, secrets_=(token, "s3cr"))

    line = one_line_error(result)
    assert ".pypirc is not UTF-8" in line and "nothing was changed" in line and "Traceback" not in result.text
    assert rc.read_bytes() == old
    assert leftovers(rc.parent) == []


def test_checking_a_pypirc_that_is_not_utf8_is_one_line(
    rc: Path, cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc.write_bytes(b"[pypi]\npassword = s3cr\xe9t\n")
    rc.chmod(0o600)

    result = cli(cwd, capsys, "--check", secrets_=("s3cr",))

    assert "cannot be parsed" in one_line_error(result)


def test_write_token_refuses_bad_utf8_without_quoting_it(rc: Path) -> None:
    rc.write_bytes(b"[corp]\npassword = s3cr\xe9t\n")
    with pytest.raises(CredentialsError) as caught:
        pypirc.write_token(rc, section="corp", token="pypi-" + "x" * 60, url=CORP_URL)
    assert "s3cr" not in str(caught.value) and caught.value.__cause__ is None
