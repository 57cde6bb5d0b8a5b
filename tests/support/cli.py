"""Run `releasekit` as a user would: the Program in-process with an argv, or the installed command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from releasekit import redact
from releasekit.main import program


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def summary(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.out)
        return data


def run_cli(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """Run `releasekit ARGS` in `project`; returns the exit code and both streams."""
    capsys.readouterr()
    cwd = Path.cwd()
    os.chdir(project)
    code = 0
    try:
        program.run(["releasekit", *args], exit=True)
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        os.chdir(cwd)
        redact.forget_all()
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


BIN = Path(sys.executable).parent


def run_installed(
    cwd: Path, command: str, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run an installed command of this environment (releasekit, invoke) as a user types it."""
    return subprocess.run(
        [str(BIN / command), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
