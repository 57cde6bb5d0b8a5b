"""Shared fixtures for real end-to-end tests: real git, real twine, real local indexes.

Nothing is mocked. Every test gets its own HOME, git identity and keyring-free environment, so
a developer's ~/.pypirc, credentials or git config can neither leak in nor be touched.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import subprocess
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from releasekit.localindex import LocalIndexServer

SAMPLE_TEMPLATE = Path(__file__).parent / "projects" / "sample"
UPLOADER = "uploader"
# Tools leave these in the template (its pyproject.toml makes it a ruff root); never copy them.
_CACHE_DIRS = frozenset({"__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache"})
_CLEARED_ENV = (
    "TWINE_USERNAME",
    "TWINE_PASSWORD",
    "TWINE_REPOSITORY",
    "TWINE_REPOSITORY_URL",
    "PYTHON_KEYRING_BACKEND",
)


_SLOW_FIXTURES = frozenset({"make_project", "index_pair", "fresh_index_pair", "build_dists_project"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """End-to-end tests (a real project, real indexes) are `slow`: the fast lane leaves them out."""
    for item in items:
        if _SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@dataclass(frozen=True)
class IndexPair:
    """A test index and a live index, standing in for TestPyPI and PyPI."""

    test: LocalIndexServer
    live: LocalIndexServer


@dataclass(frozen=True)
class Project:
    """A rendered sample project: a git work tree on main, pushed to a bare ``origin``."""

    path: Path
    name: str
    import_name: str
    remote: Path

    def git(self, *args: str) -> str:
        """Run git in the project and return its stripped stdout (fails the test on error)."""
        return _git(self.path, *args)


def _git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60)
    return result.stdout.strip()


# Read before any test redirects HOME.
_UV_CACHE = os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv"))


@pytest.fixture(scope="session")
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of build environments for the session: every release after the first reuses it."""
    return tmp_path_factory.mktemp("releasekit-cache")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, build_cache: Path) -> Path:
    """A private HOME with a known git identity and no credentials from the outside world."""
    home = tmp_path / "home"
    home.mkdir()
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Release Tester\n\temail = tester@example.invalid\n[init]\n\tdefaultBranch = main\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    for name in _CLEARED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("RELEASEKIT_CACHE_DIR", str(build_cache))
    # The user's uv cache (build requirements only; verification never reads it for the package).
    monkeypatch.setenv("UV_CACHE_DIR", _UV_CACHE)
    return home


def _start_pair(root: Path) -> IndexPair:
    servers: list[LocalIndexServer] = []
    try:
        for role in ("test", "live"):
            server = LocalIndexServer(root / role, username=UPLOADER, password=secrets.token_urlsafe(16))
            servers.append(server)
            server.start()
    except BaseException:
        for server in servers:
            server.close()
        raise
    return IndexPair(test=servers[0], live=servers[1])


def _close_pair(pair: IndexPair) -> None:
    pair.test.close()
    pair.live.close()


@pytest.fixture(scope="session")
def index_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexPair]:
    """Two indexes shared by the whole session; tests keep apart by unique project names."""
    pair = _start_pair(tmp_path_factory.mktemp("indexes"))
    yield pair
    _close_pair(pair)


@pytest.fixture
def fresh_index_pair(tmp_path: Path) -> Iterator[IndexPair]:
    """Two indexes of this test's own, for tests that stop and restart a server."""
    pair = _start_pair(tmp_path / "indexes")
    yield pair
    _close_pair(pair)


def write_pypirc(home: Path, pair: IndexPair, *, live_password: str | None = None) -> Path:
    """Write ``home/.pypirc`` naming both indexes, as twine reads it; mode 0600 like a real one.

    ``live_password`` replaces the live index's password, to simulate a wrong one.
    """
    test, live = pair.test.index, pair.live.index
    live_pw = live.password if live_password is None else live_password
    pypirc = home / ".pypirc"
    pypirc.touch(mode=0o600)
    pypirc.chmod(0o600)
    pypirc.write_text(
        "[distutils]\n"
        "index-servers =\n"
        "    testpypi\n"
        "    pypi\n"
        "\n"
        "[testpypi]\n"
        f"repository = {test.url}\n"
        f"username = {test.username}\n"
        f"password = {test.password}\n"
        "\n"
        "[pypi]\n"
        f"repository = {live.url}\n"
        f"username = {live.username}\n"
        f"password = {live_pw}\n",
        encoding="utf-8",
    )
    return pypirc


def _render(text: str, tokens: dict[str, str]) -> str:
    for token, value in tokens.items():
        text = text.replace(token, value)
    return text


@pytest.fixture
def make_project(tmp_path: Path, isolated_env: Path) -> Callable[..., Project]:
    """A factory of sample projects, each committed on main and pushed to its own bare remote."""

    def factory(name: str | None = None, version: str = "1.4.2") -> Project:
        name = name or f"rk-sample-{secrets.token_hex(4)}"
        import_name = name.replace("-", "_")
        tokens = {"{{name}}": name, "{{import_name}}": import_name, "{{version}}": version}
        copy = name if not (tmp_path / "work" / name).exists() else f"{name}-copy-{secrets.token_hex(2)}"
        path = tmp_path / "work" / copy
        for source in sorted(SAMPLE_TEMPLATE.rglob("*")):
            if not source.is_file() or _CACHE_DIRS.intersection(source.parts):
                continue
            relative = _render(source.relative_to(SAMPLE_TEMPLATE).as_posix(), tokens)
            target = path / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_render(source.read_text("utf-8"), tokens), encoding="utf-8")
            shutil.copymode(source, target)
        remote = tmp_path / "remotes" / f"{copy}.git"
        remote.parent.mkdir(parents=True, exist_ok=True)
        _git(remote.parent, "init", "--bare", "-b", "main", remote.name)
        _git(path, "init", "-b", "main")
        _git(path, "add", "--all")
        _git(path, "commit", "-m", "Initial commit")
        _git(path, "remote", "add", "origin", os.fspath(remote))
        _git(path, "push", "-u", "origin", "main")
        return Project(path=path, name=name, import_name=import_name, remote=remote)

    return factory


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
