"""Every shared fixture and helper lives in ``tests/helpers/``, loaded here as plugins.

A test imports helpers (types, constants, functions) from ``tests.helpers.*`` and never from
another test module or a conftest; a folder's conftest holds only that folder's own fixtures.
"""

pytest_plugins = [
    "tests.helpers.aioresponses_compat",
    "tests.helpers.clients",
    "tests.helpers.e2e",
    "tests.helpers.network",
    "tests.helpers.redis",
    "tests.helpers.scripts",
]
