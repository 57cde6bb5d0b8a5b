"""A release against a real devpi-server, configured only by the .pypirc devpi documents.

staging stands in for TestPyPI and prod for PyPI; releasekit must find devpi's ``+simple/``
pages by itself, publish identical bytes to both, verify installs from each and push the tag.
devpi-server is in the ``test`` extra: these tests run wherever the suite runs.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from releasekit import redact
from releasekit.indexes.listing import list_files
from releasekit.indexes.resolve import resolve_repository
from tests.support.cli import run_cli, run_installed
from tests.support.devpi import DEVPI_USER, DevpiServer
from tests.support.leaks import assert_no_secret
from tests.support.projects import Project

pytestmark = pytest.mark.slow  # a real devpi-server


@pytest.fixture(scope="session")
def devpi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevpiServer]:
    server = DevpiServer(tmp_path_factory.mktemp("devpi")).start()
    yield server
    server.close()


def _pypirc(home: Path, server: DevpiServer) -> None:
    path = home / ".pypirc"
    path.touch(mode=0o600)
    path.write_text(server.pypirc(), encoding="utf-8")


def _held(server: DevpiServer, index: str, name: str) -> dict[str, str | None]:
    """What devpi lists for `name` on `index`, read back through its +simple page."""
    repo = resolve_repository(server.index_url(index), simple_overrides={}, environ={})
    assert repo.simple_url == server.simple_url(index)
    files = {f: entry.sha256 for f, entry in list_files(repo, name, timeout=30).items()}
    redact.forget_all()
    return files


def test_the_devpi_upload_url_finds_its_plus_simple_index(devpi: DevpiServer) -> None:
    repo = resolve_repository(devpi.index_url("staging"), simple_overrides={}, environ={})

    assert (repo.simple_url, repo.simple_rule) == (devpi.simple_url("staging"), "devpi (+simple)")


def test_release_to_devpi_staging_then_prod(
    devpi: DevpiServer,
    make_project: Callable[..., Project],
    isolated_env: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = make_project()
    _pypirc(isolated_env, devpi)

    started = time.monotonic()
    result = run_cli(project.path, capsys, "release", "--yes", "--json")
    seconds = time.monotonic() - started

    assert result.code == 0, result.err
    assert_no_secret(result.text, devpi.password)
    summary = result.summary()
    assert summary["complete"] and summary["pushed"]
    staging, prod = summary["destinations"]
    assert staging["verified"] and prod["verified"]
    assert set(staging["files"].values()) == set(prod["files"].values()) == {"uploaded"}
    on_staging, on_prod = _held(devpi, "staging", project.name), _held(devpi, "prod", project.name)
    assert len(on_prod) == 2 and on_prod == on_staging  # identical bytes, by sha256 from +simple
    assert {f["sha256"] for f in summary["files"]} == set(on_prod.values())
    head = project.git("rev-parse", "HEAD")
    assert f"{head}\trefs/tags/v1.4.2^{{}}" in project.git("ls-remote", "--tags", "origin")
    print(
        f"devpi release: {seconds:.1f}s, server start {devpi.startup_seconds:.1f}s, files {sorted(on_prod)}"
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port  # closed on return: nothing listens there


@pytest.mark.parametrize("wrong", ["simple/", "unreachable"])
def test_a_simple_index_that_does_not_answer_stops_before_any_upload(
    devpi: DevpiServer,
    make_project: Callable[..., Project],
    isolated_env: Path,
    wrong: str,
) -> None:
    project = make_project()
    _pypirc(isolated_env, devpi)
    # devpi's pages are at +simple/: simple/ is what a pypiserver-minded setting would say.
    if wrong == "simple/":
        bad = devpi.index_url("staging") + "simple/"
    else:
        bad = f"http://127.0.0.1:{_closed_port()}/{DEVPI_USER}/staging/+simple/"
    pyproject = project.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + f'\n[tool.releasekit.simple-index]\ntestpypi = "{bad}"\n')
    project.git("commit", "-qam", "a simple-index setting that is wrong")

    # As a user types it (this refusal is also what the command prints on its own).
    proc = run_installed(project.path, "releasekit", "release", "--yes")

    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0] == proc.stderr.strip().splitlines()[-1]
    assert bad in errors[0] and "simple-index for testpypi" in errors[0]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert_no_secret(proc.stdout + proc.stderr, devpi.password)
    assert _held(devpi, "staging", project.name) == {} and _held(devpi, "prod", project.name) == {}
    assert project.git("tag") == ""
