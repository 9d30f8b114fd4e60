"""Helpers shared by the tests: fixtures (loaded through ``pytest_plugins`` in the root
conftest) and the types, constants and functions tests import from here."""
