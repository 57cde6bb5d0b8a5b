"""Give the demo and the tests a private virtual environment, on a machine with only Python + git.

Creates `.venv-dev/` at the repository root, installs releasekit (editable) with its test and
local-index extras, and re-runs the calling script inside it. Reinstalls only when
pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-dev"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _stamp() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_env() -> None:
    """Re-exec the running script inside .venv-dev, creating or updating it first."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if sys.version_info < (3, 11):  # noqa: UP036 (this runs before the venv exists)
        sys.exit("releasekit needs Python 3.11 or newer")
    stamp_file = VENV / "releasekit-stamp"
    if not PYTHON.exists():
        print("setting up .venv-dev (first run only) ...", file=sys.stderr, flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if not stamp_file.exists() or stamp_file.read_text() != _stamp():
        pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
        stamp_file.write_text(_stamp())
    script = os.path.abspath(sys.argv[0])
    completed = subprocess.run([str(PYTHON), script, *sys.argv[1:]], check=False)
    sys.exit(completed.returncode)
