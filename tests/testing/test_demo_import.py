"""The fake server stands alone: importing ``kore_campaign_async.testing`` loads neither the demo
nor rich (the ``cli`` extra), so tests need nothing beyond the test dependencies."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
sys.modules["rich"] = None  # as if the cli extra were not installed: importing it fails
import kore_campaign_async.testing
from kore_campaign_async.testing import FakeKoreServer, MockTransport
assert "kore_campaign_async.testing.demo" not in sys.modules
assert "kore_campaign_async.cli" not in sys.modules
"""


def test_the_fake_server_imports_without_the_demo_or_rich() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_demo_needs_rich_and_says_so_by_import_error() -> None:
    check = 'import sys\nsys.modules["rich"] = None\nimport kore_campaign_async.testing.demo\n'
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "rich" in done.stderr
