"""Prove a published version installs: fresh environment, exact pin, one index, then import.

The package under test comes from the index being verified with the cache bypassed, so a
locally cached copy can never stand in for what the index serves. Its dependencies come from
the live index only: a test index is open to anyone, and resolving dependencies there is how
name-squatted packages get installed.

The dependencies are installed once into a template environment, keyed by the interpreter, the
dependency set, the index they came from and the package's name, and rebuilt after a week (as
the build environments are, so unpinned dependencies pick up new releases). Each verification
clones the template into a new directory and installs only name==version, --no-deps, into the
clone. The package itself is never in a template: a dependency that requires it back has it
removed. A `Preparation` makes the clone in a background thread, so the upload step can start
it and the verify step finds the environment ready.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from releasekit import redact
from releasekit.dists.environments import cache_root, made_once
from releasekit.errors import ReleaseError, VerifyError

# The installed version is read from the environment's files (`installed_version`); the fresh
# interpreter only imports, so its time is the package's, not importlib.metadata's (~20 ms).
# Each import on its own; a missing module is reported by name (the caller decides whether only
# an extra brings it), anything else fails the probe as it is.
_PROBE = """import importlib, json, sys
for module in sys.argv[1:]:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        print(json.dumps({"module": module, "missing": (exc.name or "").split(".")[0], "error": str(exc)}))
"""


# Variables that would point uv at another index than the one being verified.
_REDIRECTS = ("UV_INDEX", "UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS")


_READY = "releasekit-template.json"


_LEFTOVER_AGE = 24 * 3600  # a clone or half-made template this old belongs to a killed run


@dataclass(frozen=True)
class Verification:
    index_url: str
    version: str
    modules: tuple[str, ...]
    seconds: float
    optional: tuple[str, ...] = ()  # imports that need an extra's dependency, reported not fatal


def _uv() -> str:
    from uv import find_uv_bin

    return find_uv_bin()


def _python(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class _Children:
    """The one child process a preparation may be waiting on, so a discard can stop it."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.cancelled = False

    def stop(self) -> None:
        self.cancelled = True
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.kill()


def _run(cmd: list[str], what: str, timeout: float, cwd: Path, children: _Children | None = None) -> str:
    # The import runs the package's code and uv fetches from an index: neither gets a credential.
    env = {k: v for k, v in redact.child_environ().items() if k not in _REDIRECTS}
    env["UV_NO_PROGRESS"] = "1"
    if children is not None and children.cancelled:
        raise VerifyError(f"{what} was cancelled")
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    if children is not None:
        children.proc = proc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        proc.communicate()
        raise VerifyError(
            f"{what} timed out after {timeout:.0f}s", "re-run; raise `timeout` if slow"
        ) from exc
    except BaseException:  # Ctrl-C: the child goes too, never left running
        proc.kill()
        proc.communicate()
        raise
    finally:
        if children is not None:
            children.proc = None
    if proc.returncode:
        lines = [ln.strip() for ln in (err or out).splitlines() if ln.strip()]
        detail = redact.scrub(" | ".join(lines[-3:]))[:500]
        raise VerifyError(f"{what} failed: {detail}")
    return out


def templates_dir() -> Path:
    """Where the templates live; each verification's clone is made beside them (same disk)."""
    return cache_root() / "verify-envs"


def template_key(name: str, dependencies: list[str], dependency_index_url: str) -> str:
    """The template's name: the interpreter, the exact dependency set, where they came from."""
    facts = [
        sys.version,
        sys.executable,
        _canonical(name),
        sorted(dependencies),
        redact.scrub(dependency_index_url),
    ]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:20]


def _dist_infos(env_dir: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for info in env_dir.glob("[lL]ib/**/site-packages/*.dist-info"):
        found.setdefault(_canonical(info.name.removesuffix(".dist-info").rsplit("-", 1)[0]), []).append(info)
    return found


def installed(env_dir: Path) -> set[str]:
    """The canonical names of the distributions installed in an environment."""
    return set(_dist_infos(env_dir))


def installed_version(env_dir: Path, name: str) -> str:
    """The Version in the installed METADATA of `name`, as importlib.metadata would read it."""
    import email.parser

    infos = _dist_infos(env_dir).get(_canonical(name), [])
    if len(infos) != 1:
        raise VerifyError(f"the install left {len(infos)} copies of {name} in the environment, not one")
    try:
        with (infos[0] / "METADATA").open(encoding="utf-8", errors="replace") as fh:
            headers = email.parser.Parser().parse(fh, headersonly=True)
    except OSError as exc:
        raise VerifyError(f"cannot read the installed metadata of {name}: {exc.strerror}") from exc
    return str(headers.get("Version", "")).strip()


def _template(
    name: str, dependencies: list[str], dependency_index_url: str, timeout: float, children: _Children
) -> Path:
    """The template with these dependencies (and never `name`), made now if missing or stale."""
    target = templates_dir() / template_key(name, dependencies, dependency_index_url)

    def make(scratch: Path) -> Path:
        uv = _uv()
        env_dir = scratch / "env"
        _run(
            [uv, "venv", "--no-config", "--quiet", "--no-python-downloads", "--python", sys.executable,
             str(env_dir)],
            "creating the environment template", timeout, scratch, children,
        )  # fmt: skip
        flags = ["--no-config", "--quiet", "--python", str(_python(env_dir))]
        if dependencies:
            _run(
                # compiled once here: each clone's import would otherwise compile them again
                [uv, "pip", "install", *flags, "--compile-bytecode", "--default-index", dependency_index_url,
                 *dependencies],
                f"installing the dependencies of {name} from {redact.scrub(dependency_index_url)}",
                timeout, scratch, children,
            )  # fmt: skip
        if _canonical(name) in installed(env_dir):  # a dependency requires the package back
            _run([uv, "pip", "uninstall", *flags, name], f"removing {name} from the environment template",
                 timeout, scratch, children)  # fmt: skip
        return env_dir

    facts = {"dependencies": sorted(dependencies), "python": sys.version}
    return made_once(target, _READY, make, facts)


def _link_or_copy(src: str, dst: str) -> None:
    # Hard links make a clone cost per file, not per byte (uv itself links from its cache);
    # installing and importing only add files, so the template's are never written through.
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _clone(template: Path, dest: Path) -> None:
    shutil.copytree(
        template, dest, symlinks=True, copy_function=_link_or_copy, ignore=shutil.ignore_patterns(_READY)
    )


def _owner_gone(entry: Path) -> bool:
    """True when the process named in a leftover's name (`.NAME-PID-random`) no longer runs."""
    parts = entry.name.split("-")
    if os.name != "posix" or len(parts) < 3 or not parts[-2].isdigit():
        return False  # on Windows os.kill(pid, 0) would send a Ctrl-C: only the age counts there
    try:
        os.kill(int(parts[-2]), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _sweep(root: Path) -> None:
    """Remove what killed runs left: clones and half-made templates of dead processes, or old."""
    cutoff = time.time() - _LEFTOVER_AGE
    for entry in root.glob(".*"):
        try:
            if entry.is_dir() and (_owner_gone(entry) or entry.stat().st_mtime < cutoff):
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue


_LIVE: set[Preparation] = set()


_LIVE_LOCK = threading.Lock()


class Preparation:
    """A fresh environment with the dependencies and without the package, being made.

    `background=True` makes it in a thread (the upload step starts it; the verify step waits
    for it with `environment()`). Whoever holds it calls `discard()`; one never discarded (a
    Ctrl-C between two steps) is discarded at interpreter exit, its child process killed.
    """

    def __init__(
        self,
        *,
        name: str,
        dependencies: list[str],
        dependency_index_url: str,
        timeout: float,
        background: bool = True,
    ) -> None:
        root = templates_dir()
        root.mkdir(parents=True, exist_ok=True)
        _sweep(root)
        self._args = (name, list(dependencies), dependency_index_url, timeout)
        self._children = _Children()
        self._error: ReleaseError | OSError | None = None
        self.work = Path(tempfile.mkdtemp(prefix=f".verify-{os.getpid()}-", dir=root))
        self.env_dir = self.work / "env"
        with _LIVE_LOCK:
            _LIVE.add(self)
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._make, name="releasekit-verify-env", daemon=True)
            self._thread.start()
        else:
            self._make()

    def _make(self) -> None:
        try:
            template = _template(*self._args, children=self._children)
            _clone(template, self.env_dir)
        except (ReleaseError, OSError) as exc:  # handed to the verify step, which raises it there
            self._error = exc

    def environment(self) -> Path:
        """The environment directory, once made; the preparation's error if it failed."""
        if self._thread is not None:
            self._thread.join()
        if isinstance(self._error, OSError) or not self.env_dir.is_dir():
            raise VerifyError(f"cannot prepare the environment to verify in: {self._error or 'not made'}")
        if self._error is not None:
            raise self._error
        return self.env_dir

    def discard(self) -> None:
        """Stop the making if it still runs, and remove the environment."""
        self._children.stop()
        if self._thread is not None:
            self._thread.join(timeout=30)
        shutil.rmtree(self.work, ignore_errors=True)
        with _LIVE_LOCK:
            _LIVE.discard(self)


@atexit.register
def _discard_all() -> None:
    with _LIVE_LOCK:
        pending = list(_LIVE)
    for preparation in pending:
        preparation.discard()


def _same_version(found: str, expected: str) -> bool:
    try:
        return Version(found) == Version(expected)
    except InvalidVersion:
        return False


def verify_install(
    *,
    name: str,
    version: str,
    index_url: str,
    dependencies: list[str],
    dependency_index_url: str,
    modules: list[str],
    timeout: float,
    prepared: Preparation | None = None,
    extra_only: frozenset[str] = frozenset(),
) -> Verification:
    """Install exactly name==version from `index_url` into a new environment and import it.

    `prepared` is the environment a `Preparation` started earlier with the same dependencies;
    without it one is made here. Either way it is removed before this returns.
    """
    start = time.monotonic()
    preparation = prepared or Preparation(
        name=name, dependencies=dependencies, dependency_index_url=dependency_index_url, timeout=timeout,
        background=False,
    )  # fmt: skip
    try:
        env_dir = preparation.environment()
        python = _python(env_dir)
        _run(
            [_uv(), "pip", "install", "--no-config", "--quiet", "--python", str(python), "--no-deps",
             "--no-cache", "--default-index", index_url, f"{name}=={version}"],
            f"installing {name}=={version} from {redact.scrub(index_url)}", timeout, preparation.work,
        )  # fmt: skip
        found = installed_version(env_dir, name)
        out = _run(
            [str(python), "-I", "-c", _PROBE, *modules], f"importing {name}", timeout, preparation.work
        )
    finally:
        preparation.discard()
    if not _same_version(found, version):
        shown = redact.printable(found[:80]) or "no version"
        raise VerifyError(f"{redact.scrub(index_url)} installed {name} {shown}, not {version}")
    optional = _optional_misses(out, name, extra_only)
    return Verification(index_url, found, tuple(modules), time.monotonic() - start, optional)


def _optional_misses(out: str, name: str, extra_only: frozenset[str]) -> tuple[str, ...]:
    """The probe's missing modules: fine when only an extra brings them, else the install is broken."""
    from packaging.utils import canonicalize_name

    optional = []
    for line in out.splitlines():
        try:
            miss = json.loads(line)
        except ValueError:
            continue
        if not isinstance(miss, dict):
            continue
        shown = redact.printable(str(miss.get("error", "")))[:200]
        if canonicalize_name(str(miss.get("missing", ""))) not in extra_only:
            raise VerifyError(f"importing {name} failed: {miss.get('module')}: {shown}")
        optional.append(f"{miss.get('module')} needs an extra ({shown})")
    return tuple(optional)
