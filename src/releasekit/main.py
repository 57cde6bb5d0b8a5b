"""The `releasekit` command: the same task collection as an invoke Program of its own."""

from __future__ import annotations

import json
import os
from typing import Any

from invoke.config import Config
from invoke.exceptions import Exit
from invoke.program import Program
from invoke.util import yaml  # type: ignore[attr-defined]  # the YAML module invoke loads with

from releasekit import __version__
from releasekit.tasks import ns


def _unreadable(path: object, kind: str, exc: Exception) -> Exit:
    """A config file invoke cannot load, as the one-line error every other bad input gets."""
    mark = getattr(exc, "problem_mark", None)
    line = getattr(exc, "lineno", None) or (mark.line + 1 if mark is not None else None)
    where = f" (line {line})" if line else ""
    why = "is not UTF-8" if isinstance(exc, UnicodeDecodeError) else f"is not valid {kind}{where}"
    return Exit(f"error: config file {path} {why}; fix it or remove it", code=1)


class ReleasekitConfig(Config):
    """Config files named releasekit.yaml and RELEASEKIT_* environment variables.

    invoke lets a parse error of a config file escape as a traceback before any task runs; here
    it becomes invoke's own `Exit`, which Program.run prints as one line with exit code 1.
    """

    prefix = "releasekit"
    env_prefix = "RELEASEKIT"  # type: ignore[assignment]

    def _load_yaml(self, path: Any) -> Any:
        try:
            data = super()._load_yaml(path)
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise _unreadable(path, "YAML", exc) from None
        return _mapping(path, data)

    _load_yml = _load_yaml

    def _load_json(self, path: Any) -> Any:
        try:
            data = super()._load_json(path)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise _unreadable(path, "JSON", exc) from None
        return _mapping(path, data)


def _mapping(path: object, data: Any) -> Any:
    """An empty file is fine; anything but a mapping at the top cannot be merged into a config."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise Exit(f"error: config file {path} must hold a mapping (e.g. releasekit: ...)", code=1)
    return data


class ReleasekitProgram(Program):
    """Also reads releasekit.yaml in the current directory (the project), as the README promises.

    invoke loads a project config file only next to a tasks.py it found itself; this program
    brings its own collection, so the project is where the command runs.
    """

    def parse_collection(self) -> None:
        super().parse_collection()
        self.config.set_project_location(os.getcwd())
        self.config.load_project()


program = ReleasekitProgram(
    namespace=ns, version=__version__, name="releasekit", binary="releasekit", config_class=ReleasekitConfig
)
