"""Laid over tests/projects/sample: the same package with one C extension, so its wheel is linux_x86_64."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("{{import_name}}._speedups", ["src/{{import_name}}/_speedups.c"])])
