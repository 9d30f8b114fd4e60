"""What the installed package promises about itself: one version, and a light import."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import kore_campaign_async as kca
from kore_campaign_async._config import USER_AGENT


def test_one_version_for_the_metadata_the_module_and_the_user_agent() -> None:
    assert kca.__version__ == metadata.version("kore_campaign_async")
    assert f"kore_campaign_async/{kca.__version__}" == USER_AGENT


def test_importing_the_package_leaves_opentelemetry_and_importlib_metadata_unimported() -> None:
    # A fresh interpreter: this one has imported both already.
    script = (
        "import sys, kore_campaign_async, kore_campaign_async.testing\n"
        "print(sorted(name for name in sys.modules\n"
        "             if name.split('.')[0] == 'opentelemetry' or name == 'importlib.metadata'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")
