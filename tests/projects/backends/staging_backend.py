"""A build backend that leaves setuptools' staging folder and then hangs, while a flag file exists."""

import os, time
from setuptools.build_meta import *  # noqa: F403
from setuptools import build_meta as _setuptools


def _dist():
    # the project's import name, as setuptools names its staging folder
    return os.path.basename(os.getcwd()).split("-copy-")[0].replace("-", "_")


def build_sdist(sdist_directory, config_settings=None):
    flag = os.environ.get("SLOW_BUILD_FLAG")
    if flag and os.path.exists(flag):
        os.makedirs(f"{_dist()}-1.4.3/src", exist_ok=True)  # what setuptools stages in the project root
        with open(f"{_dist()}-1.4.3/PKG-INFO", "w") as fh:
            fh.write("Metadata-Version: 2.4\n")
        time.sleep(120)
    return _setuptools.build_sdist(sdist_directory, config_settings)
