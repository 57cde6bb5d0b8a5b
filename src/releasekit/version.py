"""Read, compute and write the project's version; the only user of bump2version.

Versions are compared and normalised with `packaging` (PEP 440); bump2version is told the exact
new version to write and never commits or tags, so git stays with one module. Writing is atomic:
every file bump2version may touch is snapshotted and restored if anything goes wrong, so a failed
bump never leaves half the files on the new version.
"""

from __future__ import annotations

import configparser
import contextlib
import glob
import logging
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from .config import read_pyproject
from .errors import VersionError

BUMP_PARTS = ("major", "minor", "patch", "pre", "final")
PRE_LABELS = ("a", "b", "rc")


@dataclass(frozen=True)
class VersionSource:
    """Where the version lives: a bump2version config, or a static pyproject version."""

    version: str
    config_file: Path | None  # .bumpversion.cfg or setup.cfg; None means pyproject.toml only
    files: tuple[Path, ...]  # every file a bump rewrites (including the config file)


def parse_version(text: str, *, what: str = "version") -> Version:
    """Parse a public PEP 440 version; local versions are refused because PyPI refuses them.

    packaging strips surrounding whitespace, so "1.2.3\\n" would parse and then be written into
    the files, tag and commit message as it was given: whitespace anywhere is refused instead.
    """
    if not text or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise VersionError(
            f"{what} {text!r} is empty or contains whitespace or a line break",
            "give it as e.g. 1.2.3, with nothing around it",
        )
    try:
        version = Version(text)
    except InvalidVersion as exc:
        raise VersionError(
            f"{what} '{text}' is not a valid PEP 440 version", "use e.g. 1.2.3, 1.2.3rc1, 1.2.3.post1"
        ) from exc
    if version.local is not None:
        raise VersionError(
            f"{what} '{text}' is a local version (+{version.local}); PyPI refuses them",
            f"release {version.public} instead",
        )
    return version


def _bumpversion_config(project: Path) -> tuple[Path, configparser.RawConfigParser] | None:
    # Same precedence as bump2version itself: .bumpversion.cfg wins over setup.cfg.
    for name in (".bumpversion.cfg", "setup.cfg"):
        path = project / name
        if not path.is_file():
            continue
        parser = configparser.RawConfigParser()
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError) as exc:
            raise VersionError(f"{name} cannot be parsed: {exc}") from exc
        if parser.has_section("bumpversion"):
            return path, parser
        if name == ".bumpversion.cfg":
            return None
    return None


def read_version(project: Path) -> VersionSource:
    """Find the current version: bump2version config first, then pyproject [project] version."""
    found = _bumpversion_config(project)
    if found:
        path, parser = found
        current = parser.get("bumpversion", "current_version", fallback="").strip()
        if not current:
            raise VersionError(f"{path.name} [bumpversion] has no current_version")
        files = [path]
        for section in parser.sections():
            kind, _, target = section.partition(":")[2].partition(":")
            if section.startswith("bumpversion:") and kind == "file":
                files.append(project / target)
            elif section.startswith("bumpversion:") and kind == "glob":
                files.extend(Path(p) for p in sorted(glob.glob(str(project / target))))
        for name in parser.get("bumpversion", "files", fallback="").split():
            files.append(project / name)
        return VersionSource(current, path, tuple(dict.fromkeys(files)))
    project_table = read_pyproject(project).get("project", {})
    current = project_table.get("version")
    if isinstance(current, str) and current:
        return VersionSource(current, None, (project / "pyproject.toml",))
    if "version" in project_table.get("dynamic", []):
        raise VersionError(
            "the version is dynamic in pyproject.toml; releasekit needs it written in the files",
            "add a [bumpversion] section with current_version to setup.cfg",
        )
    raise VersionError(
        "no version found: neither setup.cfg/.bumpversion.cfg [bumpversion] nor pyproject [project] version",
        "add [bumpversion] current_version = 0.1.0 to setup.cfg",
    )


def next_version(current: str, part: str, pre: str | None = None) -> str:
    """The version a --bump gives, computed with PEP 440 semantics.

    major/minor/patch bump the release number (with `pre`, the first pre-release of it:
    1.4.2 minor + rc -> 1.5.0rc1); `pre` moves a pre-release on (rc1 -> rc2, or a1 -> b1 with
    pre="b"); `final` drops the pre-release or dev part (1.5.0rc2 -> 1.5.0). A bump that would
    skip a pre-release's own final (patch on 1.5.0rc2) is refused with the command that is meant.
    """
    if part not in BUMP_PARTS:
        raise VersionError(f"unknown bump '{part}'", f"use one of {', '.join(BUMP_PARTS)}")
    if pre is not None and pre not in PRE_LABELS:
        raise VersionError(f"unknown pre-release kind '{pre}'", f"use one of {', '.join(PRE_LABELS)}")
    version = parse_version(current, what="current version")
    major, minor, patch = [*version.release, 0, 0][:3]
    epoch = f"{version.epoch}!" if version.epoch else ""
    unfinished = version.is_prerelease or version.is_devrelease
    if part == "final":
        if not unfinished:
            raise VersionError(f"{current} is already a final release", "use --bump patch, minor or major")
        return f"{epoch}{version.base_version.removeprefix(epoch)}"
    if part == "pre":
        return _next_pre(version, epoch, pre)
    if unfinished:
        final_is = "major" if (minor, patch) == (0, 0) else "minor" if patch == 0 else "patch"
        if BUMP_PARTS.index(part) >= BUMP_PARTS.index(final_is):
            raise VersionError(
                f"--bump {part} on the pre-release {current} would skip {version.base_version}",
                "use --bump final to release it",
            )
    release = {
        "major": f"{major + 1}.0.0",
        "minor": f"{major}.{minor + 1}.0",
        "patch": f"{major}.{minor}.{patch + 1}",
    }[part]
    return f"{epoch}{release}{pre + '1' if pre else ''}"


def _next_pre(version: Version, epoch: str, label: str | None) -> str:
    base = version.base_version.removeprefix(epoch)
    if version.pre is None:
        if version.is_devrelease and label:
            return f"{epoch}{base}{label}1"
        raise VersionError(
            f"{version} is not a pre-release",
            "start one with e.g. --bump minor --pre rc, or use --new-version",
        )
    current_label, number = version.pre
    label = label or current_label
    if PRE_LABELS.index(label) < PRE_LABELS.index(current_label):
        raise VersionError(
            f"--pre {label} would go back from {version}", f"use --pre {current_label} or later"
        )
    return f"{epoch}{base}{label}{number + 1 if label == current_label else 1}"


def next_dev(released: str) -> str:
    """The development version after a release: 1.5.0 -> 1.5.1.dev0, 2.0.0rc1 -> 2.0.0rc2.dev0."""
    version = parse_version(released)
    epoch = f"{version.epoch}!" if version.epoch else ""
    if version.pre is not None:
        label, number = version.pre
        return f"{epoch}{version.base_version.removeprefix(epoch)}{label}{number + 1}.dev0"
    major, minor, patch = [*version.release, 0, 0][:3]
    return f"{epoch}{major}.{minor}.{patch + 1}.dev0"


def normalise(text: str) -> str:
    """The canonical spelling, so tags, file names and metadata agree."""
    return str(parse_version(text))


@contextlib.contextmanager
def _quiet_bumpversion() -> Iterator[list[str]]:
    # bump2version installs its own stderr handler and raises the root logger's level; give it
    # a capturing handler instead and restore the root level afterwards.
    lines: list[str] = []

    class _Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = _Capture(logging.WARNING)
    loggers = [logging.getLogger(n) for n in ("bumpversion", "bumpversion.cli", "bumpversion.list")]
    saved = [(lg.handlers[:], lg.propagate) for lg in loggers]
    root_level = logging.getLogger().level
    for lg in loggers:
        lg.handlers = [handler]
        lg.propagate = False
    try:
        yield lines
    finally:
        for lg, (handlers, propagate) in zip(loggers, saved, strict=True):
            lg.handlers, lg.propagate = handlers, propagate
        logging.getLogger().setLevel(root_level)


def write_version(project: Path, source: VersionSource, new: str) -> tuple[Path, ...]:
    """Rewrite every configured file to `new`, all or nothing.

    With a bump2version config, bump2version does the writing (told the exact version, never
    committing); without one, only the `version = "..."` line of pyproject's [project] table is
    rewritten, because a whole-file search would also change a dependency pinned to that version.
    Afterwards every rewritten file must contain `new`: a parse/serialize config that cannot
    represent a pre-release would otherwise write "2.0.0" where "2.0.0rc1" was asked for.
    """
    snapshot = {p: p.read_bytes() for p in source.files if p.is_file()}
    missing = [p for p in source.files if p not in snapshot]
    if missing:
        raise VersionError(f"bump2version is configured to rewrite {missing[0].name}, which does not exist")
    try:
        if source.config_file is None:
            _write_pyproject_version(project / "pyproject.toml", source.version, new)
        else:
            _run_bumpversion(project, new)
        written = read_version(project).version
        unchanged = [p.name for p in source.files if new not in p.read_text(encoding="utf-8")]
        if written != new or unchanged:
            raise VersionError(
                f"the bump to {new} did not write it everywhere ({', '.join(unchanged) or written})",
                "its [bumpversion] parse/serialize cannot represent this version; add a pre-release part",
            )
    except BaseException:
        for path, data in snapshot.items():
            _restore(path, data)
        raise
    return tuple(p for p, data in snapshot.items() if p.read_bytes() != data)


def _run_bumpversion(project: Path, new: str) -> None:
    with warnings.catch_warnings():
        # bump2version 1.0.1 imports the deprecated sre_constants; not ours to fix.
        warnings.simplefilter("ignore", DeprecationWarning)
        from bumpversion.cli import main as bumpversion_main
        from bumpversion.exceptions import BumpVersionException

    # "patch" is a required positional; --new-version decides the value.
    args = ["--new-version", new, "--no-commit", "--no-tag", "--allow-dirty", "patch"]
    with _quiet_bumpversion() as log, contextlib.chdir(project):
        try:
            bumpversion_main(args)
        except SystemExit as exc:
            raise VersionError(
                f"bump2version could not write {new}: {' '.join(log[-1:]) or 'bad config'}"
            ) from exc
        except (BumpVersionException, ValueError, KeyError, TypeError, AttributeError) as exc:
            detail = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            raise VersionError(
                f"bump2version could not write {new}: {detail}",
                "check [bumpversion] parse/serialize can represent this version",
            ) from exc


def _write_pyproject_version(path: Path, current: str, new: str) -> None:
    """Replace the one `version = "..."` line of the [project] table, nothing else."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    table, hits = "", []
    pattern = re.compile(r'^(\s*version\s*=\s*)(["\'])' + re.escape(current) + r"\2(.*)$", re.DOTALL)
    for number, line in enumerate(lines):
        header = re.match(r"^\s*\[([^\]]+)\]\s*(#.*)?$", line)
        if header:
            table = header.group(1).strip()
        elif table == "project" and pattern.match(line):
            hits.append(number)
    if len(hits) != 1:
        raise VersionError(f'pyproject.toml has no single version = "{current}" line in [project]')
    lines[hits[0]] = pattern.sub(
        lambda m: f"{m.group(1)}{m.group(2)}{new}{m.group(2)}{m.group(3)}", lines[hits[0]]
    )
    _restore(path, "".join(lines).encode("utf-8"))


def _restore(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".releasekit-restore")
    tmp.write_bytes(data)
    os.replace(tmp, path)
