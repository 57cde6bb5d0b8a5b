"""The local index behaves like PyPI where a release can go wrong, and the fixtures are sound.

Real pypiserver processes, real twine uploads (credentials through the environment, never argv)
and real git: if these pass, the end-to-end tests stand on solid ground.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import socket
import stat
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from twine.utils import get_config

from releasekit.errors import LocalIndexError
from releasekit.testing.localindex import LocalIndex, LocalIndexServer, serve_local_index
from tests.support.dists import make_wheel, unique_name
from tests.support.indexes import UPLOADER, IndexPair, twine_upload, write_pypirc
from tests.support.leaks import assert_no_secret
from tests.support.projects import Project

# urllib would honour *_proxy variables from the environment; the local index is loopback-only.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def raw_upload(
    index: LocalIndex,
    wheel: Path,
    *,
    auth: tuple[str, str] | None,
    user_agent: str = "releasekit-tests",
) -> tuple[int, str]:
    """POST a file_upload form with urllib (not twine), returning the HTTP status and body."""
    boundary = secrets.token_hex(16)
    fields = [
        (b'name=":action"', b"file_upload"),
        (f'name="content"; filename="{wheel.name}"'.encode(), wheel.read_bytes()),
    ]
    body = (
        b"".join(
            b"--%s\r\nContent-Disposition: form-data; %s\r\n\r\n%s\r\n" % (boundary.encode(), d, v)
            for d, v in fields
        )
        + f"--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(index.url, data=body, method="POST")
    request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    request.add_header("User-Agent", user_agent)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with _OPENER.open(request, timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()


def fetch(url: str) -> bytes:
    """GET without any credentials: downloads from the index must not need them."""
    with _OPENER.open(url, timeout=10) as response:
        body: bytes = response.read()
        return body


def test_upload_with_right_password_is_served_with_sha256(index_pair: IndexPair, tmp_path: Path) -> None:
    index = index_pair.test.index
    name = unique_name()
    wheel = make_wheel(tmp_path, name)

    result = twine_upload(index, wheel, password=index.password)

    assert result.returncode == 0, result.stdout + result.stderr
    assert_no_secret(result.stdout + result.stderr, index.password)
    page = fetch(f"{index.simple_url}{name}/").decode()
    match = re.search(rf'href="([^"]*{re.escape(wheel.name)})#sha256=([0-9a-f]{{64}})"', page)
    assert match, page
    assert match.group(2) == hashlib.sha256(wheel.read_bytes()).hexdigest()
    file_url = urllib.parse.urljoin(f"{index.simple_url}{name}/", match.group(1))
    assert fetch(file_url) == wheel.read_bytes()
    assert (index.packages_dir / wheel.name).read_bytes() == wheel.read_bytes()


def test_wrong_password_is_refused(index_pair: IndexPair, tmp_path: Path) -> None:
    index = index_pair.test.index
    wheel = make_wheel(tmp_path, unique_name())
    wrong = secrets.token_urlsafe(16)

    result = twine_upload(index, wheel, password=wrong)

    assert result.returncode != 0
    assert "403" in result.stdout + result.stderr
    assert_no_secret(result.stdout + result.stderr, wrong, index.password)
    assert not (index.packages_dir / wheel.name).exists()
    assert raw_upload(index, wheel, auth=None)[0] == 401
    assert raw_upload(index, wheel, auth=(UPLOADER, wrong))[0] == 403


def test_duplicate_upload_is_refused(index_pair: IndexPair, tmp_path: Path) -> None:
    index = index_pair.live.index
    wheel = make_wheel(tmp_path, unique_name())
    assert twine_upload(index, wheel, password=index.password).returncode == 0
    stored = (index.packages_dir / wheel.name).read_bytes()

    result = twine_upload(index, wheel, password=index.password)

    assert result.returncode != 0
    assert "HTTPError: 400 Bad Request" in result.stdout + result.stderr
    # pypiserver answers 400 to a "twine" User-Agent (as PyPI does) and 409 to anyone else;
    # the reason phrase stays "Bad Request", only the body says why.
    auth = (UPLOADER, index.password)
    status, body = raw_upload(index, wheel, auth=auth, user_agent="twine/7.0.0")
    assert (status, "already exists" in body) == (400, True)
    assert raw_upload(index, wheel, auth=auth)[0] == 409
    # twine 7 refuses --skip-existing for any index but pypi.org and test.pypi.org, so a
    # re-run against this index must find its files already there by itself.
    skipped = twine_upload(index, wheel, password=index.password, extra=("--skip-existing",))
    assert skipped.returncode != 0
    assert "--skip-existing" in skipped.stdout + skipped.stderr
    assert (index.packages_dir / wheel.name).read_bytes() == stored


def test_stop_and_start_keep_the_url_and_the_files(fresh_index_pair: IndexPair, tmp_path: Path) -> None:
    server = fresh_index_pair.test
    before = server.index
    name = unique_name()
    wheel = make_wheel(tmp_path, name)
    assert twine_upload(before, wheel, password=before.password).returncode == 0

    server.stop()

    assert not server.running
    with pytest.raises(urllib.error.URLError):
        fetch(before.simple_url)
    after = server.start()
    assert after == before
    assert server.running
    assert wheel.name in fetch(f"{after.simple_url}{name}/").decode()


def test_serve_local_index_keeps_the_password_off_disk_and_argv(tmp_path: Path) -> None:
    password = secrets.token_urlsafe(16)
    packages = tmp_path / "packages"

    with serve_local_index(packages, username=UPLOADER, password=password) as index:
        assert index.url.startswith("http://127.0.0.1:")
        assert index.simple_url == f"{index.url}simple/"
        assert fetch(index.simple_url)
        port = urllib.parse.urlsplit(index.url).port
        if Path("/proc").is_dir():
            cmdlines = []
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    cmdlines.append(cmdline.read_bytes().replace(b"\0", b" ").decode())
                except OSError:
                    continue  # the process went away while we looked
            ours = [c for c in cmdlines if "pypiserver" in c and f"--port {port} " in c]
            assert len(ours) == 1
            assert_no_secret(ours[0], password)
            assert "--overwrite" not in ours[0]

    assert list(packages.iterdir()) == []
    with pytest.raises(urllib.error.URLError):
        fetch(index.simple_url)


@pytest.mark.slow
def test_a_taken_port_on_restart_is_a_one_line_local_index_error(tmp_path: Path) -> None:
    server = LocalIndexServer(tmp_path / "packages", username=UPLOADER, password="pw", timeout=10)
    with server:
        index = server.index
        server.stop()
        port = urllib.parse.urlsplit(index.url).port
        assert port is not None
        with socket.socket() as squatter:
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            squatter.bind(("127.0.0.1", port))
            squatter.listen()
            with pytest.raises(LocalIndexError) as caught:
                server.start()
        assert "Address already in use" in str(caught.value)
        assert "\n" not in str(caught.value)
        assert server.start() == index


def test_index_before_start_is_an_error(tmp_path: Path) -> None:
    server = LocalIndexServer(tmp_path, username=UPLOADER, password="pw")
    with pytest.raises(LocalIndexError):
        _ = server.index


def test_make_project_is_clean_and_pushed(make_project: Callable[..., Project]) -> None:
    project = make_project()

    assert project.name.startswith("rk-sample-")
    assert project.git("status", "--porcelain") == ""
    assert project.git("branch", "--show-current") == "main"
    head = project.git("rev-parse", "HEAD")
    assert project.git("ls-remote", "origin", "refs/heads/main").split() == [
        head,
        "refs/heads/main",
    ]
    assert project.git("log", "-1", "--format=%an <%ae> %s") == (
        "Release Tester <tester@example.invalid> Initial commit"
    )
    pyproject = tomllib.loads((project.path / "pyproject.toml").read_text("utf-8"))
    assert pyproject["project"]["name"] == project.name
    assert pyproject["project"]["version"] == "1.4.2"
    init = project.path / "src" / project.import_name / "__init__.py"
    assert '__version__ = "1.4.2"' in init.read_text("utf-8")
    for path in project.path.rglob("*"):
        if path.is_file() and ".git" not in path.relative_to(project.path).parts:
            assert "{{" not in path.read_text("utf-8"), path


def test_make_project_takes_a_name_and_version(make_project: Callable[..., Project]) -> None:
    project = make_project("rk-named-project", version="0.9.0rc1")

    assert project.import_name == "rk_named_project"
    assert project.remote.name == "rk-named-project.git"
    assert "current_version = 0.9.0rc1" in (project.path / "setup.cfg").read_text("utf-8")


def test_write_pypirc_is_private_and_read_by_twine(isolated_env: Path, index_pair: IndexPair) -> None:
    pypirc = write_pypirc(isolated_env, index_pair, live_password="wrong")

    assert stat.S_IMODE(pypirc.stat().st_mode) == 0o600
    config = get_config(str(pypirc))
    assert config["testpypi"]["repository"] == index_pair.test.index.url
    assert config["testpypi"]["username"] == UPLOADER
    assert config["testpypi"]["password"] == index_pair.test.index.password
    assert config["pypi"]["repository"] == index_pair.live.index.url
    assert config["pypi"]["password"] == "wrong"


def test_isolated_env_hides_the_outside_world(isolated_env: Path) -> None:
    assert Path.home() == isolated_env
    assert os.environ["PYTHON_KEYRING_BACKEND"] == "keyring.backends.null.Keyring"
    assert "TWINE_PASSWORD" not in os.environ


def test_assert_no_secret_catches_encoded_forms() -> None:
    secret = "s3cret/+="
    assert_no_secret("nothing to see", secret, "")
    for leaked in (
        secret,
        urllib.parse.quote(secret),
        base64.b64encode(f"{UPLOADER}:{secret}".encode()).decode(),
    ):
        with pytest.raises(pytest.fail.Exception):
            assert_no_secret(f"Authorization: {leaked}", secret)
