"""The verify environment template: dependencies installed once, the package never among them.

Real wheels on real local indexes (pypiserver), real uv: the template's dependencies come from
the live index, the package under test from the index being verified.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from releasekit.dists import verify
from releasekit.errors import VerifyError
from releasekit.testing.localindex import LocalIndex
from tests.support.dists import make_wheel
from tests.support.indexes import IndexPair, twine_upload


def publish(index: LocalIndex, directory: Path, name: str, version: str, *requires: str) -> Path:
    wheel = make_wheel(directory, name, version, fields={"Requires-Dist": list(requires)})
    uploaded = twine_upload(index, wheel, password=index.password)
    assert uploaded.returncode == 0, uploaded.stderr
    return index.packages_dir / wheel.name


def check(name: str, pair: IndexPair, dependencies: list[str]) -> verify.Verification:
    return verify.verify_install(
        name=name, version="1.0.0", index_url=pair.test.index.simple_url, dependencies=dependencies,
        dependency_index_url=pair.live.index.simple_url, modules=[name.replace("-", "_")], timeout=120,
    )  # fmt: skip


def template_of(name: str, pair: IndexPair, dependencies: list[str]) -> Path:
    key = verify.template_key(name, dependencies, pair.live.index.simple_url)
    return verify.templates_dir() / key


def test_a_second_verification_reuses_the_dependencies(index_pair: IndexPair, tmp_path: Path) -> None:
    tag = secrets.token_hex(4)
    dep, name = f"rk-dep-{tag}", f"rk-pkg-{tag}"
    dep_file = publish(index_pair.live.index, tmp_path, dep, "2.0.0")
    publish(index_pair.test.index, tmp_path, name, "1.0.0", f"{dep}>=2")

    assert check(name, index_pair, [f"{dep}>=2"]).version == "1.0.0"
    template = template_of(name, index_pair, [f"{dep}>=2"])
    assert verify.installed(template) == {dep}
    ready = next(template.glob("releasekit-*.json")).stat().st_mtime_ns

    dep_file.unlink()  # the live index cannot serve it any more: only the template has it
    assert check(name, index_pair, [f"{dep}>=2"]).version == "1.0.0"
    assert next(template.glob("releasekit-*.json")).stat().st_mtime_ns == ready
    assert not list(verify.templates_dir().glob(".verify-*")), "a verification left its environment"


def test_a_changed_dependency_set_gets_a_new_template(index_pair: IndexPair, tmp_path: Path) -> None:
    tag = secrets.token_hex(4)
    one, two, name = f"rk-one-{tag}", f"rk-two-{tag}", f"rk-pkg-{tag}"
    publish(index_pair.live.index, tmp_path, one, "1.0.0")
    publish(index_pair.live.index, tmp_path, two, "1.0.0")
    publish(index_pair.test.index, tmp_path, name, "1.0.0", one, two)

    check(name, index_pair, [one])
    check(name, index_pair, [one, two])

    first, second = template_of(name, index_pair, [one]), template_of(name, index_pair, [one, two])
    assert first != second
    assert verify.installed(first) == {one}
    assert verify.installed(second) == {one, two}


def test_the_package_is_never_in_its_template(index_pair: IndexPair, tmp_path: Path) -> None:
    tag = secrets.token_hex(4)
    plugin, name = f"rk-plugin-{tag}", f"rk-host-{tag}"
    # The live index has an older release of the package, which a dependency requires back.
    publish(index_pair.live.index, tmp_path, name, "0.9.0")
    publish(index_pair.live.index, tmp_path, plugin, "1.0.0", name)
    publish(index_pair.test.index, tmp_path, name, "1.0.0", plugin)

    assert check(name, index_pair, [plugin]).version == "1.0.0"  # the new one, from the test index
    assert verify.installed(template_of(name, index_pair, [plugin])) == {plugin}


def test_a_background_preparation_is_used_once_and_removed(index_pair: IndexPair, tmp_path: Path) -> None:
    name = f"rk-bg-{secrets.token_hex(4)}"
    publish(index_pair.test.index, tmp_path, name, "1.0.0")
    live = index_pair.live.index.simple_url
    preparation = verify.Preparation(name=name, dependencies=[], dependency_index_url=live, timeout=120)
    result = verify.verify_install(
        name=name, version="1.0.0", index_url=index_pair.test.index.simple_url, dependencies=[],
        dependency_index_url=live, modules=[name.replace("-", "_")], timeout=120, prepared=preparation,
    )  # fmt: skip
    assert result.version == "1.0.0"
    assert not preparation.work.exists()

    discarded = verify.Preparation(name=name, dependencies=[], dependency_index_url=live, timeout=120)
    discarded.discard()  # an upload that failed: its environment goes, no thread stays
    assert not discarded.work.exists()


def test_a_dependency_the_live_index_lacks_fails_the_verification(
    index_pair: IndexPair, tmp_path: Path
) -> None:
    tag = secrets.token_hex(4)
    name, absent = f"rk-lacking-{tag}", f"rk-absent-{tag}"
    publish(index_pair.test.index, tmp_path, name, "1.0.0", absent)
    with pytest.raises(VerifyError, match="installing the dependencies"):
        check(name, index_pair, [absent])
    key = verify.template_key(name, [absent], index_pair.live.index.simple_url)
    assert not list(verify.templates_dir().glob(f"*{key}*")), "a failed template build left files"


def test_an_interrupted_run_leaves_no_environment(tmp_path: Path, index_pair: IndexPair) -> None:
    """Ctrl-C between the upload and the verify step: the process exits, the environment goes."""
    code = (
        "import sys\nfrom releasekit.dists import verify\n"
        "verify.Preparation(name='rk-x', dependencies=[], dependency_index_url=sys.argv[1], timeout=60)\n"
        "raise KeyboardInterrupt\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, index_pair.live.index.simple_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "KeyboardInterrupt" in done.stderr and done.returncode != 0
    assert not list(verify.templates_dir().glob(".verify-*"))


def test_what_a_killed_run_left_is_swept_by_the_next(tmp_path: Path, index_pair: IndexPair) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    root = verify.templates_dir()
    root.mkdir(parents=True, exist_ok=True)
    leftover = root / f".verify-{dead.pid}-killed00"
    (leftover / "env").mkdir(parents=True)
    mine = root / f".verify-{os.getpid()}-running0"  # a live process's: kept
    mine.mkdir()

    verify.Preparation(
        name="rk-y", dependencies=[], dependency_index_url=index_pair.live.index.simple_url, timeout=60
    ).discard()

    assert not leftover.exists() and mine.exists()
    mine.rmdir()


def test_the_installed_version_is_read_from_the_one_installed_metadata(tmp_path: Path) -> None:
    from releasekit.dists.verify import installed_version

    site = tmp_path / "env" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    with pytest.raises(VerifyError, match="left 0 copies of rk-pkg"):
        installed_version(tmp_path / "env", "rk-pkg")
    info = site / "rk_pkg-1.4.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.4\nName: rk-pkg\nVersion: 1.4.3\n\nbody\n")
    assert installed_version(tmp_path / "env", "RK.Pkg") == "1.4.3"
    (site / "rk_pkg-1.4.4.dist-info").mkdir()  # two copies: no answer is guessed
    with pytest.raises(VerifyError, match="left 2 copies"):
        installed_version(tmp_path / "env", "rk-pkg")
