"""{{name}}: a tiny package that releasekit's tests build and install."""

__version__ = "{{version}}"
