"""One frozen Config from defaults, [tool.releasekit] and the task layer's overrides.

Every key has a declared default here and in the README; an unknown key is an error with a
"did you mean", because a typo in release config silently doing the default is how a release
goes to the wrong place.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, cast

from releasekit.errors import ConfigError


@dataclass(frozen=True)
class Config:
    """How a project releases. Keys are the kebab-case names of [tool.releasekit]."""

    tag_format: str = ""  # empty: follow the repository's existing tags, else v{version}
    remote: str = "origin"
    release_branch: str = ""  # empty: the branch the remote's HEAD names, else main/master
    test_repository: str = "testpypi"
    repository: str = "pypi"
    commit_message: str = "Release {version}"
    tag_message: str = "Release {version}"
    verify: bool = True
    timeout: float = 60.0
    simple_index: dict[str, str] = field(default_factory=dict)
    changelog: str = "CHANGELOG.md"  # empty: no changelog handling
    post_release: str = ""  # "dev": after a live release, move the files on to the next .dev0
    pypi_rules: str | bool = "auto"  # PyPI's upload rules: "auto" (PyPI/TestPyPI uploads), true, false
    trusted_publishing: str = "auto"  # "auto" (no credentials, on CI), "always" or "never"
    strict_check: bool = False  # twine check warnings stop the release too (PyPI accepts them)

    def tag_for(self, version: str) -> str:
        """The tag of a version by the configured format (the observed state knows the auto one)."""
        return (self.tag_format or "v{version}").format(version=version)


_TYPES: dict[str, type | tuple[type, ...]] = {
    "tag_format": str,
    "remote": str,
    "release_branch": str,
    "test_repository": str,
    "repository": str,
    "commit_message": str,
    "tag_message": str,
    "verify": bool,
    "timeout": (int, float),
    "simple_index": dict,
    "changelog": str,
    "post_release": str,
    "pypi_rules": (bool, str),
    "trusted_publishing": str,
    "strict_check": bool,
}
KEYS = tuple(f.name.replace("_", "-") for f in fields(Config))


def _typo_hint(key: str) -> str:
    close = difflib.get_close_matches(key, KEYS, n=1)
    return f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(KEYS)}"


def _normalise(raw: dict[str, Any], origin: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in raw.items():
        attr = key.replace("-", "_")
        if attr not in _TYPES:
            raise ConfigError(f"unknown key '{key}' in {origin}", _typo_hint(key))
        expected = _TYPES[attr]
        if not isinstance(value, expected) or (attr == "timeout" and isinstance(value, bool)):
            raise ConfigError(f"'{key}' in {origin} has the wrong type ({type(value).__name__})")
        values[attr] = float(cast("float", value)) if attr == "timeout" else value
    if values.get("post_release", "") not in ("", "dev"):
        raise ConfigError(
            f'\'post-release\' in {origin} must be "dev" or ""', "dev: bump to X.Y.Z.dev0 after"
        )
    if values.get("pypi_rules", "auto") not in (True, False, "auto"):
        raise ConfigError(
            f"'pypi-rules' in {origin} must be true, false or \"auto\"",
            "auto: check PyPI's upload rules for uploads to PyPI and TestPyPI",
        )
    if values.get("trusted_publishing", "auto") not in ("auto", "always", "never"):
        raise ConfigError(
            f'\'trusted-publishing\' in {origin} must be "auto", "always" or "never"',
            "auto: mint a token on CI for an index that has no stored credentials",
        )
    table = values.get("simple_index", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
        raise ConfigError(f"'simple-index' in {origin} must map repository names or URLs to URL strings")
    if not 0 < values.get("timeout", 1) < math.inf:  # nan fails both comparisons
        raise ConfigError(f"'timeout' in {origin} must be a positive number of seconds, e.g. 60")
    if "{version}" not in values.get("tag_format", "{version}"):
        raise ConfigError(f"'tag-format' in {origin} must contain {{version}}")
    for attr in ("tag_format", "commit_message", "tag_message"):
        _check_format(attr, values, origin)
    return values


def _check_format(attr: str, values: dict[str, Any], origin: str) -> None:
    """A format string that only release time would trip over ({ver}, {0}, a lone brace) fails now."""
    if attr not in values:
        return
    try:
        values[attr].format(version="0")
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        key = attr.replace("_", "-")
        raise ConfigError(
            f"'{key}' in {origin} is not a valid format ({values[attr]!r})",
            "only {version} is known; write a literal brace as {{ or }}",
        ) from exc


def read_pyproject(project: Path) -> dict[str, Any]:
    """Parse pyproject.toml; a syntax error names the file instead of a parser traceback."""
    path = project / "pyproject.toml"
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"pyproject.toml is not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"pyproject.toml is not UTF-8 (line {line})",
            "save it as UTF-8, as TOML requires",
        ) from exc


def load_config(project: Path, overrides: dict[str, Any] | None = None) -> Config:
    """Defaults, then [tool.releasekit], then overrides (invoke config, task flags)."""
    tool = read_pyproject(project).get("tool", {})
    table = tool.get("releasekit", {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise ConfigError("[tool.releasekit] in pyproject.toml must be a table")
    values = _normalise(table, "[tool.releasekit]")
    values.update(_normalise(overrides or {}, "the releasekit settings"))
    return Config(**values)
