"""Exit statuses of ``kore-campaign`` and the error that ends a run with a usage message."""

from __future__ import annotations

from typing import Final

OK: Final = 0
#: Something was attempted and failed (an item, a request, a verification).
FAILED: Final = 1
#: Bad flags, configuration or input file: nothing was sent.
USAGE: Final = 2
#: Interrupted by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED: Final = 130
#: Stopped by SIGTERM (128 + 15), as shells report it: a supervisor (systemd, Kubernetes, a CI
#: runner) sees "terminated on request", not a failure of the job and not a person's Ctrl-C.
TERMINATED: Final = 143


class UsageError(Exception):
    """Bad flags, configuration or input: print the message and exit 2, having sent nothing."""
