"""{{name}}: a tiny package that releasekit's tests publish and then import."""

__version__ = "{{version}}"


def greet(name: str = "world") -> str:
    """Return a greeting that names this package's version, to prove the right one installed."""
    return f"Hello, {name}, from {{name}} {__version__}!"
