"""Run the whole test suite (and ruff) in the project's own environment: `python3 scripts/test.py`.

`--fast` is the edit-test lane: the same checks (ruff, mypy on src and on tests), without the
end-to-end tests marked `slow`.
"""

from __future__ import annotations

import subprocess
import sys

import _bootstrap

_bootstrap.ensure_env()

args = sys.argv[1:]
fast = "--fast" in args
args = [a for a in args if a != "--fast"] + (["-m", "not slow", "-q"] if fast else [])
root = str(_bootstrap.ROOT)
bin_dir = _bootstrap.BIN
steps = [
    [str(bin_dir / "ruff"), "check", root],
    [str(bin_dir / "ruff"), "format", "--check", root],
    [str(bin_dir / "mypy")],  # src/releasekit, strict
    [str(bin_dir / "mypy"), "tests"],  # every test body checked; see [[tool.mypy.overrides]]
    [str(bin_dir / "python"), "-m", "pytest", *args],
]
for command in steps:
    code = subprocess.run(command, cwd=root, check=False).returncode
    if code:
        sys.exit(code)
