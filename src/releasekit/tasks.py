"""Invoke tasks: flags -> Options -> one library call -> report.

Import this collection from a project's tasks.py (`from releasekit.tasks import ns`) or run it
as the `releasekit` command. Heavy libraries (twine, build, GitPython) are imported only when a
task runs, so `invoke --list` stays fast.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from . import redact
from .console import ConsoleReporter
from .errors import Aborted, Interrupted, ReleaseError

if TYPE_CHECKING:
    from .pipeline import Summary
    from .plan import Plan

F = TypeVar("F", bound=Callable[..., Any])


def _funnel(fn: F) -> F:
    """The one place our errors become a one-line message and exit code 1."""

    @functools.wraps(fn)
    def wrapper(c: Context, *args: Any, **kwargs: Any) -> Any:
        debug = bool(kwargs.get("debug") or os.environ.get("RELEASEKIT_DEBUG"))
        previous = signal.signal(signal.SIGTERM, _terminate)
        try:
            return fn(c, *args, **kwargs)
        except ReleaseError as exc:
            if debug:
                print(redact.scrub(traceback.format_exc()), file=sys.stderr)
            code = 130 if isinstance(exc, Interrupted) else 1
            raise Exit(redact.scrub(f"error: {exc}"), code=code) from None
        except KeyboardInterrupt:
            raise Exit("interrupted; re-run the same command to continue", code=130) from None
        finally:
            signal.signal(signal.SIGTERM, previous)

    return wrapper  # type: ignore[return-value]


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM (a CI job cancelled) stops the release like Ctrl-C, through the same rollback."""
    raise KeyboardInterrupt


def _overrides(c: Context) -> dict[str, Any]:
    """[tool.releasekit]-style keys from invoke config (files, RELEASEKIT_* / INVOKE_* env)."""
    section = c.config.get("releasekit", None)
    return dict(section) if section else {}


def _print_plan(reporter: ConsoleReporter, plan: Plan) -> None:
    arrow = f"{plan.current_version} -> {plan.version}" if plan.bump else plan.version
    reporter.note(
        f"releasekit: {plan.name} {arrow} (tag {plan.tag}, branch {plan.branch}, remote {plan.remote})"
    )
    for role, repo, files in (("test", plan.test, plan.test_files), ("live", plan.live, plan.live_files)):
        if role == "live" and plan.test_only:
            continue
        held = ", ".join(sorted(files)) or f"nothing for {plan.version}"
        creds = f"credentials from {repo.credential_source}" if repo.has_credentials else "no credentials"
        reporter.note(f"  {role} index: {repo.label} {repo.upload_url} ({creds}); holds {held}")
    for note in plan.notes:
        reporter.note(f"  note: {note}")
    for warning in plan.warnings:
        reporter.warn(warning)


def _confirm(plan: Plan) -> bool:
    prompt = (
        f"Publish {plan.name} {plan.version} to {plan.live.label} ({plan.live.upload_url}) "
        f"and push {plan.tag} to {plan.remote}? Type the version to confirm: "
    )
    print(redact.scrub(prompt), end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip() == plan.version


@task(
    help={
        "test": "Stop after the test index: build, check, upload to it, install it back. Nothing is pushed.",
        "yes": "Do the live release without asking (needed when there is no terminal).",
        "bump": "Bump the version first: major, minor or patch (1.4.2 -> 2.0.0, 1.5.0, 1.4.3).",
        "new-version": "Release this exact PEP 440 version (e.g. 2.0.0rc1); it is written into the files.",
        "dry-run": "Print the plan and the preflight result; change nothing.",
        "repository": "Live repository: a ~/.pypirc section name or an upload URL (default: pypi).",
        "test-repository": "Test repository: a ~/.pypirc section name or an upload URL (default: testpypi).",
        "json": "Print the final summary as JSON on stdout.",
        "debug": "Show the traceback of an error.",
    }
)
@_funnel
def release(
    c: Context,
    test: bool = False,
    yes: bool = False,
    bump: str | None = None,
    new_version: str | None = None,
    dry_run: bool = False,
    repository: str | None = None,
    test_repository: str | None = None,
    json_: bool = False,
    debug: bool = False,
) -> None:
    """Release the package: test index, verify, live index, verify, push the commit and tag."""
    from .config import load_config
    from .pipeline import execute
    from .plan import Options, make_plan, preflight

    if bump and new_version:
        raise ReleaseError("--bump and --new-version cannot be combined", "choose one")
    project = Path.cwd()
    reporter = ConsoleReporter()
    config = load_config(project, _overrides(c))
    options = Options(
        test_only=test,
        bump=bump,
        new_version=new_version,
        dry_run=dry_run,
        yes=yes,
        can_confirm=sys.stdin.isatty(),
        repository=repository,
        test_repository=test_repository,
    )
    plan = make_plan(project, config, options)
    _print_plan(reporter, plan)
    if dry_run:
        for step in plan.steps:
            reporter.step(step.name, "would" if step.run else "skipped", step.why)
        preflight(plan, options, config)
        reporter.note("dry run: preflight passed; nothing was changed")
        return
    preflight(plan, options, config)
    if plan.needs_confirmation and not yes and not _confirm(plan):
        raise Aborted("not confirmed; nothing was changed")
    summary = execute(plan, config, options, reporter)
    _print_summary(reporter, summary)
    if json_:
        print(redact.scrub(json.dumps(summary.as_dict(), indent=2)))


def _print_summary(reporter: ConsoleReporter, summary: Summary) -> None:
    state = "released" if summary.complete else "published to the test index (nothing pushed)"
    reporter.note(f"{summary.name} {summary.version} {state}")
    for dest in summary.destinations:
        verified = "verified" if dest["verified"] else "not verified"
        reporter.note(f"  {dest['index']}: {dest['simple_url']}{summary.name}/ ({verified})")
        for filename, outcome in dest["files"].items():
            reporter.note(f"    {filename}: {outcome}")
    if summary.pushed:
        reporter.note(f"  git: {summary.tag} pushed to {summary.remote}")


ns = Collection("releasekit")
ns.add_task(release)
