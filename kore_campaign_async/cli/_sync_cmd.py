"""``kore-campaign sync FILE``: check the whole file, then plan and apply it per account."""

from __future__ import annotations

import argparse
import contextlib
from typing import IO

from rich.console import Console

from ._apply import Confirm, SyncJob, run_sync
from ._commands import open_client
from ._config import Settings
from ._exit import UsageError
from ._input import Defaults, read_input
from ._report import ReportWriter


def _open_report(path: str) -> IO[str]:
    """Open the report before any request, so a bad path costs nothing."""
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write --report {path}: {exc.strerror}") from None


async def cmd_sync(
    args: argparse.Namespace, settings: Settings, out: Console, err: Console, confirm: Confirm
) -> int:
    """Run the sync command; InputFileError and UsageError mean nothing was sent."""
    defaults = Defaults(settings.account_id, settings.iid, settings.stream_id)
    groups = read_input(args.file, defaults)
    async with open_client(settings) as client:
        with contextlib.ExitStack() as stack:
            writer = (
                ReportWriter(stack.enter_context(_open_report(args.report)))
                if args.report
                else None
            )
            targets = {
                client.account(key.account_id, iid=key.iid, stream_id=key.stream_id): specs
                for key, specs in groups.items()
            }
            job = SyncJob(targets=targets, prune=args.prune, dry_run=args.dry_run, yes=args.yes)
            result = await run_sync(client, job, out=out, err=err, confirm=confirm, report=writer)
    return result.status
