__version__ = "{{version}}"
