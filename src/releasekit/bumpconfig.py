"""bump2version configurations (`.bumpversion.cfg`, setup.cfg `[bumpversion]`), applied by releasekit.

releasekit decides the new version, so the part of bump2version that computes one (parse,
serialize, part configs) has nothing to do; what must be kept is the project's declaration of
where the version lives: the `[bumpversion:file:…]`, `[bumpversion:file (label):…]` and
`[bumpversion:glob:…]` sections and their search/replace templates. Those are applied here, with
bump2version's semantics (every occurrence of the search text is replaced, a file without it is an
error), and `{current_version}`/`{new_version}` are the exact versions as written: a default
`major.minor.patch` parse can therefore take 2.0.0rc1. A file section with a serialize of its own
(e.g. only `{major}.{minor}`) is rendered through it.

bump2version itself cannot be installed beside bump-my-version (both are the `bumpversion`
package), and it would rewrite the config through configparser, dropping its comments.
"""

from __future__ import annotations

import configparser
import datetime
import glob
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from . import versionfiles
from .errors import VersionError

# Same as bump2version's RE_DETECT_SECTION_TYPE: file, file(label), file ( label ), glob.
_SECTION = re.compile(r"^bumpversion:(?P<kind>file|glob)(?:\s*\(\s*[^):]+\))?:(?P<target>.+)$")
_DEFAULT_PARSE = r"(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)"


@dataclass(frozen=True)
class _Target:
    path: Path
    search: str
    replace: str
    parse: str
    serialize: tuple[str, ...]  # empty: the version exactly as written


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
        parser.read_string(versionfiles.read_text(path), source=path.name)
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise VersionError(f"{path.name} cannot be parsed: {exc}", f"fix the syntax of {path.name}") from exc
    return parser


def _lines(value: str) -> tuple[str, ...]:
    return tuple(x.strip().replace("\\n", "\n") for x in value.splitlines() if x.strip())


@dataclass(frozen=True)
class Bump2versionSource:
    """The version in a bump2version config: its current_version plus every file it lists."""

    kind: ClassVar[str] = "bump2version"
    writes_files: ClassVar[bool] = True
    generated_files: ClassVar[tuple[Path, ...]] = ()
    project: Path
    config_file: Path
    version: str
    targets: tuple[_Target, ...] = field(repr=False)

    @classmethod
    def load(cls, project: Path, config_file: Path) -> Bump2versionSource:
        """Read the config; a glob is expanded now, so `files` names what a bump will rewrite."""
        parser = _parse(config_file)
        current = parser.get("bumpversion", "current_version", fallback="").strip()
        if not current:
            raise VersionError(
                f"{config_file.name} [bumpversion] has no current_version",
                f"add current_version = 0.1.0 to [bumpversion] in {config_file.name}",
            )
        top = dict(parser.items("bumpversion"))
        default = {
            "search": top.get("search", "{current_version}"),
            "replace": top.get("replace", "{new_version}"),
            "parse": top.get("parse", _DEFAULT_PARSE),
        }
        targets = [_Target(project / n, **default, serialize=()) for n in top.get("files", "").split()]
        for section in parser.sections():
            found = _SECTION.match(section)
            if not found:
                continue
            options = {**default, **dict(parser.items(section))}
            own = _lines(options["serialize"]) if "serialize" in dict(parser.items(section)) else ()
            names = [found.group("target")]
            if found.group("kind") == "glob":
                names = sorted(
                    Path(p).relative_to(project).as_posix()
                    for p in glob.glob(str(project / found.group("target")), recursive=True)
                )
            targets += [
                _Target(project / n, options["search"], options["replace"], options["parse"], own)
                for n in names
            ]
        return cls(project, config_file, current, tuple(targets))

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(dict.fromkeys([self.config_file, *(t.path for t in self.targets)]))

    def describe(self) -> str:
        return f"bump2version ({self.config_file.name})"

    def write(self, new: str) -> tuple[Path, ...]:
        """Apply every section's search/replace and set current_version, all files or none."""
        with versionfiles.all_or_nothing(self.files, "bump2version") as snapshot:
            for target in self.targets:
                self._apply(target, new)
            config = versionfiles.ini_value(self.config_file, "bumpversion", "current_version")
            if config is None or config.value != self.version:
                raise VersionError(f"{self.config_file.name} has no single current_version = {self.version}")
            versionfiles.rewrite([config], new)
        return versionfiles.changed(snapshot)

    def _apply(self, target: _Target, new: str) -> None:
        context = {
            "current_version": _serialize(target, self.version),
            "new_version": _serialize(target, new),
        }
        search = _render(target.search, context, target.path.name)
        replace = _render(target.replace, context, target.path.name)
        text = versionfiles.read_text(target.path)
        if search not in text:
            raise VersionError(
                f"bump2version could not write {new}: {target.path.name} does not contain {search!r}",
                f"put {self.version} back into {target.path.name} or fix its search in "
                f"{self.config_file.name}",
            )
        versionfiles.replace_file(target.path, text.replace(search, replace).encode("utf-8"))


def _serialize(target: _Target, version: str) -> str:
    """The version as this file spells it: as written, or through the file's own serialize."""
    if not target.serialize:
        return version
    found = re.fullmatch(target.parse, version)
    values = {k: v for k, v in (found.groupdict() if found else {}).items() if v is not None}
    for form in target.serialize:
        fields = {name for _, name, _, _ in string.Formatter().parse(form) if name}
        if found and fields <= values.keys():
            return form.format(**values)
    raise VersionError(
        f"{version} cannot be written to {target.path.name}: its serialize {list(target.serialize)} "
        "cannot represent it",
        f"add a serialize format for it to the {target.path.name} section",
    )


class _Context(dict[str, Any]):
    def __init__(self, context: dict[str, str], filename: str) -> None:
        now = datetime.datetime.now()
        super().__init__(context, now=now, utcnow=now.astimezone(datetime.UTC).replace(tzinfo=None))
        self.filename = filename

    def __missing__(self, key: str) -> str:
        raise VersionError(
            f"the search/replace for {self.filename} uses {{{key}}}, which releasekit does not fill in",
            "use {current_version}, {new_version}, {now} or {utcnow}",
        )


def _render(template: str, context: dict[str, str], filename: str) -> str:
    try:
        return template.format_map(_Context(context, filename))
    except (ValueError, IndexError) as exc:
        raise VersionError(f"the search/replace for {filename} is not a valid template: {exc}") from exc
