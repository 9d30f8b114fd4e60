"""Bulk creation: a fixed pool of workers, one outcome per input item.

``create_many`` never holds more than ``concurrency`` items in flight nor starts more than
``concurrency`` tasks, whatever the number of items: each worker pulls its next item only after
finishing the last. One item failing never cancels the others; it becomes a "failed" outcome.
A failure that concerns the account (see ``halt``) stops the sending for the rest of the job.

Two forms: ``create_many`` returns a report of every outcome in input order;
``create_many_iter`` hands each outcome out as it ends and keeps nothing per item.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Awaitable,
    Callable,
    Iterator,
)
from typing import NamedTuple

import attrs

from .._config import ApiVersion
from .._exceptions import ValidationError
from .._wire.models import ContactList, ContactListCreate, name_key
from .._wire.validation import check_positive_int
from .halt import AccountHalt
from .operations import IfExists, ListOperations
from .outcomes import CreateReport, Outcome, OutcomeSlots, ReportCallback, failed_outcome
from .pool import cancel_and_wait, drain
from .specs import ContactListSpecs, SpecInput, check_items, raw_name, to_spec

Emit = Callable[[Outcome], Awaitable[None]]


class _Item(NamedTuple):
    """One input item, converted and checked as it is pulled (so in input order)."""

    position: int
    """Where the item stands in the input (``index`` is taken by tuple)."""
    name: str
    spec: ContactListCreate | None
    error: ValidationError | None


class _Preparer:
    """Number the inputs and check each; a bad spec (or, if asked, a repeated name) fails it."""

    def __init__(self, *, check_repeats: bool) -> None:
        self.names: dict[str, int] | None = {} if check_repeats else None
        """The position that first used each name key (Kore compares names without case)."""
        self._count = 0

    def __call__(self, raw: object) -> _Item:
        position = self._count
        self._count += 1
        try:
            spec = to_spec(raw, f"items[{position}]")
        except ValidationError as exc:
            return _Item(position, raw_name(raw), None, exc)
        name = spec.name
        if self.names is not None:
            first = self.names.setdefault(name_key(name), position)
            if first != position:
                message = f"duplicate of item {first} ({name!r}); not sent"
                error = ValidationError(f"items[{position}].name", message)
                return _Item(position, name, None, error)
        return _Item(position, name, spec, None)


def _prepared(
    items: ContactListSpecs, prepare: _Preparer
) -> Iterator[_Item] | AsyncGenerator[_Item, None]:
    """Return the prepared items, lazily: a plain iterator for a plain iterable."""
    if isinstance(items, AsyncIterable):
        return _aprepared(items, prepare)
    return map(prepare, items)


async def _aprepared(
    items: AsyncIterable[SpecInput], prepare: _Preparer
) -> AsyncGenerator[_Item, None]:
    async for raw in items:
        yield prepare(raw)


def _check_arguments(items: object, concurrency: int, if_exists: object) -> None:
    check_positive_int("concurrency", concurrency)
    check_items(items, "items")
    if if_exists not in ("error", "adopt"):
        raise ValidationError("if_exists", f"must be 'error' or 'adopt', got {if_exists!r}")


def created_outcome(
    index: int, account_id: str, name: str, created: ContactList, *, keep_result: bool
) -> Outcome:
    """Return the outcome of an item whose create returned ``created``."""
    meta = created.meta
    adopted = meta is not None and meta.adopted
    return Outcome(
        index=index,
        account_id=account_id,
        name=name,
        action="create",
        status="adopted" if adopted else "created",
        list_id=created.id,
        attempts=meta.attempts if meta is not None else 0,
        reason="a list of that name already existed" if adopted else None,
        contact_list=created if keep_result else None,
    )


def cancelled_outcome(
    index: int, account_id: str, name: str, cancelled: asyncio.CancelledError
) -> Outcome:
    """Return the outcome of an item whose create was cancelled in flight."""
    attempts: int = getattr(cancelled, "attempts", 0)
    reason = (
        "cancelled after it was sent: the list may have been created (running the job again "
        "adopts it)"
        if attempts
        else "cancelled before it was sent: not created"
    )
    return Outcome(
        index=index,
        account_id=account_id,
        name=name,
        action="create",
        status="failed",
        attempts=attempts,
        error=cancelled,
        reason=reason,
    )


@attrs.frozen
class _Job:
    """One bulk creation: which lists, where, and how."""

    lists: ListOperations
    items: ContactListSpecs
    concurrency: int
    if_exists: IfExists
    api_version: ApiVersion | None
    keep_results: bool

    async def run(
        self,
        emit: Emit,
        *,
        check_repeats: bool,
        on_cancel: Callable[[Outcome], None] | None = None,
    ) -> None:
        """Create every item with ``concurrency`` workers; ``emit`` each outcome as it ends.

        If the job is cancelled, each create in flight is handed to ``on_cancel`` (which must
        not suspend) as "failed", saying whether it may have been applied, before the
        cancellation propagates.
        """
        lists, account_id = self.lists, self.lists.account_id
        halt = AccountHalt(account_id)

        async def handle(item: _Item) -> None:
            spec = item.spec
            outcome: Outcome | None
            if spec is None:
                assert item.error is not None  # _Preparer sets exactly one of them
                outcome = failed_outcome(
                    index=item.position,
                    account_id=account_id,
                    name=item.name,
                    action="create",
                    error=item.error,
                )
            else:
                outcome = halt.not_sent(
                    index=item.position, account_id=account_id, name=item.name, action="create"
                )
            if outcome is None:
                assert spec is not None
                try:
                    created = await lists.create(
                        spec, if_exists=self.if_exists, api_version=self.api_version
                    )
                except asyncio.CancelledError as cancelled:
                    if on_cancel is not None:
                        gone = cancelled_outcome(item.position, account_id, item.name, cancelled)
                        on_cancel(gone)
                    raise
                except Exception as exc:  # every item ends as an outcome; cancellation propagates
                    halt.note(exc, item.name)
                    outcome = failed_outcome(
                        index=item.position,
                        account_id=account_id,
                        name=item.name,
                        action="create",
                        error=exc,
                    )
                else:
                    outcome = created_outcome(
                        item.position, account_id, item.name, created, keep_result=self.keep_results
                    )
            await emit(outcome)

        source = _prepared(self.items, _Preparer(check_repeats=check_repeats))
        try:
            await drain(source, handle, concurrency=self.concurrency, name="kore-create-many")
        finally:
            if isinstance(source, AsyncGenerator):
                with contextlib.suppress(Exception):
                    await source.aclose()


async def create_many(
    lists: ListOperations,
    items: ContactListSpecs,
    *,
    concurrency: int,
    if_exists: IfExists = "adopt",
    on_outcome: ReportCallback | None = None,
    api_version: ApiVersion | None = None,
    keep_results: bool = False,
) -> CreateReport:
    """Create every list of ``items``; return every outcome, in input order.

    A bad spec or a name repeated (any case) within ``items`` fails that item without sending
    it; the other items go on. ``keep_results`` keeps each created or adopted ``ContactList``
    on its outcome (``outcome.contact_list``); by default an outcome keeps its ``list_id``
    only. An exception raised by ``on_outcome`` stops the job and propagates. If ``items``
    itself raises, the items in flight finish and the error propagates. If the job is
    cancelled, ``on_outcome`` has seen every item that ended and, before the cancellation
    propagates, each create in flight as "failed": sent ("the list may have been created",
    ``attempts`` > 0) or not; running the job again completes it.
    """
    _check_arguments(items, concurrency, if_exists)
    results = OutcomeSlots()

    def keep(outcome: Outcome) -> None:
        results.put(outcome)
        if on_outcome is not None:
            on_outcome(outcome)

    async def record(outcome: Outcome) -> None:  # never suspends: no item is pulled meanwhile
        keep(outcome)

    job = _Job(lists, items, concurrency, if_exists, api_version, keep_results)
    await job.run(record, check_repeats=True, on_cancel=keep)
    return CreateReport(lists.account_id, results.freeze())


class _End(NamedTuple):
    """The last thing a streaming job hands over: how it ended."""

    error: Exception | None


def create_many_iter(
    lists: ListOperations,
    items: ContactListSpecs,
    *,
    concurrency: int,
    if_exists: IfExists = "adopt",
    api_version: ApiVersion | None = None,
    keep_results: bool = False,
) -> AsyncGenerator[Outcome, None]:
    """Create every list of ``items``; yield each outcome as it ends (not in input order).

    Nothing is kept per item, so memory stays flat however many items there are; workers
    wait while ``concurrency`` outcomes are not yet taken. Names are not compared across the
    input (that would keep one entry per item): a repeated name is created again, so it is
    adopted (``if_exists="adopt"``) or fails with ConflictError. Closing the generator
    (``contextlib.aclosing`` does it on break) or cancelling the loop stops the job: items in
    flight are cancelled, nothing more is sent. Bad arguments raise ValidationError here,
    before anything is sent.
    """
    _check_arguments(items, concurrency, if_exists)
    return _stream(_Job(lists, items, concurrency, if_exists, api_version, keep_results))


async def _stream(job: _Job) -> AsyncGenerator[Outcome, None]:
    handed: asyncio.Queue[Outcome | _End] = asyncio.Queue(maxsize=job.concurrency)

    async def produce() -> None:
        end = _End(None)
        try:
            await job.run(handed.put, check_repeats=False)
        except Exception as exc:  # handed to the consumer, after the outcomes before it
            end = _End(exc)
        await handed.put(end)

    task = asyncio.get_running_loop().create_task(produce(), name="kore-create-many-stream")
    try:
        while not isinstance(got := await handed.get(), _End):
            yield got
        if got.error is not None:
            raise got.error
    finally:
        await cancel_and_wait([task])
