"""What the tests share: plain functions and classes, imported as `tests.support.<module>`.

Fixtures live in conftest.py; a test module never imports another test module.
"""
