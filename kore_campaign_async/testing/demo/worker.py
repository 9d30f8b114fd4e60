"""One worker process of ``kore-campaign demo --processes``: create lists, print what happened.

Run as ``python -m kore_campaign_async.testing.demo.worker URL CLIENT_ID ACCOUNT IID COUNT WINDOW
[REDIS_URL]`` with the client secret on stdin (never on a command line other users can read).
It paces alone, or through the Redis at REDIS_URL, and prints one JSON line: the names it
created and how many items failed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterable

from kore_campaign_async import (
    CampaignClient,
    ContactListSpec,
    LimitStore,
    LocalLimitStore,
    RateLimit,
    RedisLimitStore,
)


async def work(argv: list[str], secret: str) -> dict[str, object]:
    """Create COUNT lists on the account; return the names created and the failures."""
    url, client_id, account_id, iid, count, window, *rest = argv
    store: LimitStore = RedisLimitStore.from_url(rest[0]) if rest else LocalLimitStore()
    try:
        async with CampaignClient(
            url,
            client_id=client_id,
            client_secret=secret,
            rate_limit=RateLimit(60, per=float(window)),
            limit_store=store,
        ) as client:
            lists = client.account(account_id, iid=iid).contact_lists
            names: Iterable[ContactListSpec] = (
                {"name": f"{iid} list {index:04d}"} for index in range(int(count))
            )
            report = await lists.create_many(names)
    finally:
        await store.aclose()
    return {"created": [o.name for o in report.outcomes if o.ok], "failed": len(report.failed)}


def main() -> None:
    """Run one worker; the JSON line on stdout is its whole answer."""
    secret = sys.stdin.readline().strip()
    print(json.dumps(asyncio.run(work(sys.argv[1:], secret))))


if __name__ == "__main__":
    main()
