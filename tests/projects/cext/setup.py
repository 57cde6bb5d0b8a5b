"""Laid over tests/projects/sample: the same package with one C extension, so its wheel is linux_x86_64."""

# Modelled on: https://github.com/pallets/markupsafe (setup.py builds src/markupsafe/_speedups.c; the
# metadata is in pyproject.toml).

from setuptools import Extension, setup

setup(ext_modules=[Extension("{{import_name}}._speedups", ["src/{{import_name}}/_speedups.c"])])
