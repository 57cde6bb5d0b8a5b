"""Build the sdist, then the wheel from the sdist, with `build`'s API.

The backend runs in a cached isolated environment (`environments`), or in a process started
ahead (`standby`); its warnings are forwarded, and what a killed build leaves in the project is
cleared before the next one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from releasekit import redact
from releasekit.errors import BuildError

if TYPE_CHECKING:
    from releasekit.dists.environments import CachedEnv
    from releasekit.dists.standby import Standby
from releasekit.dists.artifact import Artifact, collect


class _Runner:
    """Run backend hooks quietly, keeping the output for the error message; a hook goes to a
    process of the standby when one is waiting that is the process the hook would start."""

    def __init__(self, standby: Standby | None = None) -> None:
        self.output: list[str] = []
        self.standby = standby

    def __call__(
        self, cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        # The backend runs the project's own code: it gets no credential of ours.
        env = {**redact.child_environ(), **(extra_environ or {})}
        ran = self.standby.run(cmd, cwd or os.getcwd(), env) if self.standby is not None else None
        if ran is None:
            proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
            ran = proc.returncode, proc.stdout, proc.stderr
        returncode, stdout, stderr = ran
        self.output.extend((stdout + stderr).splitlines())
        if returncode:
            raise subprocess.CalledProcessError(returncode, cmd, stdout, stderr)


def _tail(lines: Iterable[str], count: int = 3) -> str:
    useful = [ln.strip() for ln in lines if ln.strip() and not ln.startswith(" ")]
    return redact.scrub(" | ".join(useful[-count:]))[:400]


def build_dists(
    project: Path,
    outdir: Path,
    warn: Callable[[str], None] | None = None,
    standby: Standby | None = None,
) -> list[Artifact]:
    """Build sdist, then the wheel from that sdist, into `outdir` (which must be new).

    The backend's warnings (a missing readme, deprecated config) go to `warn` instead of raw to
    stderr; a failure is one line naming its cause. `standby` (dists.standby) has backend
    processes that were started ahead, for hooks that would start the very same process.
    """
    import build

    from releasekit.dists import environments

    outdir.mkdir(parents=True)
    runner = _Runner(standby)
    before = _droppings(project)
    caught: list[warnings.WarningMessage] = []
    try:
        with _build_errors(project, runner), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            env = environments.env_for(build.ProjectBuilder(project).build_system_requires)
            sdist = _build_one(env, project, "sdist", outdir, runner, standby)
            with _unpacked(sdist) as unpacked:
                _build_one(env, unpacked, "wheel", outdir, runner, standby)
    finally:
        _remove_build_droppings(project, before)
    _forward_warnings(caught, warn)
    return collect(outdir)


def _build_one(
    env: CachedEnv,
    source: Path,
    distribution: Literal["sdist", "wheel"],
    outdir: Path,
    runner: _Runner,
    standby: Standby | None,
) -> Path:
    """Build one distribution of `source`, first installing what the backend asks for it.

    The asking is skipped when the answer can only be [] (`no_dynamic_requires`): it costs a whole
    backend run. Anything installed changes the environment under the standby's processes, so
    they are closed first.
    """
    import build

    from releasekit.dists import environments

    builder = build.ProjectBuilder.from_isolated_env(env, source, runner=runner)
    if not environments.no_dynamic_requires(source):
        requirements = builder.get_requires_for_build(distribution)
        if requirements and standby is not None:
            standby.close()
        env.install(requirements)
    return Path(builder.build(distribution, outdir))


@contextlib.contextmanager
def _unpacked(sdist: Path) -> Iterator[Path]:
    """The sdist's one top folder, unpacked in a temporary folder: the wheel is built from what ships."""
    with tempfile.TemporaryDirectory(prefix="releasekit-sdist-") as tmp:
        with tarfile.open(sdist) as tf:
            tf.extractall(tmp, filter="data")
        (unpacked,) = Path(tmp).iterdir()
        yield unpacked


@contextlib.contextmanager
def _build_errors(project: Path, runner: _Runner) -> Iterator[None]:
    """Turn what `build` and the environment set-up raise into one BuildError line naming the cause.

    A backend that failed in its subprocess is described by the last lines it printed; any other
    backend failure by its own first line; secrets are scrubbed from both.
    """
    import build

    try:
        yield
    except build.BuildBackendException as exc:
        cause = exc.exception
        detail = _tail(runner.output)
        if not isinstance(cause, subprocess.CalledProcessError):
            detail = redact.scrub(str(cause).strip().splitlines()[0] if str(cause).strip() else repr(cause))
        raise BuildError(
            f"the build backend failed: {detail}", "run `python -m build` for the full output"
        ) from exc
    except build.BuildException as exc:
        raise BuildError(f"cannot build {project.name}: {redact.scrub(str(exc))}") from exc
    except (subprocess.CalledProcessError, OSError, RuntimeError) as exc:
        raise BuildError(f"cannot prepare the build environment: {_tail(runner.output) or exc}") from exc


def _forward_warnings(caught: Iterable[warnings.WarningMessage], warn: Callable[[str], None] | None) -> None:
    """Pass on what the backend said (forwarded by pyproject_hooks) and build's own warnings, one line each.

    The record is process-wide: a background import (twine's, while the build runs) warns into
    it too, and only the backend's and build's warnings are ours to show.
    """
    import build
    from pyproject_hooks import BuildBackendWarning

    for warning in caught:
        if warn is not None and issubclass(warning.category, BuildBackendWarning | build.TypoWarning):
            warn(redact.scrub(" ".join(str(warning.message).split()))[:300])


def _droppings(project: Path) -> set[Path]:
    # setuptools writes *.egg-info and build/ into the source tree while making the sdist.
    found = {p for p in project.rglob("*.egg-info") if ".git" not in p.relative_to(project).parts}
    return found | ({project / "build"} if (project / "build").exists() else set())


def _remove_build_droppings(project: Path, before: set[Path]) -> None:
    """Leave the source tree as we found it, so a re-run still sees a clean tree."""
    for path in _droppings(project) - before:
        shutil.rmtree(path, ignore_errors=True)
