__title__ = "{{name}}"
__version__ = "{{version}}"
