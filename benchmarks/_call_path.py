"""Count the SDK functions one ``create`` crosses: ``python -m benchmarks._call_path``.

A profile hook (``sys.setprofile``) sees every Python function called while one create runs
against the fake server in this process, after a warm-up create has opened the connection and
signed the token. Counted: the distinct functions (code objects) whose file lives in the
package, the fake server's own (``kore_campaign_async/testing``) left out, and their modules.
Library code (aiohttp, cattrs and the functions it generates, tenacity, attrs) is not counted.

The count is split in two:

- decoding hooks: the converter's functions that run below ``ModelDecoder`` (the model's
  hook and the field hooks it calls); their number follows the fields of the answer;
- request path: everything else, from ``ContactLists.create`` to the ``ModelDecoder`` itself.

Also printed: the SDK coroutine frames nested at the deepest await, where the create waits for
the answer: read from the awaiting chain of the create's task (``cr_await``) while the fake
server handles the request, with the chain.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import attrs

import kore_campaign_async as kca
from kore_campaign_async._http.responses import ModelDecoder
from kore_campaign_async._wire import converter as converter_module
from kore_campaign_async.testing import FakeKoreServer

_PACKAGE = Path(kca.__file__).resolve().parent
_SKIP = _PACKAGE / "testing"
_DECODER = ModelDecoder.__call__.__code__
_CONVERTER = converter_module.__file__


@attrs.define
class CallPath:
    """What one create crossed."""

    request_path: set[CodeType] = attrs.field(factory=set)
    decoding_hooks: set[CodeType] = attrs.field(factory=set)
    deepest: list[CodeType] = attrs.field(factory=list)
    """The SDK coroutines the create waits in while the server answers, outermost first."""


def _ours(code: CodeType) -> bool:
    path = Path(code.co_filename)
    return path.is_relative_to(_PACKAGE) and not path.is_relative_to(_SKIP)


def _in_fake_server(code: CodeType) -> bool:
    return Path(code.co_filename).is_relative_to(_SKIP)


#: Where a coroutine, async generator or generator keeps its frame and what it awaits.
_FRAME_AND_AWAITED = (
    ("cr_frame", "cr_await"),
    ("ag_frame", "ag_await"),
    ("gi_frame", "gi_yieldfrom"),
)


def _awaiting(task: asyncio.Task[Any]) -> list[CodeType]:
    """Return the code of each coroutine ``task`` waits in, outermost first."""
    codes: list[CodeType] = []
    waiting: Any = task.get_coro()
    while waiting is not None:
        for frame_attr, awaited_attr in _FRAME_AND_AWAITED:
            if getattr(waiting, frame_attr, None) is not None:
                codes.append(getattr(waiting, frame_attr).f_code)
                waiting = getattr(waiting, awaited_attr)
                break
        else:  # a Future or a C-level awaitable: the bottom of the chain
            break
    return codes


def _callers(frame: FrameType) -> Iterable[CodeType]:
    caller = frame.f_back
    while caller is not None:
        yield caller.f_code
        caller = caller.f_back


async def crossed() -> CallPath:
    """Return the package functions one create (after a warm-up) calls."""
    found = CallPath()
    task = asyncio.current_task()

    def hook(frame: FrameType, event: str, _arg: Any) -> None:
        code = frame.f_code
        if event != "call":
            return
        if _ours(code):
            below_decoder = any(caller is _DECODER for caller in _callers(frame))
            if below_decoder and code.co_filename == _CONVERTER:
                found.decoding_hooks.add(code)
            else:
                found.request_path.add(code)
        elif task is not None and _in_fake_server(code):
            # The server is answering: the create waits at its deepest await meanwhile.
            nested = [c for c in _awaiting(task) if _ours(c)]
            if len(nested) > len(found.deepest):
                found.deepest = nested

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
    return found


def _name(code: CodeType) -> str:
    return getattr(code, "co_qualname", code.co_name)


def _by_module(title: str, codes: set[CodeType]) -> None:
    modules = Counter(Path(code.co_filename).relative_to(_PACKAGE.parent) for code in codes)
    print(f"{title}: {len(codes)} functions in {len(modules)} modules")
    for module, count in sorted(modules.items()):
        names = sorted(_name(c) for c in codes if c.co_filename.endswith(str(module)))
        print(f"{count:5d}  {module}: {', '.join(names)}")


def main() -> None:
    found = asyncio.run(crossed())
    _by_module("request path", found.request_path)
    # A function also called outside the decoder counts once, on the request path.
    _by_module("decoding hooks", found.decoding_hooks - found.request_path)
    every = found.request_path | found.decoding_hooks
    modules = {code.co_filename for code in every}
    print(f"{len(every)} functions in {len(modules)} modules")
    chain = " -> ".join(_name(code) for code in found.deepest)
    print(f"{len(found.deepest)} nested SDK coroutine frames at the deepest await: {chain}")


if __name__ == "__main__":
    main()
