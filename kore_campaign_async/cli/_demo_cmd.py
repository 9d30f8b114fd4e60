"""``kore-campaign demo``: the demo of ``kore_campaign_async.testing.demo``, shown by the CLI.

The demo itself lives with the fake server; the CLI gives it its own sync command (plans,
progress bars, summaries), so the demo shows exactly what a user of ``sync`` sees.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

from rich.console import Console

from kore_campaign_async import Account, CampaignClient, ContactListCreate
from kore_campaign_async.testing.demo import (
    DemoSettings,
    SyncRunner,
    run_demo,
    run_demo_processes,
)

from . import _exit
from ._apply import SyncJob, run_sync
from ._config import check_redis_url

#: Lists per process of ``--processes`` unless ``--lists`` says otherwise.
PROCESS_LISTS = 60


def _never_asked(_question: str) -> bool:
    return True  # the demo syncs with yes=True: its fake lists are its own to delete


def _syncer(out: Console, err: Console) -> SyncRunner:
    async def sync(
        client: CampaignClient,
        desired: Mapping[Account, Sequence[ContactListCreate]],
        title: str,
    ) -> bool:
        job = SyncJob(targets=desired, prune=True, yes=True)
        result = await run_sync(client, job, out=out, err=err, confirm=_never_asked, title=title)
        return result.status == _exit.OK

    return sync


async def cmd_demo(
    args: argparse.Namespace, env: Mapping[str, str], out: Console, err: Console
) -> int:
    """Run the demo the flags ask for; exit 0 only if nothing was lost, doubled or failed."""
    if args.processes is not None:
        redis_url = getattr(args, "redis_url", None) or env.get("KORE_REDIS_URL") or None
        if redis_url is not None:
            check_redis_url(redis_url)
        lists = PROCESS_LISTS if args.lists is None else args.lists
        ok = await run_demo_processes(args.processes, lists, args.window, redis_url, out)
    else:
        settings = DemoSettings(
            accounts=args.accounts,
            window=args.window,
            faults=not args.no_faults,
            seed=args.seed,
            **({} if args.lists is None else {"lists": args.lists}),
        )
        ok = await run_demo(settings, out, _syncer(out, err))
    return _exit.OK if ok else _exit.FAILED
