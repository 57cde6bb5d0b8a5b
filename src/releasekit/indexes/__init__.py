"""Package indexes: URLs, credentials, what an index holds, uploads, PyPI's rules, trusted publishing."""
