"""Where a project keeps its version, and PEP 440 arithmetic on it: one module per family of sources."""
