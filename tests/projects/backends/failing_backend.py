"""A build backend that fails on purpose: the build error path."""

from setuptools.build_meta import *  # noqa: F403


def build_sdist(sdist_directory, config_settings=None):
    raise RuntimeError("the backend broke on purpose")
