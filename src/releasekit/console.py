"""Terminal output for the task layer: one line per step, progress to stderr.

Colour only on a terminal and never with NO_COLOR; every line is scrubbed of secrets. Long
transfers and builds show a live bar (rich, as twine and uv draw theirs) only to a person at
a terminal: never in a CI log, a pipe or a file, nor under TERM=dumb.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TextIO

from releasekit import redact

if TYPE_CHECKING:
    from rich.progress import Progress

    from releasekit.release.execute import Summary
    from releasekit.release.model import Plan
    from releasekit.release.state import ReleaseState

# A release leaves some 50,000 objects alive (GitPython, twine, rich, requests, build); at exit the
# interpreter's final garbage collections walk them all while tearing the modules down, which
# measured 110-150 ms of a 2-second release. Freezing them from an atexit handler (after every
# task has returned) makes exit about 15 ms. Nothing is lost that Python promises: files and
# journals are closed by their own code, weakref finalizers (temporary directories) are called
# at exit explicitly, not by the collector, and __del__ at interpreter exit was never guaranteed.
atexit.register(gc.freeze)

_MARKS = {"done": ("✓", "32"), "skipped": ("·", "2"), "failed": ("✗", "31"), "would": ("→", "36")}


def _colour_enabled(stream: TextIO) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _live_enabled(stream: TextIO) -> bool:
    """A bar redrawn in place is for a person watching a terminal that can move its cursor.

    A CI runner may give its job a pseudo-terminal, but its log keeps every redraw: CI (set by
    GitHub Actions, GitLab, Travis, CircleCI and most others) turns the bars off too.
    """
    in_ci = os.environ.get("CI", "").lower() not in ("", "0", "false")
    return stream.isatty() and os.environ.get("TERM") != "dumb" and not in_ci


def _ignore(nbytes: int) -> None:
    """Bytes moved, with no bar to show them."""


class ConsoleReporter:
    """The Reporter the tasks use: progress and plan to stderr.

    `progress=False` (a task's --json, whose reader is a program) keeps the live bars off.
    """

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False, progress: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.colour = _colour_enabled(self.stream)
        self.quiet = quiet
        self.live = progress and not quiet and _live_enabled(self.stream)
        self._shown: Progress | None = None  # the bar on screen, while one is

    def _paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def _write(self, text: str) -> None:
        if self.quiet:
            return
        line = redact.scrub(text)
        if self._shown is not None:  # above the bar, which rich then redraws below it
            from rich.text import Text

            self._shown.console.print(Text.from_ansi(line), soft_wrap=True)
        else:
            print(line, file=self.stream, flush=True)

    def step(self, name: str, outcome: str, detail: str = "", seconds: float | None = None) -> None:
        mark, code = _MARKS.get(outcome, ("?", "0"))
        timing = f" ({seconds:.1f}s)" if seconds is not None else ""
        label = f"{outcome} {name}" if outcome in ("would", "skipped") else name
        self._write(f"{self._paint(mark, code)} {label:<20} {detail}{timing}".rstrip())

    def note(self, text: str) -> None:
        self._write(text)

    def warn(self, text: str) -> None:
        self._write(self._paint("warning: ", "33") + text)

    def progress(self, what: str, total: int | None = None) -> AbstractContextManager[Callable[[int], None]]:
        """A bar while the work lasts (bytes, rate and time left; or, with no total, the time
        taken), erased when it ends: the step's line with its duration is what stays."""
        if not self.live or self._shown is not None:
            return contextlib.nullcontext(_ignore)
        return self._bar(what, total)

    @contextlib.contextmanager
    def _bar(self, what: str, total: int | None) -> Iterator[Callable[[int], None]]:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.table import Column

        console = Console(file=self.stream, no_color=not self.colour, highlight=False)
        # The numbers keep their room (about 52 columns: a bar of 16, "1.0/2.7 GB", "9.9 MB/s",
        # "0:01:02"); a long file name gives way with an ellipsis on a narrow terminal.
        room = Column(no_wrap=True, overflow="ellipsis", max_width=max(10, console.width - 52))
        described = TextColumn("{task.description}", table_column=room)
        columns = (
            (SpinnerColumn(), described, TimeElapsedColumn())
            if total is None
            else (
                described,
                BarColumn(bar_width=16),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
            )
        )
        # Our own streams stay ours: rich redirecting sys.stdout/err would take in what the
        # library captures (twine's output) and the results on stdout.
        shown = Progress(
            *columns, console=console, transient=True, redirect_stdout=False, redirect_stderr=False
        )
        task = shown.add_task(redact.scrub(what), total=total)
        with shown:
            self._shown = shown
            try:
                yield lambda nbytes: shown.advance(task, nbytes)
            finally:
                self._shown = None


def print_plan(reporter: ConsoleReporter, state: ReleaseState, plan: Plan) -> None:
    arrow = f"{plan.current_version} -> {plan.version}" if plan.bump else plan.version
    reporter.note(
        f"releasekit: {state.name} {arrow} (tag {plan.tag}, branch {plan.branch}, remote {state.remote_name})"
    )
    for target in plan.in_play:
        repo = target.access.repository
        held = ", ".join(sorted(target.holds)) or f"nothing for {plan.version}"
        creds = f"credentials from {repo.credential_source}" if repo.has_credentials else "no credentials"
        reporter.note(f"  {target.role.value} index: {repo.label} {repo.upload_url} ({creds}); holds {held}")
        reporter.note(f"    read back from {repo.simple_url} ({repo.simple_rule})")
    for note in plan.notes:
        if note.startswith("warning: "):
            reporter.warn(note.removeprefix("warning: "))
        else:
            reporter.note(f"  note: {note}")
    if plan.release_notes.text:
        reporter.note(f"  release notes for {plan.version}:")
        for line in plan.release_notes.text.splitlines():
            reporter.note(f"    {line}")
    for warning in state.warnings:
        reporter.warn(warning)


def print_summary(reporter: ConsoleReporter, summary: Summary) -> None:
    if summary.already_released:
        reporter.note(f"{summary.name} {summary.version} is already released; nothing to do")
        return
    state = "released" if summary.complete else "published to the test index (nothing pushed)"
    reporter.note(f"{summary.name} {summary.version} {state}")
    for dest in summary.destinations:
        verified = "verified" if dest.verified else "not verified"
        reporter.note(f"  {dest.index}: {dest.simple_url}{summary.name}/ ({verified})")
        for filename, outcome in dest.files.items():
            reporter.note(f"    {filename}: {outcome}")
    if summary.pushed:
        reporter.note(f"  git: {summary.tag} pushed to {summary.remote}")


def status_lines(report: dict[str, Any]) -> list[str]:
    last = report["last_release"]
    remote = report["remote"]
    lines = [f"{report['name']} {report['version']} on {report['branch'] or 'a detached HEAD'}"]
    lines.append(
        f"  version from {report['version_source']}; tags {report['tag_format']} ({report['tag_style']})"
    )
    lines.append(f"  release notes from {report['changelog']}")
    if last["tag"]:
        lines.append(f"  last release: {last['tag']}, {last['commits_since']} commit(s) since")
    else:
        lines.append("  last release: none tagged yet")
    tree = (
        "clean"
        if report["clean"]
        else f"not clean ({', '.join((report['changed'] + report['untracked'])[:3])})"
    )
    lines.append(f"  work tree: {tree}")
    if remote["reachable"]:
        lines.append(f"  remote {remote['name']}: {remote['ahead']} ahead, {remote['behind']} behind")
    for role, info in report["indexes"].items():
        if not info["reachable"]:
            continue
        held = f"has {report['version']}" if info["has_current"] else f"does not have {report['version']}"
        detail = ""
        if info["has_current"]:
            detail = ", complete" if info["complete"] else ", incomplete"
            if info["identical"] is not None:
                detail += (
                    ", identical to the local artifacts" if info["identical"] else ", OTHER BYTES than local"
                )
        latest = info["latest"] or "none"
        lines.append(f"  {role} index {info['index']}: latest {latest}; {held}{detail}")
    if report["in_progress"]:
        progress = report["in_progress"]
        done = ", ".join(progress["done"]) or "tagged locally"
        lines.append(
            f"  unfinished release of {progress['version']} ({done}); finish it: {progress['finish_with']}"
        )
    if report["release_notes"] is not None:
        lines.append(f"  release notes: {'written' if report['release_notes'] else 'EMPTY (Unreleased)'}")
    lines.append("  next: " + "; ".join(f"{k} -> {v}" for k, v in report["next"].items()))
    lines.extend(f"  unknown: {fact}" for fact in report["unknown"])
    return lines
