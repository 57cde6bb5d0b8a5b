"""Invoke tasks: flags -> Config overrides + Intent -> one library call -> report.

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
from invoke.config import DataProxy
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from releasekit import console, redact
from releasekit.console import ConsoleReporter
from releasekit.errors import Aborted, ConfigError, Interrupted, ReleaseError

if TYPE_CHECKING:
    from releasekit.config import Config
    from releasekit.dists.standby import Standby
    from releasekit.release.model import Intent, Plan
    from releasekit.release.state import ReleaseState

F = TypeVar("F", bound=Callable[..., Any])


def _funnel(fn: F) -> F:
    """The one place our errors become a one-line message and exit code 1.

    Anything else is a bug and keeps its traceback, which passes the secret scrubber first: an
    exception deep in twine or requests may carry a URL with a password in it.
    """

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
        except Exception:  # noqa: BLE001 (a bug: its traceback is shown, but scrubbed of secrets)
            print(redact.scrub(traceback.format_exc()), file=sys.stderr)
            raise Exit(
                "error: releasekit failed unexpectedly (the traceback above); please report it", code=1
            ) from None
        finally:
            signal.signal(signal.SIGTERM, previous)

    return wrapper  # type: ignore[return-value]


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM (a CI job cancelled) stops the release like Ctrl-C, through the same rollback."""
    raise KeyboardInterrupt


def _overrides(c: Context) -> dict[str, Any]:
    """[tool.releasekit]-style keys from invoke config (files, RELEASEKIT_* / INVOKE_* env)."""
    section = c.config.get("releasekit", None)
    if section is not None and not isinstance(section, DataProxy | dict):
        hint = "e.g. releasekit: {timeout: 30}"
        raise ConfigError("'releasekit' in the invoke config is not a mapping", hint)
    return dict(section) if section else {}


def _confirm(state: ReleaseState, plan: Plan) -> bool:
    live = state.live.repository
    prompt = (
        f"Publish {state.name} {plan.version} to {live.label} ({live.upload_url}) "
        f"and push {plan.tag} to {state.remote_name}? Type the version to confirm: "
    )
    print(redact.scrub(prompt), end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip() == plan.version


@task(
    help={
        "test": "Stop after the test index: build, check, upload to it, install it back. Nothing is pushed.",
        "yes": "Do the live release without asking (needed when there is no terminal).",
        "bump": "Bump the version first: major, minor, patch (1.4.2 -> 2.0.0, 1.5.0, 1.4.3), pre or final.",
        "pre": "With --bump: a pre-release kind, a, b or rc (--bump minor --pre rc: 1.4.2 -> 1.5.0rc1).",
        "new-version": "Release this exact PEP 440 version (e.g. 2.0.0rc1); it is written into the files.",
        "dry-run": "Print the plan and the preflight result; change nothing.",
        "repository": "Live repository: a ~/.pypirc section name or an upload URL (default: pypi).",
        "test-repository": "Test repository: a ~/.pypirc section name or an upload URL (default: testpypi).",
        "json": "Print the final summary as JSON on stdout.",
        "allow-empty-changelog": "Release live even though the changelog has no notes for this version.",
        "abort": "Undo a release that has not published anything: its tag, its bump commit, its artifacts.",
        "dist": "Publish the sdist and wheels in this directory (say, from a CI build matrix); no build.",
        "trusted-publishing": "auto (default), always or never: mint upload tokens from CI's OIDC identity.",
        "debug": "Show the traceback of an error.",
    }
)
@_funnel
def release(
    c: Context,
    test: bool = False,
    yes: bool = False,
    bump: str | None = None,
    pre: str | None = None,
    new_version: str | None = None,
    dry_run: bool = False,
    repository: str | None = None,
    test_repository: str | None = None,
    json_: bool = False,
    allow_empty_changelog: bool = False,
    abort: bool = False,
    dist: str | None = None,
    trusted_publishing: str | None = None,
    debug: bool = False,
) -> None:
    """Release the package: test index, verify, live index, verify, push the commit and tag."""
    from releasekit import vcs
    from releasekit.config import load_config
    from releasekit.dists.standby import Standby
    from releasekit.release import journal
    from releasekit.release.execute import execute
    from releasekit.release.recover import recover

    _check_release_flags(bump=bump, pre=pre, new_version=new_version)
    project = Path.cwd()
    reporter = ConsoleReporter(progress=not json_)
    flags = {"repository": repository, "test-repository": test_repository}
    settings = {**flags, "trusted-publishing": trusted_publishing}
    config = load_config(project, {**_overrides(c), **{k: v for k, v in settings.items() if v}})
    command = _command(test=test, yes=yes, bump=bump, pre=pre, new_version=new_version, dist=dist,
                       allow_empty_changelog=allow_empty_changelog, **flags)  # fmt: skip
    git_dir = vcs.git_dir(vcs.open_repo(project), project)
    if abort:
        _abort(project, config, git_dir, reporter)
        return
    intent = _intent(command, test=test, bump=bump, pre=pre, new_version=new_version, dry_run=dry_run,
                     yes=yes, allow_empty_changelog=allow_empty_changelog, dist=dist)  # fmt: skip
    if dry_run:
        state, plan = _planned(project, config, intent, reporter)
        reporter.note("dry run: preflight passed; nothing was changed")
        if json_:
            print(redact.scrub(json.dumps(plan.as_dict(state.name), indent=2)))
        return
    # Build-backend processes, started once the plan says it builds, import the backend while
    # the release bumps and tags (dists.standby); whatever is left of them goes with the release.
    with journal.release_lock(git_dir, " ".join(["releasekit", *command])), Standby(project) as standby:
        for line in recover(project):
            reporter.step("recover", "done", line)
        state, plan = _planned(project, config, intent, reporter, standby)
        if plan.needs_confirmation and not yes and not _confirm(state, plan):
            raise Aborted("not confirmed; nothing was changed")
        summary = execute(state, plan, config, reporter, command, standby=standby)
    console.print_summary(reporter, summary)
    if json_:
        print(redact.scrub(json.dumps(summary.as_dict(), indent=2)))


def _check_release_flags(*, bump: str | None, pre: str | None, new_version: str | None) -> None:
    for flag, given in (("--bump", bump), ("--pre", pre), ("--new-version", new_version)):
        if given is not None and not given.strip():  # "" would silently release the current version
            raise ReleaseError(f"{flag} was given an empty value", f"pass {flag} VALUE, or leave {flag} out")
    if bump and new_version:
        raise ReleaseError("--bump and --new-version cannot be combined", "choose one")
    if pre and not bump:
        raise ReleaseError("--pre goes with --bump", "e.g. --bump minor --pre rc, or --bump pre --pre b")


def _intent(command: list[str], *, dist: str | None, test: bool, **flags: Any) -> Intent:
    from releasekit.release.model import Intent

    dist_dir = Path(dist).resolve() if dist else None
    can_confirm = sys.stdin.isatty()
    return Intent(test_only=test, can_confirm=can_confirm, command=tuple(command), dist=dist_dir, **flags)


def _abort(project: Path, config: Config, git_dir: Path, reporter: ConsoleReporter) -> None:
    from releasekit.release import journal
    from releasekit.release.abort import abort as abort_release

    with journal.release_lock(git_dir, "releasekit release --abort"):
        undone = abort_release(project, config)
    for line in undone:
        reporter.step("abort", "done", line)


def _planned(
    project: Path, config: Config, intent: Intent, reporter: ConsoleReporter, standby: Standby | None = None
) -> tuple[ReleaseState, Plan]:
    """Observe, plan, make credentials ready, show, refuse: the same for a dry run and a release."""
    from releasekit.release.model import StepName
    from releasekit.release.plan import make_plan
    from releasekit.release.preflight import preflight, prepare_credentials
    from releasekit.release.state import observe

    state = observe(project, config, dist=intent.dist, remote=not intent.test_only)
    plan = make_plan(state, config, intent)
    prepare_credentials(plan)
    if standby is not None and plan.will(StepName.BUILD) and not plan.artifacts.prebuilt:
        standby.start()  # every credential is registered by now (observe, minting)
    console.print_plan(reporter, state, plan)
    if intent.dry_run:
        for step in plan.steps:
            reporter.step(step.name.value, "would" if step.run else "skipped", step.why)
    preflight(state, plan, intent, config)
    return state, plan


def _command(**flags: str | bool | None) -> list[str]:
    """The release command line in canonical form: what the journal keeps to finish it with."""
    out = ["release"]
    for key, value in flags.items():
        option = "--" + key.replace("_", "-")
        if value is True:
            out.append(option)
        elif isinstance(value, str) and value:
            out += [option, value]
    return out


def _program() -> str:
    name = Path(sys.argv[0]).name
    return name if name in ("invoke", "inv") else "releasekit"


def _ask(question: str, default: str | None, flag: str, interactive: bool) -> str:
    """A missing field: asked on a terminal (default shown), else the default, else an error."""
    if interactive:
        shown = f" [{default}]" if default else ""
        print(f"{question}{shown}: ", end="", file=sys.stderr, flush=True)
        answer = sys.stdin.readline().strip()
        if answer or default is not None:
            return answer or (default or "")
    if default is None:
        raise ReleaseError(f"no {question.lower()} given and no terminal to ask on", f"pass {flag}")
    return default


@task(
    positional=["name"],
    help={
        "name": "The project name (PEP 508), e.g. my-pkg; imported as my_pkg.",
        "dest": "Where to create it (default: ./NAME).",
        "description": "One-line summary for PyPI.",
        "author": "Author name (default: git config user.name).",
        "email": "Author email (default: git config user.email).",
        "license": "SPDX id: MIT (default), Apache-2.0, BSD-3-Clause, ISC, MPL-2.0, GPL-3.0-or-later.",
        "python": "requires-python (default: >=3.11).",
        "url": "Repository URL; a GitHub URL adds issue, changelog and download links.",
        "keywords": "Comma-separated keywords.",
        "no-git": "Do not git init and commit.",
        "force": "Add the files to an existing non-empty directory (its other files are kept).",
        "dry-run": "List the files that would be written; write nothing.",
        "binary": "The release workflow builds wheels on Linux, macOS and Windows (cibuildwheel), "
        "for packages with extension modules.",
        "debug": "Show the traceback of an error.",
    },
)
@_funnel
def scaffold(
    c: Context,
    name: str | None = None,
    dest: str | None = None,
    description: str | None = None,
    author: str | None = None,
    email: str | None = None,
    license_: str | None = None,
    python: str | None = None,
    url: str | None = None,
    keywords: str | None = None,
    no_git: bool = False,
    force: bool = False,
    dry_run: bool = False,
    binary: bool = False,
    debug: bool = False,
) -> None:
    """Create a new package that builds, tests and releases with no edits."""
    from releasekit import scaffold as scaffolding
    from releasekit import vcs

    reporter = ConsoleReporter()
    interactive = sys.stdin.isatty()
    if name is None:  # invoke requires the positional, so only a direct call gets here
        raise ReleaseError("no package name given", "releasekit scaffold my-pkg")
    if name in ("--help", "-h"):  # `invoke scaffold --help`: invoke's parser gives it to the positional
        hint = f"for help: {_program()} --help scaffold"
        raise ReleaseError(f"{name} came where the package name goes", hint)
    scaffolding.check_name(name)  # before asking anything else about a name we would refuse
    spec = scaffolding.make_spec(
        name,
        description=description
        if description is not None
        else _ask("Description", f"The {name} package.", "--description", interactive),
        author=author or _ask("Author", vcs.config_value("user.name"), "--author", interactive),
        email=email
        if email is not None
        else _ask("Email", vcs.config_value("user.email") or "", "--email", False),
        license=license_ or "MIT",
        python=python or ">=3.11",
        url=url,
        keywords=keywords or "",
        binary=binary,
    )
    target = Path(dest) if dest else Path.cwd() / name
    if dry_run:
        for relative in scaffolding.render(spec):
            reporter.step(relative, "would", f"write {target.name}/{relative}")
        reporter.note("dry run: nothing was written")
        return
    result = scaffolding.scaffold(spec, target, force=force, git=not no_git)
    reporter.step("scaffold", "done", f"{spec.name} 0.1.0 in {result.dest}: {len(result.written)} files")
    for relative in result.overwritten:
        reporter.warn(f"overwrote {relative} (--force)")
    for relative in result.kept:
        reporter.note(f"  kept your file {relative} (not produced by the templates)")
    if result.commit:
        reporter.note(f"  git: first commit {result.commit[:10]} on main")
    where = os.path.relpath(result.dest) if not os.path.relpath(result.dest).startswith("..") else result.dest
    reporter.note(f"next: cd {where} && invoke release --test   (after `releasekit pypirc`)")


def _read_token(repository: str) -> str:
    """The API token: typed without echo on a terminal, else TWINE_PASSWORD, else one stdin line."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"API token for {repository} (input hidden): ").strip()
    if os.environ.get("TWINE_PASSWORD"):
        return os.environ["TWINE_PASSWORD"].strip()
    return sys.stdin.readline().strip()


@task(
    help={
        "repository": "The section to write: pypi (default), testpypi, or a name of your own with --url.",
        "url": "Upload URL for a section of your own (https, or a loopback address).",
        "check": "Report problems (permissions, missing sections, non-token passwords); change nothing.",
        "keyring": "Store the token in the system keyring instead of the file.",
        "config-file": "The file to write (default: ~/.pypirc); never inside a project.",
        "debug": "Show the traceback of an error.",
    }
)
@_funnel
def pypirc(
    c: Context,
    repository: str = "pypi",
    url: str | None = None,
    check: bool = False,
    keyring: bool = False,
    config_file: str | None = None,
    debug: bool = False,
) -> None:
    """Create or update ~/.pypirc with an API token, mode 0600; or --check it."""
    from releasekit.indexes import pypirc as pypirc_file
    from releasekit.indexes.pypirc import pypirc_path

    reporter = ConsoleReporter()
    path = Path(config_file).expanduser() if config_file else pypirc_path()
    if check:
        problems = pypirc_file.check(path)
        for problem in problems:
            reporter.warn(problem)
        if problems:
            raise ReleaseError(f"{len(problems)} problem(s) in {path.name}", "fix them as listed above")
        reporter.step("pypirc", "done", f"{path} looks right")
        return
    pypirc_file.refuse_unsafe_target(path)
    token = _read_token(repository)
    change = pypirc_file.write_token(path, section=repository, token=token, url=url, use_keyring=keyring)
    where = "the system keyring" if change.stored_in == "keyring" else f"{change.path} (mode 600)"
    reporter.step("pypirc", "done", f"[{change.section}] {change.url}: token stored in {where}")


@task(
    help={
        "json": "Print the whole state as JSON (for scripts).",
        "offline": "Do not contact the remote or the indexes; say what is therefore unknown.",
        "repository": "Live repository, as for release (a ~/.pypirc section name or an upload URL).",
        "test-repository": "Test repository, as for release.",
        "debug": "Show the traceback of an error.",
    }
)
@_funnel
def status(
    c: Context,
    json_: bool = False,
    offline: bool = False,
    repository: str | None = None,
    test_repository: str | None = None,
    debug: bool = False,
) -> None:
    """Where the release stands: version, tags, tree, remote, both indexes, what comes next."""
    from releasekit.config import load_config
    from releasekit.release.status import gather

    project = Path.cwd()
    flags = {"repository": repository, "test-repository": test_repository}
    config = load_config(project, {**_overrides(c), **{k: v for k, v in flags.items() if v}})
    report = gather(project, config, offline=offline)
    if report["in_progress"]:
        report["in_progress"]["finish_with"] = f"{_program()} {report['in_progress']['finish_with']}"
    if json_:
        print(redact.scrub(json.dumps(report, indent=2)))
        return
    for line in console.status_lines(report):
        print(redact.scrub(line))


ns = Collection("releasekit")
ns.add_task(release)
ns.add_task(scaffold)
ns.add_task(pypirc)
ns.add_task(status)
