"""``kore-campaign fake-server``: serve the fake Kore server until Ctrl-C, for another process.

It prints the URL and the credentials as ``export`` lines, so a shell, the CLI or an app under
test can be pointed at it; any account id and iid are accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from rich.console import Console

from kore_campaign_async.testing import FakeKoreServer, ServerRateLimit


async def cmd_fake_server(port: int, limit: int | None, window: float, out: Console) -> int:
    """Serve on ``port`` (0: a free one) until SIGINT or SIGTERM; return 0."""
    rate_limit = None if limit is None else ServerRateLimit(limit=limit, window=window)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    async with FakeKoreServer(port=port, rate_limit=rate_limit) as server:
        for signum in (signal.SIGINT, signal.SIGTERM):
            # Windows event loops take no signal handlers: Ctrl-C then interrupts as usual.
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        pace = (
            "no rate limit" if limit is None else f"{limit} requests per {window:g} s per account"
        )
        lines = [
            f"Fake Kore server on {server.url} ({pace}); Ctrl-C stops it.",
            f"export KORE_HOST={server.url}",
            f"export KORE_CLIENT_ID={server.client_id}",
            f"export KORE_CLIENT_SECRET={server.client_secret}",
            "Any account id and iid work, e.g. export KORE_ACCOUNT_ID=acct-1 KORE_IID=st-app-1",
        ]
        for line in lines:
            out.print(line, markup=False, highlight=False, soft_wrap=True)
        out.file.flush()
        try:
            await stop.wait()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.remove_signal_handler(signum)
    out.print("Fake Kore server stopped.", highlight=False)
    return 0
