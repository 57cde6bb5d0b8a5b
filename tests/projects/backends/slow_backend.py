"""A build backend that takes two minutes: room for a signal mid-build."""

import time
from setuptools.build_meta import *  # noqa: F403
from setuptools import build_meta as _setuptools


def build_sdist(sdist_directory, config_settings=None):
    time.sleep(120)
    return _setuptools.build_sdist(sdist_directory, config_settings)
