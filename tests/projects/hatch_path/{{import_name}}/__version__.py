__title__ = "{{name}}"
__description__ = "A hatchling version-path sample project."
__version__ = "{{version}}"
