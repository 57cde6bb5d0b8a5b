"""bump-my-version configurations (`[tool.bumpversion]`, `.bumpversion.toml`); the only user of its library.

The library is imported only for projects that have such a config: it brings pydantic and rich,
which no other project should pay for. It is told the exact new version (releasekit decides it)
with a parse/serialize override that takes the version as one verbatim part, so 2.0.0rc1 works
with the default `major.minor.patch` parse while the project's files, globs and search/replace
templates apply as configured. It never commits, tags or runs the project's hooks: git stays
with releasekit, and a hook that commits would break the release commit.
"""

from __future__ import annotations

import contextlib
import io
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from . import versionfiles
from .errors import VersionError

_OVERRIDES: dict[str, Any] = {
    "parse": r"(?P<release>.+)",
    "serialize": ("{release}",),
    "commit": False,
    "tag": False,
    "allow_dirty": True,
    "setup_hooks": [],
    "pre_commit_hooks": [],
    "post_commit_hooks": [],
}


def find_config(project: Path) -> Path | None:
    """`.bumpversion.toml`, or pyproject.toml with a [tool.bumpversion] table."""
    for name in (".bumpversion.toml", "pyproject.toml"):
        path = project / name
        if path.is_file() and "bumpversion" in _load(path).get("tool", {}):
            return path
    return None


def _load(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(versionfiles.read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise VersionError(f"{path.name} is not valid TOML: {exc}", f"fix the syntax of {path.name}") from exc


@contextlib.contextmanager
def _library(project: Path) -> Iterator[None]:
    # Its paths are relative to the working directory, and its console writes to stdout.
    sink = io.StringIO()
    with contextlib.chdir(project), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield


def _configuration(config_file: Path) -> Any:
    from bumpversion.config import get_configuration
    from bumpversion.exceptions import BumpVersionError

    try:
        with _library(config_file.parent):
            return get_configuration(config_file, **_OVERRIDES)
    except (BumpVersionError, ValueError) as exc:
        raise VersionError(
            f"bump-my-version cannot read {config_file.name}: {' '.join(str(exc).split())[:300]}",
            f"check [tool.bumpversion] in {config_file.name} (`bump-my-version show-bump` explains it)",
        ) from exc


@dataclass(frozen=True)
class BumpMyVersionSource:
    """The version in a bump-my-version config: its current_version plus every file it lists."""

    kind: ClassVar[str] = "bump-my-version"
    writes_files: ClassVar[bool] = True
    generated_files: ClassVar[tuple[Path, ...]] = ()
    project: Path
    config_file: Path
    version: str
    files: tuple[Path, ...]

    @classmethod
    def load(cls, project: Path, config_file: Path) -> BumpMyVersionSource:
        """Let bump-my-version resolve its files and globs, so `files` is what a bump rewrites."""
        from bumpversion.files import resolve_file_config

        config = _configuration(config_file)
        with _library(project):
            resolved = resolve_file_config(config.files_to_modify, config.version_config)
        if not config.current_version:
            raise VersionError(
                f"{config_file.name} [tool.bumpversion] has no current_version",
                'add current_version = "0.1.0" to [tool.bumpversion]',
            )
        files = [config_file, *(project / f.file_change.filename for f in resolved)]
        return cls(project, config_file, str(config.current_version), tuple(dict.fromkeys(files)))

    def describe(self) -> str:
        table = "[tool.bumpversion]" if self.config_file.name == "pyproject.toml" else self.config_file.name
        return f"bump-my-version ({table})"

    def write(self, new: str) -> tuple[Path, ...]:
        """bump-my-version rewrites its files and config to exactly `new`, all files or none."""
        from bumpversion.bump import do_bump
        from bumpversion.exceptions import BumpVersionError

        with versionfiles.all_or_nothing(self.files, "bump-my-version") as snapshot:
            config = _configuration(self.config_file)
            try:
                with _library(self.project):
                    do_bump(None, new, config, self.config_file, dry_run=False)
            except (BumpVersionError, ValueError, KeyError) as exc:
                raise VersionError(
                    f"bump-my-version could not write {new}: {' '.join(str(exc).split())[:300]}",
                    f"check that every file in [tool.bumpversion] still holds {self.version}",
                ) from exc
            unchanged = [p.name for p in self.files if new not in versionfiles.read_text(p)]
            if unchanged:
                raise VersionError(
                    f"bump-my-version did not write {new} into {', '.join(unchanged)}",
                    "check the search/replace of those files in [tool.bumpversion]",
                )
        return versionfiles.changed(snapshot)
