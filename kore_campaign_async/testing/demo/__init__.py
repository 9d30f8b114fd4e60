"""The demo behind ``kore-campaign demo``: the SDK against a fake Kore server, faults on.

``run_demo`` provisions accounts through a sync the caller runs (the CLI passes its own sync
command, progress bars and all); ``run_demo_processes`` runs worker processes on one account,
alone and then sharing a Redis. Both print with rich (the ``cli`` extra); importing
``kore_campaign_async.testing`` alone never loads this package, so the fake server needs no rich.
"""

from __future__ import annotations

from .processes import redis_for_demo, run_demo_processes
from .provision import DemoSettings, SyncRunner, run_demo

__all__ = ["DemoSettings", "SyncRunner", "redis_for_demo", "run_demo", "run_demo_processes"]
