"""bump2version configurations (`.bumpversion.cfg`, setup.cfg `[bumpversion]`); the only user of bump2version.

bump2version writes: its own cli, told the exact new version, never committing or tagging, so
git stays with releasekit and the project's search/replace, labelled sections
(`[bumpversion:file (badge):README.rst]`) and globs apply with bump2version's own semantics.
releasekit decides the version, so it must come out verbatim: when the project's `parse` does not
span it whole (2.0.0rc1 or 1.5.1.dev0 with the default `major.minor.patch`), the command line
gets a `--parse` that carries it verbatim into the parts of the project's first `serialize`
(`patch` = `0rc1`). Per-file sections keep their own serialize, and only bump2version's
`--parse` reaches them, because they take the parsed parts from it: `{major}.{minor}` still
writes 2.0. bump2version rewrites its config through configparser, which drops comments.

Reading stays here (bump2version has no read API): `current_version` and the files a bump
rewrites, so they can be snapshotted and committed.
"""

from __future__ import annotations

import configparser
import contextlib
import glob
import logging
import re
import string
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from releasekit.errors import VersionError
from releasekit.versioning import literals

# bump2version's RE_DETECT_SECTION_TYPE, for file, file(label), file ( label ) and glob.
_SECTION = re.compile(r"^bumpversion:(?P<kind>file|glob)(?:\s*\(\s*[^):]+\)?)?:(?P<target>.+)$")


_DEFAULT_PARSE = r"(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)"


def find_config(project: Path) -> Path | None:
    """`.bumpversion.cfg` with a [bumpversion] section, else setup.cfg with one (bump2version's order)."""
    for name in (".bumpversion.cfg", "setup.cfg"):
        path = project / name
        if path.is_file() and _parse(path).has_section("bumpversion"):
            return path
    return None


def _parse(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(literals.read_text(path), source=path.name)
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise VersionError(f"{path.name} cannot be parsed: {exc}", f"fix the syntax of {path.name}") from exc
    return parser


@dataclass(frozen=True)
class Bump2versionSource:
    """The version in a bump2version config: its current_version plus every file it lists."""

    kind: ClassVar[str] = "bump2version"
    writes_files: ClassVar[bool] = True
    generated_files: ClassVar[tuple[Path, ...]] = ()
    project: Path
    config_file: Path
    version: str
    files: tuple[Path, ...]
    plain: tuple[Path, ...]  # files written with the config's serialize: they must hold `new` after
    parse: str
    serialize: tuple[str, ...]

    @classmethod
    def load(cls, project: Path, config_file: Path) -> Bump2versionSource:
        """Read the config; a glob is expanded now (as bump2version will), so `files` is complete."""
        parser = _parse(config_file)
        top = dict(parser.items("bumpversion"))
        current = top.get("current_version", "").strip()
        if not current:
            raise VersionError(
                f"{config_file.name} [bumpversion] has no current_version",
                f"add current_version = 0.1.0 to [bumpversion] in {config_file.name}",
            )
        files, plain = [config_file], [project / n for n in top.get("files", "").split()]
        for section in parser.sections():
            found = _SECTION.match(section)
            if not found:
                continue
            target = str(project / found.group("target"))
            names = [Path(target)]
            if found.group("kind") == "glob":
                names = sorted(Path(p) for p in glob.glob(target, recursive=True))
            files.extend(names)
            if not parser.has_option(section, "serialize"):
                plain.extend(names)
        serialize = tuple(x.strip() for x in top.get("serialize", "").splitlines() if x.strip())
        return cls(
            project,
            config_file,
            current,
            tuple(dict.fromkeys([*files, *plain])),
            tuple(dict.fromkeys(plain)),
            top.get("parse", _DEFAULT_PARSE),
            serialize or ("{major}.{minor}.{patch}",),
        )

    def describe(self) -> str:
        return f"bump2version ({self.config_file.name})"

    def write(self, new: str) -> tuple[Path, ...]:
        """bump2version rewrites every configured file and the config to exactly `new`, all or none."""
        with literals.all_or_nothing(self.files, "bump2version") as snapshot:
            _run_bumpversion(self.project, new, [*self._verbatim(new), "--current-version", self.version])
            unchanged = [p.name for p in self.plain if not _holds(literals.read_text(p), new)]
            if unchanged:
                raise VersionError(
                    f"bump2version did not write {new} into {', '.join(unchanged)}",
                    f"check the search/replace of those files in {self.config_file.name}",
                )
        return literals.changed(snapshot)

    def _verbatim(self, new: str) -> list[str]:
        """No options when the project's parse spans both versions whole, else a verbatim parse."""
        if all(_spans(self.parse, v) for v in (self.version, new)):
            return []
        forms = [a for form in self.serialize for a in ("--serialize", form)]
        return ["--parse", _carrier(self.serialize[0]), *forms]


def _holds(text: str, version: str) -> bool:
    """`version` whole, as a version: 1.4.3.dev000 (an empty part serialized as 0) does not hold
    1.4.3.dev0, nor 1.4.3rc1 1.4.3; `v3.2.3.svg` and `/compare/v3.2.3...main` (labelled sections'
    own search/replace, as README badges and links have them) do hold 3.2.3."""
    return re.search(rf"(?<![\d.]){re.escape(version)}(?!\d|\.\d|[a-zA-Z]+\d|\+)", text) is not None


def _spans(parse: str, version: str) -> bool:
    try:
        found = re.search(parse, version, re.VERBOSE)  # bump2version compiles it so
    except re.error:
        return False
    return found is not None and found.group(0) == version


def _carrier(form: str) -> str:
    """A parse whose parts, put back into `form`, give the version as it was written.

    A part followed by literal text stops at its first occurrence, the last one at the end; of
    parts with nothing between them the first takes it all and the others stay empty, which
    bump2version leaves out: with `{major}.{minor}.{patch}{pre_l}{pre_n}` and a second form
    `{major}.{minor}.{patch}`, 1.4.3.dev0 is carried as patch `3.dev0` and written by the second.
    """
    pattern, previous_was_part = "^", False
    for literal, name, _, _ in string.Formatter().parse(form):
        if literal:
            pattern += re.escape(literal)
            previous_was_part = False
        if name:
            pattern += f"(?P<{name}>)" if previous_was_part else f"(?P<{name}>.*?)"
            previous_was_part = True
    return pattern + "$"


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
        with warnings.catch_warnings():
            # 1.0.1 imports the deprecated sre_constants and warns that `files =` will go; not ours.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            yield lines
    finally:
        for lg, (handlers, propagate) in zip(loggers, saved, strict=True):
            lg.handlers, lg.propagate = handlers, propagate
        logging.getLogger().setLevel(root_level)


def _run_bumpversion(project: Path, new: str, options: list[str]) -> None:
    # "patch" is a required positional; --new-version decides the value.
    args = [*options, "--new-version", new, "--no-commit", "--no-tag", "--allow-dirty", "patch"]
    with _quiet_bumpversion() as log, contextlib.chdir(project):
        from bumpversion.cli import main as bumpversion_main
        from bumpversion.exceptions import BumpVersionException

        try:
            bumpversion_main(args)
        except SystemExit as exc:
            raise VersionError(
                f"bump2version could not write {new}: {' '.join(log[-1:]) or 'bad config'}"
            ) from exc
        except KeyError as exc:
            if not str(exc.args[0] if exc.args else "").isidentifier():
                raise VersionError(f"bump2version could not write {new}: {exc}") from exc
            raise VersionError(
                f"bump2version could not write {new}: its config uses {{{exc.args[0]}}}, "
                "which it does not fill in",
                "use {current_version}, {new_version}, {now} or {utcnow} in search/replace",
            ) from exc
        except (BumpVersionException, ValueError, TypeError, AttributeError, re.error) as exc:
            detail = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            raise VersionError(
                f"bump2version could not write {new}: {detail}",
                "check that every configured file still holds the current version",
            ) from exc
