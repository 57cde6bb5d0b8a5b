"""The `releasekit` command: the same task collection as an invoke Program of its own."""

from __future__ import annotations

from invoke.config import Config
from invoke.program import Program

from . import __version__
from .tasks import ns


class ReleasekitConfig(Config):
    """Config files named releasekit.yaml and RELEASEKIT_* environment variables."""

    prefix = "releasekit"
    env_prefix = "RELEASEKIT"  # type: ignore[assignment]


program = Program(
    namespace=ns, version=__version__, name="releasekit", binary="releasekit", config_class=ReleasekitConfig
)
