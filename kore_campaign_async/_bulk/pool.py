"""A bounded worker pool: ``concurrency`` tasks pull items one at a time and handle them.

However many items there are, only ``concurrency`` tasks exist and only ``concurrency`` items
are pulled ahead of completion. A plain iterator is pulled with ``next()``, which never awaits,
so no lock is needed; an async iterator is advanced by one task at a time, under a lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
)
from typing import Any, TypeVar

T = TypeVar("T")


async def aiterate(items: Iterable[T] | AsyncIterable[T]) -> AsyncGenerator[T, None]:
    """Yield from a sync or an async iterable, lazily."""
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


async def drain(
    source: Iterator[T] | AsyncIterator[T],
    handle: Callable[[T], Awaitable[None]],
    *,
    concurrency: int,
    name: str,
) -> None:
    """Feed ``source`` to ``concurrency`` worker tasks running ``handle``; return when done.

    Workers are named ``{name}-{n}``. Each pulls its next item only after handling the last,
    so at most ``concurrency`` items are pulled ahead of completion. An error from ``handle``
    (or cancellation of the caller) cancels and awaits every worker, then propagates. An error
    from ``source`` stops the pulling; the items in flight finish, then the error propagates.
    """
    lock = asyncio.Lock()
    exhausted = False
    source_error: BaseException | None = None
    plain = source if isinstance(source, Iterator) else None

    async def worker() -> None:
        nonlocal exhausted, source_error
        while not exhausted:
            if plain is not None:
                # next() never awaits: no other worker can run until it returns.
                try:
                    item = next(plain)
                except StopIteration:
                    exhausted = True
                    return
                except Exception as exc:
                    exhausted, source_error = True, exc
                    return
            else:
                # One puller at a time: an async generator cannot be advanced by two tasks.
                async with lock:
                    if exhausted:
                        return
                    try:
                        item = await anext(source)  # type: ignore[arg-type]
                    except StopAsyncIteration:
                        exhausted = True
                        return
                    except Exception as exc:
                        exhausted, source_error = True, exc
                        return
            await handle(item)

    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(worker(), name=f"{name}-{n}") for n in range(concurrency)]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error
    finally:
        await cancel_and_wait(tasks)
    if source_error is not None:
        raise source_error


async def cancel_and_wait(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel ``tasks`` and wait until every one has ended, even if we are cancelled meanwhile."""
    pending = {task for task in tasks if not task.done()}
    for task in pending:
        task.cancel()
    cancelled = False
    while pending:
        try:
            _, pending = await asyncio.wait(pending)
        except asyncio.CancelledError:
            cancelled = True  # finish the clean-up first, then honour the cancellation
    if cancelled:
        raise asyncio.CancelledError
