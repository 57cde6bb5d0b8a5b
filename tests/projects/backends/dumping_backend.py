"""A build backend that writes the environment each hook was given to $RK_ENV_DUMP."""

import json
import os

from setuptools import build_meta as _orig
from setuptools.build_meta import *  # noqa: F403


def _dump(hook):
    path = os.environ["RK_ENV_DUMP"]
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps({"hook": hook, "env": dict(os.environ)}) + "\n")


def build_sdist(sdist_directory, config_settings=None):
    _dump("build_sdist")
    return _orig.build_sdist(sdist_directory, config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _dump("build_wheel")
    return _orig.build_wheel(wheel_directory, config_settings, metadata_directory)
