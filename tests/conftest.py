"""Shared fixtures for real end-to-end tests: real git, real twine, real local indexes.

Nothing is mocked. Every test gets its own HOME, git identity and keyring-free environment, so
a developer's ~/.pypirc, credentials or git config can neither leak in nor be touched.
"""

from __future__ import annotations

import os
import secrets
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import _sandbox
import pytest

from releasekit.testing.localindex import LocalIndexServer
from tests.support.indexes import UPLOADER, IndexPair
from tests.support.projects import Project

SAMPLE_TEMPLATE = _sandbox.SAMPLE
_CLEARED_ENV = (
    "TWINE_USERNAME",
    "TWINE_PASSWORD",
    "TWINE_REPOSITORY",
    "TWINE_REPOSITORY_URL",
    "PYTHON_KEYRING_BACKEND",
    "RELEASEKIT_TEST_USERNAME",
    "RELEASEKIT_TEST_PASSWORD",
)


_SLOW_FIXTURES = frozenset({"make_project", "index_pair", "fresh_index_pair", "build_dists_project"})


def pytest_configure(config: pytest.Config) -> None:
    """Let the releases the tests start see Ctrl-C, however the suite itself was started.

    A shell without job control starts a background command with SIGINT ignored, and an ignored
    signal stays ignored across exec: every release would then shrug off the interrupt tests'
    SIGINT (and the SIGINT rows of the kill matrix would test no signal at all). A handler, unlike
    SIG_IGN, is reset to the default at exec.
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """End-to-end tests (a real project, real indexes) are `slow`: the fast lane leaves them out."""
    for item in items:
        if _SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture
def make_project(tmp_path: Path, isolated_env: Path) -> Callable[..., Project]:
    """A factory of sample projects, each committed on main and pushed to its own bare remote."""

    def factory(name: str | None = None, version: str = "1.4.2") -> Project:
        name = name or f"rk-sample-{secrets.token_hex(4)}"
        copy = name if not (tmp_path / "work" / name).exists() else f"{name}-copy-{secrets.token_hex(2)}"
        path = tmp_path / "work" / copy
        _sandbox.render_sample(path, name, version, SAMPLE_TEMPLATE)
        remote = tmp_path / "remotes" / f"{copy}.git"
        remote.parent.mkdir(parents=True, exist_ok=True)
        _sandbox.init_with_remote(path, remote, dict(os.environ))
        return Project(path=path, name=name, import_name=name.replace("-", "_"), remote=remote)

    return factory
