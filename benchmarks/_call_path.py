"""Count the SDK functions one ``create`` crosses: ``python -m benchmarks._call_path``.

A profile hook (``sys.setprofile``) sees every Python function called while one create runs
against the fake server in this process, after a warm-up create has opened the connection and
signed the token. Counted: the distinct functions (code objects) whose file lives in the
package, the fake server's own (``kore_campaign_async/testing``) left out, and their modules.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import kore_campaign_async as kca
from kore_campaign_async.testing import FakeKoreServer

_PACKAGE = Path(kca.__file__).resolve().parent
_SKIP = _PACKAGE / "testing"


async def crossed() -> set[CodeType]:
    """Return the package functions one create (after a warm-up) calls."""
    seen: set[CodeType] = set()

    def hook(frame: FrameType, event: str, _arg: Any) -> None:
        if event == "call":
            seen.add(frame.f_code)

    async with (
        FakeKoreServer() as server,
        kca.CampaignClient(
            server.url,
            client_id=server.client_id,
            client_secret=server.client_secret,
            rate_limit=None,
        ) as client,
    ):
        lists = client.account("acct-1", iid="st-1").contact_lists
        await lists.create("Warm-up")
        sys.setprofile(hook)
        try:
            await lists.create("Counted")
        finally:
            sys.setprofile(None)
    return {
        code
        for code in seen
        if Path(code.co_filename).is_relative_to(_PACKAGE)
        and not Path(code.co_filename).is_relative_to(_SKIP)
    }


def main() -> None:
    codes = asyncio.run(crossed())
    modules = Counter(Path(code.co_filename).relative_to(_PACKAGE.parent) for code in codes)
    for module, count in sorted(modules.items()):
        names = sorted(
            getattr(c, "co_qualname", c.co_name)
            for c in codes
            if c.co_filename.endswith(str(module))
        )
        print(f"{count:3d}  {module}: {', '.join(names)}")
    print(f"{len(codes)} functions in {len(modules)} modules")


if __name__ == "__main__":
    main()
