from setuptools import setup

setup(
    name="{{name}}",
    version="{{version}}",
    description="A bump2version sample project.",
    long_description=open("README.rst", encoding="utf-8").read(),
    long_description_content_type="text/x-rst",
    packages=["{{import_name}}"],
    package_dir={"": "src"},
)
