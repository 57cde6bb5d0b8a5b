"""The `releasekit` command: the same task collection as an invoke Program of its own."""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from invoke.collection import Collection
from invoke.completion.complete import complete, print_completion_script
from invoke.config import Config
from invoke.exceptions import Exit, ParseError
from invoke.parser.argument import Argument
from invoke.parser.context import ParserContext, to_flag
from invoke.parser.parser import ParseResult
from invoke.program import Program
from invoke.util import yaml  # type: ignore[attr-defined]  # the YAML module invoke loads with

from releasekit import __version__
from releasekit.tasks import ns


def _unreadable(path: object, kind: str, exc: Exception) -> Exit:
    """A config file invoke cannot load, as the one-line error every other bad input gets."""
    mark = getattr(exc, "problem_mark", None)
    line = getattr(exc, "lineno", None) or (mark.line + 1 if mark is not None else None)
    where = f" (line {line})" if line else ""
    why = "is not UTF-8" if isinstance(exc, UnicodeDecodeError) else f"is not valid {kind}{where}"
    return Exit(f"error: config file {path} {why}; fix it or remove it", code=1)


class ReleasekitConfig(Config):
    """Config files named releasekit.yaml and RELEASEKIT_* environment variables.

    invoke lets a parse error of a config file escape as a traceback before any task runs; here
    it becomes invoke's own `Exit`, which Program.run prints as one line with exit code 1.
    """

    prefix = "releasekit"
    env_prefix = "RELEASEKIT"  # type: ignore[assignment]

    def _load_yaml(self, path: Any) -> Any:
        try:
            data = super()._load_yaml(path)
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise _unreadable(path, "YAML", exc) from None
        return _mapping(path, data)

    _load_yml = _load_yaml

    def _load_json(self, path: Any) -> Any:
        try:
            data = super()._load_json(path)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise _unreadable(path, "JSON", exc) from None
        return _mapping(path, data)


def _mapping(path: object, data: Any) -> Any:
    """An empty file is fine; anything but a mapping at the top cannot be merged into a config."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise Exit(f"error: config file {path} must hold a mapping (e.g. releasekit: ...)", code=1)
    return data


# Flags that take a value, as the help shows them (invoke would say STRING).
_METAVARS = {"help": "TASK", "print-completion-script": "SHELL"}
_HELP_TOKENS = ("--help", "-h")


class ReleasekitProgram(Program):
    """The `releasekit` command: the task collection as a program of its own.

    Built the way invoke documents for programs that ship their own binary (a bundled
    namespace, `core_args`, `print_help`). Its global flags are releasekit's: invoke's core
    options for running shell commands (--echo, --dry, --pty, --hide, --warn-only,
    --command-timeout, --prompt-for-sudo-password, --write-pyc) mean nothing to a release,
    since no task runs `c.run`. `--config FILE` is left out too: releasekit's settings have
    one order (pyproject [tool.releasekit], then releasekit.yaml files, then flags), and a
    per-run file, also read from INVOKE_RUNTIME_CONFIG, would be one more place a release's
    settings could hide. `--list` stays (scripts and the benchmarks call it). The invoke steps
    that read the options left out (`parse_core`, `update_config`, `parse_cleanup`) are
    replaced by ones that do not.

    Also reads releasekit.yaml in the current directory (the project), as the README promises:
    invoke loads a project config file only next to a tasks.py it found itself; this program
    brings its own collection, so the project is where the command runs.
    """

    def core_args(self) -> list[Argument]:
        return [
            Argument(
                names=("help", "h"),
                optional=True,
                help="Show this help; with a task (or after one: TASK --help), that task's flags.",
            ),
            Argument(names=("version", "V"), kind=bool, default=False, help="Show the version and exit."),
            # No -d: `release -d` is --dry-run, and one letter meaning two things invites accidents.
            Argument(
                names=("debug",),
                kind=bool,
                default=False,
                help="Show the traceback of an error, for any task (also RELEASEKIT_DEBUG=1).",
            ),
            Argument(names=("list", "l"), kind=bool, default=False, help="List the tasks and exit."),
            Argument(
                names=("print-completion-script",),
                kind=str,
                default="",
                help="Print the tab-completion script for bash, zsh or fish.",
            ),
            Argument(
                names=("complete",),
                kind=bool,
                default=False,
                help="Print completion candidates for the command line after `--` "
                "(what the completion script calls).",
            ),
        ]

    def task_args(self) -> list[Argument]:
        """None: the tasks are the bundled collection, never searched for or chosen (-c, -r)."""
        return []

    def parse_core(self, argv: list[str] | None) -> None:
        """invoke's, minus what releasekit does not offer.

        invoke's --debug turns on its own debug log, which prints argv (an upload URL on the
        command line may hold a password); releasekit's --debug is the tasks' --debug.
        """
        self.normalize_argv(argv)
        self.parse_core_args()
        if self.args.version.value:
            self.print_version()
            raise Exit
        if self.args["print-completion-script"].value:
            print_completion_script(shell=self.args["print-completion-script"].value, names=self.binary_names)
            raise Exit

    def parse_collection(self) -> None:
        super().parse_collection()
        self.config.set_project_location(os.getcwd())
        self.config.load_project()

    def parse_tasks(self) -> None:
        """Parse the tasks; a help flag where a positional goes asks for that task's help.

        invoke's parser gives a task's missing positional the next token, whatever it is, so
        `releasekit scaffold --help` would scaffold a package named "--help". No positional
        ever takes --help or -h: they show the task's help, for every task, present or future.
        """
        try:
            with _help_kept(self.collection):
                super().parse_tasks()
        except ParseError as exc:  # e.g. `TASK --help` with a second positional still missing
            if exc.context is None or not _asks_help(exc.context):
                raise
            self.tasks = ParseResult([exc.context])
        for context in self.tasks:
            if _asks_help(context):
                self.args.help.value = context.name
            if self.args.debug.value and "debug" in context.args:
                context.args.debug.value = True

    def parse_cleanup(self) -> None:
        """--help, --list and --complete, then help when no task was named."""
        wanted = self.args.help.value
        if wanted is True:
            self.print_help()
            raise Exit
        if wanted:
            if wanted not in self.parser.contexts:
                names = ", ".join(self.collection.tasks)
                raise Exit(f"error: there is no task {wanted!r}; the tasks are {names}", code=1)
            self.print_task_help(wanted)
            raise Exit
        if self.args.list.value:
            self.list_tasks()
            raise Exit
        if self.args.complete.value:
            with _help_kept(self.collection):
                parser = self._make_parser()  # a fresh one: parsing changed the first
            complete(
                names=self.binary_names,
                core=self.core,
                initial_context=self.initial_context,
                collection=self.collection,
                parser=parser,
            )
        if not self.tasks:
            self.no_tasks_given()

    def update_config(self, merge: bool = True) -> None:
        """No overrides from invoke's shell-command flags and no runtime config file (see above)."""
        if merge:
            self.config.merge()

    def print_help(self) -> None:
        print(f"Usage: {self.binary} [--debug] TASK [--flags]")
        print(f"       {self.binary} TASK --help")
        print("")
        self.list_tasks()
        print("Options:")
        print("")
        context = self.initial_context  # the flags in core_args' order: help first, --complete last
        flags = [to_flag(a.name or "") for a in self.core_args()]
        self.print_columns([_with_metavar(*context.help_for(flag)) for flag in flags])

    def list_tasks(self) -> None:
        """The tasks in the collection's own order (release first), one line each."""
        print("Tasks:")
        print("")
        self.print_columns([(name, _first_line(task)) for name, task in self.collection.tasks.items()])

    def print_task_help(self, name: str) -> None:
        context = self.parser.contexts[name]
        positionals = "".join(f" {arg.name.upper()}" for arg in context.positional_args)
        print(f"Usage: {self.binary} {name} [--flags]{positionals}")
        print("")
        for line in (inspect.getdoc(self.collection[name]) or "").splitlines():
            print(f"{self.leading_indent}{line}".rstrip())
        print("")
        print("Flags:")
        print("")
        self.print_columns(context.help_tuples())

    def run(self, argv: list[str] | None = None, exit: bool = True) -> None:
        try:
            super().run(argv, exit)
        except BrokenPipeError:
            # The reader went away (`releasekit --help | head -3`): stop quietly, as cat does,
            # and point stdout at /dev/null so the interpreter's final flush cannot fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            if exit:
                sys.exit(1)


@contextlib.contextmanager
def _help_kept(collection: Collection) -> Iterator[None]:
    """invoke's Task.get_arguments pops each flag's help text off `task.help` as it builds a
    parser, so a second run in one process (tests, a benchmark) would list flags without help."""
    kept = {name: dict(task.help) for name, task in collection.tasks.items()}
    try:
        yield
    finally:
        for name, task in collection.tasks.items():
            task.help = kept[name]


def _asks_help(context: ParserContext) -> bool:
    return any(arg.value in _HELP_TOKENS for arg in context.positional_args)


def _first_line(task: object) -> str:
    return (inspect.getdoc(task) or "").partition("\n")[0]


def _with_metavar(spec: str, help_: str | None) -> tuple[str, str | None]:
    for name, metavar in _METAVARS.items():
        if f"--{name}" in spec:
            spec = spec.replace("STRING", metavar)
    return spec, help_


program = ReleasekitProgram(
    namespace=ns, version=__version__, name="releasekit", binary="releasekit", config_class=ReleasekitConfig
)
