# Modelled on: https://github.com/psf/requests (setup.py): setup.py-only, the version read from
# src/<pkg>/__version__.py.
import os

from setuptools import setup

here = os.path.abspath(os.path.dirname(__file__))
about = {}
with open(os.path.join(here, "src", "{{import_name}}", "__version__.py"), encoding="utf-8") as f:
    exec(f.read(), about)

setup(
    name="{{name}}",
    version=about["__version__"],
    description="A setup.py-only sample project.",
    long_description=open(os.path.join(here, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=["{{import_name}}"],
    package_dir={"": "src"},
    python_requires=">=3.9",
    # A pin equal to the version: a bump must leave it alone.
    extras_require={"pinned": ["companion=={{version}}"]},
)
