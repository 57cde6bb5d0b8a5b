"""{{name}}: poetry keeps the version in pyproject.toml only."""
