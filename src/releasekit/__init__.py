"""releasekit: one command from "version in the files" to "installed from PyPI", safely."""

from __future__ import annotations

__version__ = "0.1.0"
