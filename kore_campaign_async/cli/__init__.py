"""``kore-campaign``: the command-line tool (``python -m kore_campaign_async``).

rich draws its tables and progress bars; it is the ``cli`` extra, so the SDK never needs it and
this package imports it only once a command is about to run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ._exit import USAGE
from ._parser import build_parser

__all__ = ["main"]

MISSING_RICH = (
    "kore-campaign: error: the command-line tool needs rich; "
    "install kore_campaign_async[cli] (pip install 'kore_campaign_async[cli]')"
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``kore-campaign`` with ``argv`` (default: the process arguments); return the status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "verbose", 0) and getattr(args, "quiet", 0):
        parser.error("-v/--verbose and -q/--quiet cannot be used together")  # exits 2
    try:
        import rich  # noqa: F401  # only checks that the cli extra is installed
    except ImportError:
        print(MISSING_RICH, file=sys.stderr)
        return USAGE
    from ._app import run

    return run(args, os.environ)
