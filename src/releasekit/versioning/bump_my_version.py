"""bump-my-version configurations (`[tool.bumpversion]`, `.bumpversion.toml`); the only owner of the tool.

bump-my-version and bump2version (a spine library, in releasekit's own environment) both install
the top-level package `bumpversion`, so they cannot share one environment: bump-my-version runs
from a cached environment of its own (made once, like a build environment) through its command
line, only for projects that have such a config.

It writes with `replace`, not `bump`: `bump` always runs the project's setup, pre-commit and
post-commit hooks (no option turns them off; its config keys win over BUMPVERSION_* variables),
while `replace` never commits, tags or runs a hook. It takes the version as one verbatim part
(`--parse '(?P<release>.+)'`), so releasekit's exact version (2.0.0rc1) is written even with the
default `major.minor.patch` parse, while the project's files, globs and search/replace templates
apply as configured. `replace` leaves the config alone, so the two literals `bump` would then
update by key (`current_version`, and a static `[project] version` in the same pyproject.toml)
are rewritten here, in place, as a static version is.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from releasekit.dists import tools
from releasekit.errors import VersionError
from releasekit.versioning import literals

REQUIREMENT = "bump-my-version>=1.8,<2"


TIMEOUT = 120.0


_VERBATIM = ("--parse", "(?P<release>.+)", "--serialize", "{release}")


# What its own commands resolve (globs expanded, per-file settings filled in); the CLI has no
# command that lists the resolved files, so this asks its library, in its own interpreter.
_READ = """
import json, sys
from bumpversion.config import get_configuration
config = get_configuration(sys.argv[1])
print(json.dumps({
    "current_version": config.current_version,
    "files": sorted({f.filename for f in config.files_to_modify}),
    "ignore_missing_version": config.ignore_missing_version,
    "ignore_missing_files": config.ignore_missing_files,
}))
"""


def find_config(project: Path) -> Path | None:
    """`.bumpversion.toml`, or pyproject.toml with a [tool.bumpversion] table."""
    for name in (".bumpversion.toml", "pyproject.toml"):
        path = project / name
        if path.is_file() and "bumpversion" in _load(path).get("tool", {}):
            return path
    return None


def _load(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(literals.read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise VersionError(f"{path.name} is not valid TOML: {exc}", f"fix the syntax of {path.name}") from exc


def _run(project: Path, what: str, args: list[str]) -> str:
    """Run bump-my-version in `project` from its own environment; a failure is one VersionError line."""
    return tools.run_tool(
        REQUIREMENT,
        args,
        cwd=project,
        what=f"bump-my-version {what}",
        error=VersionError,
        hint="check [tool.bumpversion] (`bump-my-version show-bump` explains it)",
        timeout=TIMEOUT,
        drop_prefix="BUMPVERSION_",
    ).stdout


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
    flags: tuple[str, ...] = ()  # the config's ignore-missing settings, which `replace` drops

    @classmethod
    def load(cls, project: Path, config_file: Path) -> BumpMyVersionSource:
        """Let bump-my-version resolve its files and globs, so `files` is what a bump rewrites."""
        found = json.loads(
            _run(project, f"cannot read {config_file.name}", ["-c", _READ, str(config_file)]).splitlines()[-1]
        )
        if not found["current_version"]:
            raise VersionError(
                f"{config_file.name} [tool.bumpversion] has no current_version",
                'add current_version = "0.1.0" to [tool.bumpversion]',
            )
        files = [config_file, *(project / f for f in found["files"])]
        keys = ("ignore_missing_version", "ignore_missing_files")
        flags = tuple(f"--{k.replace('_', '-')}" for k in keys if found[k])
        return cls(project, config_file, str(found["current_version"]), tuple(dict.fromkeys(files)), flags)

    def describe(self) -> str:
        table = "[tool.bumpversion]" if self.config_file.name == "pyproject.toml" else self.config_file.name
        return f"bump-my-version ({table})"

    def write(self, new: str) -> tuple[Path, ...]:
        """bump-my-version rewrites its files to exactly `new`, then the config follows; all or none."""
        args = ["-m", "bumpversion", "replace", "--config-file", str(self.config_file), "--allow-dirty"]
        args += ["--current-version", self.version, "--new-version", new, *_VERBATIM, *self.flags]
        with literals.all_or_nothing(self.files, "bump-my-version") as snapshot:
            _run(self.project, f"could not write {new}", args)
            # What `bump` updates after the files; already done where a file's search covered it.
            keys = [("tool.bumpversion", "current_version")]
            if self.config_file.name == "pyproject.toml":
                keys.append(("project", "version"))
            found = [literals.toml_string(self.config_file, table, key) for table, key in keys]
            literals.rewrite([f for f in found if f is not None and f.value == self.version], new)
            unchanged = [p.name for p in self.files if new not in literals.read_text(p)]
            if unchanged:
                raise VersionError(
                    f"bump-my-version did not write {new} into {', '.join(unchanged)}",
                    "check the search/replace of those files in [tool.bumpversion]",
                )
        return literals.changed(snapshot)
