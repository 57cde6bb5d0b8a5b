"""Build the sdist, then the wheel from the sdist, with `build`'s API; describe artifacts.

This follows `python -m build` semantics (the wheel is built from the unpacked sdist, so a file
missing from the sdist breaks the build here rather than for a user installing from source) in
an isolated environment installed by uv. Artifacts are identified by parsing their file names
with `packaging.utils`, never by globbing a directory.
"""

from __future__ import annotations

import configparser
import email.message
import email.parser
import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from . import redact
from .errors import BuildError


@dataclass(frozen=True)
class Artifact:
    """One distribution file, identified by its parsed name and its bytes' sha256."""

    path: Path
    kind: str  # "sdist" | "wheel"
    name: str  # canonical project name
    version: str  # canonical version
    size: int
    sha256: str

    @property
    def filename(self) -> str:
        return self.path.name


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_filename(filename: str) -> tuple[str, str, str] | None:
    """(kind, canonical name, canonical version) of a distribution file name, or None."""
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            return "wheel", canonicalize_name(name), str(version)
        if filename.endswith(".tar.gz"):
            name, version = parse_sdist_filename(filename)
            return "sdist", canonicalize_name(name), str(version)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def describe(path: Path) -> Artifact:
    parsed = parse_filename(path.name)
    if parsed is None:
        raise BuildError(f"{path.name} is not a wheel or sdist file name")
    kind, name, version = parsed
    return Artifact(path, kind, name, version, path.stat().st_size, sha256_of(path))


def collect(directory: Path) -> list[Artifact]:
    """The distribution files in a directory, wheels first (the order uploads go in)."""
    found = [describe(p) for p in sorted(directory.iterdir()) if parse_filename(p.name)]
    return sorted(found, key=lambda a: (a.kind != "wheel", a.filename))


def read_metadata(artifact: Artifact) -> email.message.Message:
    """The core metadata (METADATA or PKG-INFO) inside the artifact."""
    if artifact.kind == "wheel":
        with zipfile.ZipFile(artifact.path) as zf:
            meta = [n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            if len(meta) != 1:
                raise BuildError(f"{artifact.filename} has no single .dist-info/METADATA")
            data = zf.read(meta[0])
    else:
        with tarfile.open(artifact.path) as tf:
            members = [m for m in tf.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")]
            fh = tf.extractfile(members[0]) if members else None
            if fh is None:
                raise BuildError(f"{artifact.filename} has no top-level PKG-INFO")
            data = fh.read()
    return email.parser.BytesParser().parsebytes(data)


def top_level_modules(wheel: Artifact) -> list[str]:
    """Importable top-level names the wheel installs, to prove the install imports."""
    names: set[str] = set()
    with zipfile.ZipFile(wheel.path) as zf:
        for entry in zf.namelist():
            head, _, rest = entry.partition("/")
            if head.endswith((".dist-info", ".data")):
                continue
            if rest and rest.split("/")[0] and (head.isidentifier()):
                names.add(head)
            elif not rest and head.endswith(".py") and head[:-3].isidentifier():
                names.add(head[:-3])
    return sorted(names)


def check_consistency(artifacts: Sequence[Artifact], name: str, version: str) -> None:
    """File names, metadata and the release agree on one canonical name and version."""
    kinds = {a.kind for a in artifacts}
    if kinds != {"sdist", "wheel"}:
        raise BuildError(f"expected one sdist and at least one wheel, found: {sorted(kinds)}")
    for art in artifacts:
        meta = read_metadata(art)
        meta_name, meta_version = canonicalize_name(meta.get("Name", "")), meta.get("Version", "")
        if art.name != name or meta_name != name:
            raise BuildError(f"{art.filename} is for project '{meta_name}', not '{name}'")
        if art.version != version or str(Version(meta_version or "0")) != version:
            raise BuildError(
                f"{art.filename} carries version {meta_version}, but the release is {version}",
                "the version in the files and the one being released disagree",
            )


class _Runner:
    """Run backend hooks quietly, keeping the output for the error message."""

    def __init__(self) -> None:
        self.output: list[str] = []

    def __call__(
        self, cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        env = {**os.environ, **(extra_environ or {})}
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
        self.output.extend((proc.stdout + proc.stderr).splitlines())
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, cmd, proc.stdout, proc.stderr)


def _tail(lines: Iterable[str], count: int = 3) -> str:
    useful = [ln.strip() for ln in lines if ln.strip() and not ln.startswith(" ")]
    return redact.scrub(" | ".join(useful[-count:]))[:400]


def build_dists(project: Path, outdir: Path, warn: Callable[[str], None] | None = None) -> list[Artifact]:
    """Build sdist, then the wheel from that sdist, into `outdir` (which must be new).

    The backend's warnings (a missing readme, deprecated config) go to `warn` instead of raw to
    stderr; a failure is one line naming its cause.
    """
    import build

    from . import buildenv

    outdir.mkdir(parents=True)
    runner = _Runner()
    before = _droppings(project)
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            env = buildenv.env_for(build.ProjectBuilder(project).build_system_requires)
            builder = build.ProjectBuilder.from_isolated_env(env, project, runner=runner)
            if not _no_dynamic_requires(project):
                env.install(builder.get_requires_for_build("sdist"))
            sdist = Path(builder.build("sdist", outdir))
            with tempfile.TemporaryDirectory(prefix="releasekit-sdist-") as tmp:
                with tarfile.open(sdist) as tf:
                    tf.extractall(tmp, filter="data")
                (unpacked,) = Path(tmp).iterdir()
                wheel_builder = build.ProjectBuilder.from_isolated_env(env, unpacked, runner=runner)
                if not _no_dynamic_requires(unpacked):
                    env.install(wheel_builder.get_requires_for_build("wheel"))
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
    for warning in caught:
        if warn is not None:
            warn(redact.scrub(" ".join(str(warning.message).split()))[:300])
    return collect(outdir)


def _no_dynamic_requires(source: Path) -> bool:
    """True when the backend's get_requires_for_build_* hooks can only answer [].

    setuptools answers them with `setup_requires`, which only setup.py or setup.cfg [options] can
    declare; without either the answer is [], and asking costs a whole setup run in a fresh
    process (a second per hook on a project of a few hundred modules). Any other backend is asked.
    """
    from .config import read_pyproject

    backend = read_pyproject(source).get("build-system", {}).get("build-backend")
    if backend != "setuptools.build_meta" or (source / "setup.py").exists():
        return False
    cfg = source / "setup.cfg"
    if cfg.is_file():
        parser = configparser.RawConfigParser()
        try:
            parser.read(cfg, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            return False
        return not parser.has_option("options", "setup_requires")
    return True


def _droppings(project: Path) -> set[Path]:
    # setuptools writes *.egg-info and build/ into the source tree while making the sdist.
    found = {p for p in project.rglob("*.egg-info") if ".git" not in p.relative_to(project).parts}
    return found | ({project / "build"} if (project / "build").exists() else set())


def _remove_build_droppings(project: Path, before: set[Path]) -> None:
    """Leave the source tree as we found it, so a re-run still sees a clean tree."""
    for path in _droppings(project) - before:
        shutil.rmtree(path, ignore_errors=True)


# Files a build backend generates into an sdist on its own: PKG-INFO and egg-info (setuptools),
# setup.cfg (setuptools' egg_info), pyproject.toml.orig (uv_build keeps the original beside its
# normalised copy), .gitignore (hatchling writes the ignore rules it built with, even for a package
# in a subfolder whose repository keeps them at the top).
_GENERATED = re.compile(
    r"^(PKG-INFO|setup\.cfg|pyproject\.toml\.orig|\.gitignore|[^/]+\.egg-info/.*|src/[^/]+\.egg-info/.*)$"
)
_TOKEN_SHAPE = re.compile(rb"pypi-[A-Za-z0-9_-]{50,}")


def check_contents(artifacts: Sequence[Artifact], tracked: set[str]) -> None:
    """Stop untracked files (a .env, a stray dist/) and anything token-shaped from being published."""
    for art in artifacts:
        for member, data in _members(art):
            if art.kind == "sdist":
                relative = member.split("/", 1)[1] if "/" in member else ""
                if relative and relative not in tracked and not _GENERATED.match(relative):
                    raise BuildError(
                        f"the sdist {art.filename} contains {relative}, which git does not track",
                        "commit it, or keep it out of the sdist (MANIFEST.in / the backend's excludes)",
                    )
            if _TOKEN_SHAPE.search(data):
                raise BuildError(
                    f"{art.filename} contains something shaped like a PyPI token (in {member})",
                    "remove the secret from the package and revoke it on PyPI",
                )


def _members(art: Artifact) -> Iterable[tuple[str, bytes]]:
    if art.kind == "wheel":
        with zipfile.ZipFile(art.path) as zf:
            for name in zf.namelist():
                if not name.endswith("/"):
                    yield name, zf.read(name)
        return
    with tarfile.open(art.path) as tf:
        for info in tf.getmembers():
            fh = tf.extractfile(info) if info.isfile() else None
            if fh is not None:
                yield info.name, fh.read()
