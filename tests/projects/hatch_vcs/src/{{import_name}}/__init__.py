"""{{name}}: the version comes from the git tag, through the generated _version.py."""

from ._version import __version__
