"""{{name}}: uv_build reads the static [project] version."""


def hello() -> str:
    return "Hello from {{name}}!"
