"""Build-backend processes started while releasekit plans, so the build does not wait for them.

Every build hook runs in a fresh process (pyproject_hooks' rule, which `build` follows), and a
fresh process spends most of a small package's hook importing the backend: setuptools, 0.14 s
of each 0.16 s hook, twice a build (sdist, then the wheel from it). Once the plan says it will
build, and every credential is known, the release starts those processes (`_standby_worker`): each
imports the backend while the release bumps and tags, and waits for the one hook it will run.

When the hook is asked for, the command `build` wanted to start is handed to a waiting process
instead, if that process is the same as the one the command would have started: the same
Python, the same environment (credentials already left out), pyproject_hooks' own script.
Otherwise, or if no process is waiting, the hook runs the ordinary way. Nothing in the project
is read or run before the hook: an in-tree backend (`backend-path`) is never started ahead, and
a build that installs more requirements into the environment first drops the waiting processes
(they imported what was there before).

Processes that are never used are killed when the release ends; if releasekit is killed, the end
of their stdin ends them.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from releasekit import redact

WORKER = Path(__file__).with_name("_standby_worker.py")


DECLINED = 75  # as in _standby_worker


MARK = "releasekit-hookworker: declined"


AHEAD = 2  # processes waiting at once: a small build's two hooks, no more CPU than that


def _build_system(pyproject: Mapping[str, object]) -> tuple[set[str], str] | None:
    """The build requirements and backend `build` will use, as PEP 517/518 default them.

    Read here rather than through `build` (whose import would delay the start by ~50 ms); a
    wrong guess only costs the head start: the hook's own command is compared before use.
    None for an in-tree backend (`backend-path`), which imports the project's code.
    """
    if "build-system" not in pyproject:
        return {"setuptools >= 40.8.0"}, "setuptools.build_meta:__legacy__"
    system = pyproject["build-system"]
    if not isinstance(system, dict) or system.get("backend-path"):
        return None
    requires = system.get("requires")
    backend = system.get("build-backend", "setuptools.build_meta:__legacy__")
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        return None
    if not isinstance(backend, str):
        return None
    return set(requires), backend


def in_process_script() -> str:
    """The script pyproject_hooks runs each hook with (the path its command line names)."""
    from importlib import resources

    return os.path.abspath(str(resources.files("pyproject_hooks._in_process").joinpath("_in_process.py")))


class Standby:
    """Backend processes for one project's build, `hooks` of them in all, started one at a time.

    One starts when the previous one has imported its backend, so they take the second core in
    turn rather than both at once beside the release's own work; at most AHEAD wait at a time.
    """

    def __init__(self, project: Path) -> None:
        self._project = project
        self._changed = threading.Condition()
        self._waiting: list[subprocess.Popen[str]] = []
        self._python = ""
        self._env: dict[str, str] = {}
        self._script = ""
        self._left = 0
        self._closed = False
        self._thread = threading.Thread(target=self._keep_ready, name="releasekit-standby", daemon=True)
        self.served = 0  # hooks that ran in a process of ours (tests and the benchmark read it)

    def start(self) -> None:
        """Start the processes, once every credential of the release is known (registered with
        redact): their environment is fixed now, and a secret learnt later, copied into some
        oddly named variable, would already be in it. POSIX only (an inherited pipe end)."""
        if os.name == "posix" and not self._closed and not self._thread.is_alive():
            self._thread.start()

    def __enter__(self) -> Standby:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _prepare(self) -> bool:
        """Find the backend and its cached environment; False when either is unsure."""
        try:
            from releasekit.config import read_pyproject
            from releasekit.dists import environments

            predicted = _build_system(read_pyproject(self._project))
            if predicted is None:
                return False
            requires, backend = predicted
            env = environments.cached_env(requires)
            if env is None:
                return False  # the build makes the environment; not started on a guess
            hooks = 2 if environments.no_dynamic_requires(self._project) else 4
            environ = {
                **redact.child_environ(),
                **env.make_extra_environ(),
                "_PYPROJECT_HOOKS_BUILD_BACKEND": str(backend),
            }
            script = in_process_script()
        except Exception:  # noqa: BLE001 - a standby that cannot start is only slower, never wrong
            return False
        with self._changed:
            self._python, self._env, self._script, self._left = env.python_executable, environ, script, hooks
            self._changed.notify_all()
        return True

    def _keep_ready(self) -> None:
        try:
            if not self._prepare():
                return
            while True:
                with self._changed:
                    while not self._closed and not (self._left > 0 and len(self._waiting) < AHEAD):
                        self._changed.wait()
                    if self._closed:
                        return
                    self._left -= 1
                    proc, ready = self._start_one()
                    self._waiting.append(proc)
                try:
                    imported = os.read(ready, 1) == b"1"  # or the end: it declined or was killed
                finally:
                    os.close(ready)
                if not imported:
                    return  # the next one would decline too
        except Exception:  # noqa: BLE001, S110 - no process ahead is only slower; never a traceback
            pass
        finally:
            with self._changed:
                self._left = 0
                self._changed.notify_all()

    def _start_one(self) -> tuple[subprocess.Popen[str], int]:
        """A worker and the read end of the pipe it closes once its backend is imported."""
        ready, signal_fd = os.pipe()
        try:
            proc = subprocess.Popen(
                [self._python, str(WORKER), self._script, str(signal_fd)],
                cwd=self._project,
                env=self._env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                pass_fds=(signal_fd,),
            )
        except BaseException:
            os.close(ready)
            raise
        finally:
            os.close(signal_fd)
        return proc, ready

    def waiting_pids(self) -> list[int]:
        """The processes waiting now (started, maybe still importing), oldest first."""
        with self._changed:
            return [proc.pid for proc in self._waiting]

    def take(self, cmd: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[str] | None:
        """A waiting process that is the one `cmd` with `env` would start, or None.

        One still importing is taken too (it started before a new one would); none is waited for.
        """
        with self._changed:
            if self._closed or not self._waiting or list(cmd[:2]) != [self._python, self._script]:
                return None
            if dict(env) != self._env:
                return None
            self.served += 1
            proc = self._waiting.pop(0)
            self._changed.notify_all()
        return proc

    def run(self, cmd: Sequence[str], cwd: str, env: Mapping[str, str]) -> tuple[int, str, str] | None:
        """The hook `cmd` run by a waiting process: (returncode, stdout, stderr); None when no
        waiting process is the one `cmd` would start, or it declined: run it the ordinary way."""
        waiting = self.take(cmd, env)
        return run_hook(waiting, cmd, cwd) if waiting is not None else None

    def close(self) -> None:
        """No more hooks from waiting processes (the environment is about to change, no build
        is planned, or the release is over); those still waiting are killed."""
        with self._changed:
            self._closed = True
            waiting, self._waiting = self._waiting, []
            self._changed.notify_all()
        for proc in waiting:
            proc.kill()
            proc.communicate()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


def run_hook(proc: subprocess.Popen[str], cmd: Sequence[str], cwd: str) -> tuple[int, str, str] | None:
    """Hand `cmd` to a waiting process: (returncode, stdout, stderr), or None if it declined
    or is gone (killed before it was asked: then the hook runs the ordinary way)."""
    if proc.poll() is not None:
        proc.communicate()
        return None
    out, err = proc.communicate(json.dumps({"cmd": list(cmd), "cwd": cwd}) + "\n")
    if proc.returncode == DECLINED and err.rstrip().endswith(MARK):
        return None
    return proc.returncode, out, err
