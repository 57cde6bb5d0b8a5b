"""Build the sdist, then the wheel from the sdist, with `build`'s API.

The backend runs in a cached isolated environment (`environments`), or in a process started
ahead (`standby`); its warnings are forwarded, and what a killed build leaves in the project is
cleared before the next one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
import warnings
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from releasekit import redact
from releasekit.errors import BuildError

if TYPE_CHECKING:
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

    def install(requirements: Collection[str]) -> None:
        if requirements and standby is not None:
            standby.close()  # its processes imported the environment as it was before
        env.install(requirements)

    before = _droppings(project)
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            env = environments.env_for(build.ProjectBuilder(project).build_system_requires)
            builder = build.ProjectBuilder.from_isolated_env(env, project, runner=runner)
            if not environments.no_dynamic_requires(project):
                install(builder.get_requires_for_build("sdist"))
            sdist = Path(builder.build("sdist", outdir))
            with tempfile.TemporaryDirectory(prefix="releasekit-sdist-") as tmp:
                with tarfile.open(sdist) as tf:
                    tf.extractall(tmp, filter="data")
                (unpacked,) = Path(tmp).iterdir()
                wheel_builder = build.ProjectBuilder.from_isolated_env(env, unpacked, runner=runner)
                if not environments.no_dynamic_requires(unpacked):
                    install(wheel_builder.get_requires_for_build("wheel"))
                wheel_builder.build("wheel", outdir)
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
    finally:
        _remove_build_droppings(project, before)
    # The record is process-wide: a background import (twine's, while the build runs) warns into
    # it too. Only what the backend said (forwarded by pyproject_hooks) and build's own are ours.
    from pyproject_hooks import BuildBackendWarning

    for warning in caught:
        if warn is not None and issubclass(warning.category, BuildBackendWarning | build.TypoWarning):
            warn(redact.scrub(" ".join(str(warning.message).split()))[:300])
    return collect(outdir)


def _droppings(project: Path) -> set[Path]:
    # setuptools writes *.egg-info and build/ into the source tree while making the sdist.
    found = {p for p in project.rglob("*.egg-info") if ".git" not in p.relative_to(project).parts}
    return found | ({project / "build"} if (project / "build").exists() else set())


def _remove_build_droppings(project: Path, before: set[Path]) -> None:
    """Leave the source tree as we found it, so a re-run still sees a clean tree."""
    for path in _droppings(project) - before:
        shutil.rmtree(path, ignore_errors=True)
