"""Build-backend processes started ahead of the build (releasekit.dists.standby, _standby_worker).

Real builds of the sample project with setuptools, compared with the ordinary way member by
member; the worker script is also run directly against small stand-ins for pyproject_hooks'
in-process script, to show it declines whatever a cold hook would do differently.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tarfile
import textwrap
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from releasekit.dists import standby
from releasekit.dists.builder import build_dists
from releasekit.dists.standby import WORKER, Standby
from tests.support.indexes import IndexPair
from tests.support.projects import PROJECTS, Project, use_build_backend


def _members(outdir: Path) -> dict[str, dict[str, str]]:
    """Every member of every artifact, by content hash (archives carry build times)."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted(outdir.iterdir()):
        if path.suffix == ".whl":
            with zipfile.ZipFile(path) as zf:
                found[path.name] = {n: hashlib.sha256(zf.read(n)).hexdigest() for n in zf.namelist()}
        else:
            with tarfile.open(path) as tf:
                found[path.name] = {
                    m.name: hashlib.sha256(tf.extractfile(m).read()).hexdigest()  # type: ignore[union-attr]
                    for m in tf.getmembers()
                    if m.isfile()
                }
    return found


def _wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] != "Z"
    except FileNotFoundError:
        return False


pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


def test_both_hooks_run_in_processes_started_ahead_and_make_the_same_files(
    make_project: Callable[..., Project], tmp_path: Path
) -> None:
    project = make_project()
    build_dists(project.path, tmp_path / "cold")  # also makes the cached build environment

    with Standby(project.path) as standby:
        standby.start()
        assert _wait_for(lambda: len(standby.waiting_pids()) == 2)  # one after the other
        warm = build_dists(project.path, tmp_path / "warm", standby=standby)

    assert standby.served == 2
    assert sorted(a.filename for a in warm) == sorted(p.name for p in (tmp_path / "cold").iterdir())
    assert _members(tmp_path / "warm") == _members(tmp_path / "cold")
    assert project.git("status", "--porcelain", "--ignored", "--untracked-files=all") == ""


def test_an_environment_changed_after_the_start_runs_the_hooks_the_ordinary_way(
    make_project: Callable[..., Project], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project()
    build_dists(project.path, tmp_path / "cold")
    with Standby(project.path) as standby:
        standby.start()
        assert _wait_for(lambda: len(standby.waiting_pids()) == 2)
        pids = standby.waiting_pids()
        monkeypatch.setenv("RELEASEKIT_CHANGED_AFTER_THE_START", "1")  # the hook's process has it
        artifacts = build_dists(project.path, tmp_path / "dist", standby=standby)
    assert len(artifacts) == 2
    assert standby.served == 0
    assert _wait_for(lambda: not any(_running(pid) for pid in pids), 5)  # closed: killed


def test_no_cached_environment_no_process_started_ahead(
    make_project: Callable[..., Project], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project()
    monkeypatch.setenv("RELEASEKIT_CACHE_DIR", str(tmp_path / "empty-cache"))
    with Standby(project.path) as standby:
        standby.start()
        time.sleep(0.5)
        assert standby.waiting_pids() == []
    assert not (tmp_path / "empty-cache").exists()  # nothing was made on a guess


def test_an_in_tree_backend_is_only_imported_by_its_hook(
    make_project: Callable[..., Project], tmp_path: Path
) -> None:
    project = make_project()
    use_build_backend(project.path, "failing_backend")  # backend-path: the project's own code
    with Standby(project.path) as standby:
        standby.start()
        time.sleep(0.5)
        assert standby.waiting_pids() == []
        with pytest.raises(Exception, match="the backend broke on purpose"):
            build_dists(project.path, tmp_path / "dist", standby=standby)
    assert standby.served == 0


def test_requirements_installed_by_the_build_drop_the_waiting_processes(
    make_project: Callable[..., Project], tmp_path: Path
) -> None:
    project = make_project()
    build_dists(project.path, tmp_path / "cold")
    cfg = project.path / "setup.cfg"
    cfg.write_text(cfg.read_text("utf-8") + "\n[options]\nsetup_requires = setuptools\n", encoding="utf-8")
    project.git("commit", "-qam", "setup_requires: the hooks may ask for more")
    with Standby(project.path) as standby:
        standby.start()
        assert _wait_for(lambda: len(standby.waiting_pids()) == 2)
        artifacts = build_dists(project.path, tmp_path / "dist", standby=standby)
    assert len(artifacts) == 2
    # get_requires_for_build_sdist ran ahead and answered [setuptools]; what came after it ran
    # in fresh processes, which see the environment as the install left it.
    assert standby.served == 1


def test_processes_never_used_end_with_releasekit_even_when_it_is_killed(
    make_project: Callable[..., Project], tmp_path: Path
) -> None:
    project = make_project()
    build_dists(project.path, tmp_path / "cold")
    script = textwrap.dedent(
        """
        import json, sys, time
        from pathlib import Path
        from releasekit.dists.standby import Standby
        standby = Standby(Path(sys.argv[1]))
        standby.start()
        deadline = time.monotonic() + 20
        while len(standby.waiting_pids()) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        print(json.dumps(standby.waiting_pids()), flush=True)
        time.sleep(60)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, str(project.path)], stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        pids = json.loads(proc.stdout.readline())
        assert len(pids) == 2 and all(_running(pid) for pid in pids)
        proc.send_signal(signal.SIGKILL)
    assert _wait_for(lambda: not any(_running(pid) for pid in pids), 10), "a worker outlived releasekit"


def _fake_in_process(tmp_path: Path, backend_body: str) -> Path:
    """A stand-in for pyproject_hooks' _in_process.py: `_build_backend` and a `main` hook."""
    script = tmp_path / "fake_in_process.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, os, sys, warnings

            def _build_backend():
            {body}

            if __name__ == "__main__":
                out = {{"argv": sys.argv, "cwd": os.getcwd(), "path": sys.path, "stdin": sys.stdin.read()}}
                with open(os.path.join(sys.argv[2], "output.json"), "w") as f:
                    json.dump(out, f)
            """
        ).format(body=textwrap.indent(textwrap.dedent(backend_body), "    ")),
        encoding="utf-8",
    )
    return script


def _start_worker(script: Path, cwd: Path) -> tuple[subprocess.Popen[str], bytes]:
    """The worker as the standby starts it, and what it said on its readiness pipe."""
    ready, signal_fd = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(script), str(signal_fd)],
        cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        pass_fds=(signal_fd,),
    )  # fmt: skip
    os.close(signal_fd)
    said = os.read(ready, 1)
    os.close(ready)
    return proc, said


def test_the_worker_runs_the_hook_script_as_main_in_the_hook_s_folder(tmp_path: Path) -> None:
    script = _fake_in_process(tmp_path, "return None")
    control, source = tmp_path / "control", tmp_path / "source"
    control.mkdir()
    source.mkdir()
    proc, said = _start_worker(script, tmp_path)
    assert said == b"1"
    ran = standby.run_hook(proc, [sys.executable, str(script), "build_sdist", str(control)], str(source))
    assert ran is not None and ran[0] == 0, ran
    out = json.loads((control / "output.json").read_text())
    assert out["argv"] == [str(script), "build_sdist", str(control)]
    assert out["cwd"] == str(source)
    assert out["stdin"] == ""  # the request line is not the hook's input
    assert str(WORKER.parent) not in out["path"]  # releasekit's folder is not the backend's


@pytest.mark.parametrize(
    "body",
    [
        'warnings.warn("deprecated configuration", UserWarning)',  # a cold hook would forward it
        'raise ImportError("no backend here")',  # a cold hook reports it as BackendUnavailable
    ],
)
def test_the_worker_declines_what_a_cold_hook_would_do_differently(tmp_path: Path, body: str) -> None:
    script = _fake_in_process(tmp_path, body)
    control = tmp_path / "control"
    control.mkdir()
    proc, said = _start_worker(script, tmp_path)
    assert said == b""  # declined at once: the standby starts no more of them
    hook = [sys.executable, str(script), "build_sdist", str(control)]
    assert standby.run_hook(proc, hook, str(tmp_path)) is None
    assert not (control / "output.json").exists()


def test_the_worker_refuses_another_script_than_the_one_it_imported(tmp_path: Path) -> None:
    script = _fake_in_process(tmp_path, "return None")
    control = tmp_path / "control"
    control.mkdir()
    proc, _ = _start_worker(script, tmp_path)
    hook = [sys.executable, str(tmp_path / "other.py"), "build_sdist", str(control)]
    assert standby.run_hook(proc, hook, str(tmp_path)) is None
    assert not (control / "output.json").exists()


@pytest.mark.parametrize(
    "layout",
    sorted(
        {
            str(p.parent.relative_to(PROJECTS))
            for name in ("pyproject.toml", "setup.py")
            for p in PROJECTS.rglob(name)
        }
    ),
)
def test_the_predicted_build_requirements_are_build_s_own(layout: str) -> None:
    """The standby guesses the build environment without importing build; for every layout of
    the suite the guess is build's answer (a wrong one would only cost the head start)."""
    import build

    from releasekit.config import read_pyproject
    from releasekit.dists.standby import _build_system

    project = PROJECTS / layout
    predicted = _build_system(read_pyproject(project))
    assert predicted is not None
    assert predicted[0] == build.ProjectBuilder(project).build_system_requires


def _workers_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            ppid = int((entry / "stat").read_text().split(") ")[-1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and any(part.endswith(b"_standby_worker.py") for part in cmdline):
            found.append(int(entry.name))
    return found


def test_a_release_starts_its_processes_without_any_credential_in_their_environment(
    make_project: Callable[..., Project], index_pair: IndexPair, isolated_env: Path, tmp_path: Path
) -> None:
    """The processes start once the plan is made, when every password has been read and
    registered: one copied into an oddly named variable is left out of their environment too."""
    from tests.support.cli import BIN
    from tests.support.indexes import write_pypirc

    project = make_project()
    write_pypirc(isolated_env, index_pair)
    build_dists(project.path, tmp_path / "cold")  # the cached build environment the standby needs
    password = index_pair.live.index.password
    marker = tmp_path / "pause"
    env = {
        **os.environ,
        "CI_COPY_OF_THE_UPLOAD_KEY": password,  # a name no rule recognises; the value is the secret
        "RELEASEKIT_PAUSE_AT": "before:build",
        "RELEASEKIT_PAUSE_FILE": str(marker),
    }
    with subprocess.Popen(
        [str(BIN / "releasekit"), "release", "--bump", "patch", "--yes"], cwd=project.path, env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as proc:  # fmt: skip
        try:
            assert _wait_for(lambda: marker.exists() or proc.poll() is not None, 60)
            assert _wait_for(lambda: bool(_workers_of(proc.pid)), 20), "no process was started ahead"
            for pid in _workers_of(proc.pid):
                environ = Path(f"/proc/{pid}/environ").read_bytes().decode("utf-8", "replace")
                assert password not in environ
                assert "CI_COPY_OF_THE_UPLOAD_KEY" not in environ
                assert "RELEASEKIT_PAUSE" in environ  # the environment is the release's, less secrets
        finally:
            marker.unlink(missing_ok=True)
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert password not in out + err
