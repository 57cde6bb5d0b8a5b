"""This repository's own tasks: releasekit releases itself with releasekit."""

from releasekit.tasks import ns

__all__ = ["ns"]
