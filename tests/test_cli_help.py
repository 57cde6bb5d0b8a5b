"""`releasekit --help` and `releasekit TASK --help`: a release tool's help, for every task.

The global flags are releasekit's own; every task's help shows each of its flags with its help
text; a task's positional never takes --help or -h for a value.
"""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path

import pytest
from invoke.parser.context import ParserContext

from releasekit.tasks import ns
from tests.support.cli import BIN, run_cli, run_installed

TASKS = ["release", "scaffold", "pypirc", "status"]
GLOBAL_FLAGS = {"--help", "--version", "--debug", "--list", "--print-completion-script", "--complete"}
INVOKE_ONLY = [
    "--prompt-for-sudo-password", "--pty", "--hide", "--echo", "--dry", "--warn-only",
    "--command-timeout", "--write-pyc", "--search-root", "--collection", "--config", "--list-format",
    "--list-depth", "--no-dedupe",
]  # fmt: skip


def _contexts() -> dict[str, ParserContext]:
    """The parser's view of each task, from a copy (invoke consumes `task.help` making it)."""
    return {str(context.name): context for context in copy.deepcopy(ns).to_contexts()}


def _section(text: str, title: str) -> str:
    """The lines under `title:`, up to the next blank line."""
    return text.split(f"\n{title}:\n\n", 1)[1].split("\n\n", 1)[0]


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_the_tasks_and_releasekits_own_flags(tmp_path: Path, capsys, flag: str) -> None:
    result = run_cli(tmp_path, capsys, flag)
    assert result.code == 0, result.text
    assert result.out.startswith("Usage: releasekit [--debug] TASK [--flags]\n")
    listed = [line.split()[0] for line in _section(result.out, "Tasks").splitlines() if line[2] != " "]
    assert listed == TASKS  # release first, as a release tool reads
    for name in TASKS:
        first_line = (ns[name].__doc__ or "").strip().splitlines()[0]
        assert re.sub(r"\s+", "", first_line) in re.sub(r"\s+", "", result.out)
    options = _section(result.out, "Options")
    assert set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", options)) - {"--help"} == GLOBAL_FLAGS - {"--help"}
    for invoke_flag in INVOKE_ONLY:
        assert invoke_flag not in result.out


@pytest.mark.parametrize("invoke_flag", ["--pty", "--echo", "--dry", "--hide=both", "--config=x.yaml"])
def test_invokes_shell_command_flags_are_not_releasekits(tmp_path: Path, capsys, invoke_flag) -> None:
    result = run_cli(tmp_path, capsys, invoke_flag, "status")
    assert result.code == 1
    assert "No idea what" in result.err


def test_version(tmp_path: Path, capsys) -> None:
    from releasekit import __version__

    for flag in ("--version", "-V"):
        result = run_cli(tmp_path, capsys, flag)
        assert (result.code, result.out) == (0, f"releasekit {__version__}\n")


@pytest.mark.parametrize("name", TASKS)
@pytest.mark.parametrize("form", ["TASK --help", "TASK -h", "--help TASK", "-h TASK"])
def test_every_task_has_help_with_every_flag_explained(tmp_path: Path, capsys, name: str, form: str) -> None:
    result = run_cli(tmp_path, capsys, *form.replace("TASK", name).split())
    assert result.code == 0, result.text
    assert result.out.startswith(f"Usage: releasekit {name} [--flags]")
    context = _contexts()[name]
    flat = re.sub(r"\s+", "", result.out)
    for arg in context.args.values():
        assert f"--{max(arg.names, key=len)}" in result.out
        assert arg.help, f"{name} --{arg.name} has no help text"
        assert re.sub(r"\s+", "", arg.help) in flat
    assert list(tmp_path.iterdir()) == [tmp_path / "home"]  # nothing was run, nothing written


def test_a_positional_never_takes_help_for_a_value(tmp_path: Path, capsys) -> None:
    """`releasekit scaffold --help` shows help; it used to scaffold (refuse) a package named "--help"."""
    positional = {name for name, c in _contexts().items() if c.positional_args}
    assert "scaffold" in positional
    for argv in (
        ["scaffold", "--help"],
        ["scaffold", "-h"],
        ["scaffold", "--dest", "out", "--help"],
        ["scaffold", "--no-git", "-h"],
        ["scaffold", "--help", "status"],
    ):
        result = run_cli(tmp_path, capsys, *argv)
        assert result.code == 0, (argv, result.text)
        assert result.out.startswith("Usage: releasekit scaffold [--flags] NAME\n"), argv
        assert "error" not in result.err
    assert list(tmp_path.iterdir()) == [tmp_path / "home"]


def test_no_task_takes_h_for_a_flag_of_its_own() -> None:
    """invoke gives each flag its first free letter; -h must stay the help of every task."""
    for name, context in _contexts().items():
        assert "-h" not in context.flags, name
        assert "--help" not in context.flags, name


def test_help_for_an_unknown_task_is_an_error(tmp_path: Path, capsys) -> None:
    result = run_cli(tmp_path, capsys, "--help", "publish")
    assert result.code == 1
    assert result.err.strip() == (
        "error: there is no task 'publish'; the tasks are release, scaffold, pypirc, status"
    )


def test_the_global_debug_flag_is_the_tasks_debug(tmp_path: Path, capsys) -> None:
    """`releasekit --debug TASK` shows the traceback of an error as `TASK --debug` does."""
    plain = run_cli(tmp_path, capsys, "status")
    assert plain.code == 1 and "not inside a git work tree" in plain.err
    assert "Traceback" not in plain.err
    for argv in (["--debug", "status"], ["status", "--debug"]):
        debug = run_cli(tmp_path, capsys, *argv)
        assert debug.code == 1
        assert "Traceback (most recent call last)" in debug.err, argv
        assert debug.err.strip().splitlines()[-1] == plain.err.strip().splitlines()[-1]


def test_shell_completion(tmp_path: Path, capsys) -> None:
    script = run_cli(tmp_path, capsys, "--print-completion-script", "bash")
    assert script.code == 0 and "_complete_releasekit" in script.out
    tasks = run_cli(tmp_path, capsys, "--complete", "--", "releasekit", "sc")
    assert set(tasks.out.split()) == set(TASKS)
    flags = run_cli(tmp_path, capsys, "--complete", "--", "releasekit", "scaffold", "--d")
    assert {"--dest", "--description", "--dry-run", "--debug"} <= set(flags.out.split())
    core = run_cli(tmp_path, capsys, "--complete", "--", "releasekit", "--")
    assert set(core.out.split()) == GLOBAL_FLAGS


def test_list(tmp_path: Path, capsys) -> None:
    result = run_cli(tmp_path, capsys, "--list")
    assert result.code == 0
    assert [line.split()[0] for line in result.out.splitlines()[2:] if line[:3].strip()] == TASKS


def test_installed_command_as_typed(tmp_path: Path) -> None:
    for argv in (["scaffold", "--help"], ["-h"], ["pypirc", "-h"]):
        proc = run_installed(tmp_path, "releasekit", *argv)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("Usage: releasekit"), argv
        assert proc.stderr == ""


def test_help_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    """`releasekit --help | head -1`: the reader leaves early; no BrokenPipeError traceback."""
    with subprocess.Popen(
        [str(BIN / "releasekit"), "--help"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    ) as proc:  # fmt: skip
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # before the program has written anything
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 1
    assert err == ""


def test_invoke_face_points_a_swallowed_help_to_the_task_help(tmp_path: Path) -> None:
    """Under plain `invoke` the parser is invoke's own: the task says where the help is."""
    (tmp_path / "tasks.py").write_text("from releasekit.tasks import ns\n", encoding="utf-8")
    proc = run_installed(tmp_path, "invoke", "scaffold", "--help")
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "error: --help came where the package name goes; for help: invoke --help scaffold"
    )
    proc = run_installed(tmp_path, "invoke", "--help", "scaffold")
    assert proc.returncode == 0 and "--dest" in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "tasks.py"]
