"""One build-backend hook, in a process that imported the backend before the hook was asked for.

Run by the build environment's Python as a script (never imported by releasekit, whose packages
that environment does not have): ``python _standby_worker.py IN_PROCESS_SCRIPT READY_FD``, with the backend
named in ``_PYPROJECT_HOOKS_BUILD_BACKEND`` as pyproject_hooks names it. It imports the backend
at once, says so by writing one byte to the pipe whose descriptor is its second argument (a
closed pipe with no byte means it declined), then waits for
one JSON line on stdin, ``{"cmd": [...], "cwd": "..."}``: the command
pyproject_hooks would have started (``python IN_PROCESS_SCRIPT HOOK CONTROL_DIR``), and runs
that script as ``__main__`` in ``cwd``, as the command would have. Importing the backend is most
of a hook's time (setuptools: 0.14 s of 0.16 s), and it no longer waits for the hook.

It stays what a fresh process is: one hook, then exit; no import of the project's code before
the hook (an in-tree ``backend-path`` backend is never started this way); sys.path without this
file's folder. Where the import would not be the same as a cold one (it failed, or it warned:
pyproject_hooks reports a hook's warnings, and these would be lost), it exits 75 at once, and
the caller runs the hook the ordinary way. End of stdin (releasekit exited or was killed) ends it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import runpy
import signal
import sys
import warnings
from typing import NoReturn

DECLINED = 75  # EX_TEMPFAIL: "run it the ordinary way", with MARK as the last line on stderr
MARK = "releasekit-hookworker: declined"


def decline() -> NoReturn:
    print(MARK, file=sys.stderr, flush=True)
    sys.exit(DECLINED)


def main() -> None:
    # A Ctrl-C at the terminal reaches the whole process group; until a hook is asked for, it is
    # releasekit's to handle (it then closes this process), not a traceback of ours.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # This file's folder (sys.path[0] unless -P): the backend must not see releasekit's modules.
    here = os.path.normcase(os.path.realpath(os.path.dirname(__file__)))
    sys.path[:] = [p for p in sys.path if os.path.normcase(os.path.realpath(p)) != here]
    script, ready = sys.argv[1], int(sys.argv[2])
    try:
        # The filters a cold hook has; what it would forward (UserWarning) declines the start.
        with warnings.catch_warnings(record=True) as caught:
            spec = importlib.util.spec_from_file_location("_releasekit_preimport", script)
            if spec is None or spec.loader is None:
                decline()
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            module._build_backend()
    except Exception:  # noqa: BLE001 - any failure: the ordinary hook process reports it
        decline()
    if any(isinstance(w.category, type) and issubclass(w.category, UserWarning) for w in caught):
        decline()
    with contextlib.suppress(OSError):  # nobody listens for it any more; the hook is still wanted
        os.write(ready, b"1")  # imported: the next process may start
    os.close(ready)
    line = sys.stdin.readline()
    if not line:
        return
    request = json.loads(line)
    cmd = request["cmd"]
    if len(cmd) < 2 or cmd[1] != script:
        decline()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # as the ordinary hook process sees it: nothing to read
    os.close(devnull)
    os.chdir(request["cwd"])
    sys.argv = list(cmd[1:])
    signal.signal(signal.SIGINT, signal.default_int_handler)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
