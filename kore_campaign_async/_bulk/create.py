"""Bulk creation: a fixed pool of workers, one outcome per input item, in input order.

``create_many`` never holds more than ``concurrency`` items in flight nor starts more than
``concurrency`` tasks, whatever the number of items: each worker pulls its next item only after
finishing the last. One item failing never cancels the others; it becomes a "failed" outcome.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from typing import Any, Final, Literal, NamedTuple, TypeVar

import attrs

from .._config import ApiVersion
from .._exceptions import ValidationError
from .._resources.contact_lists import ContactLists, IfExists
from .._wire.models import ContactList, ContactListCreate, name_key
from .._wire.validation import check_positive_int
from .pool import drain

T = TypeVar("T")

Action = Literal["create", "update", "delete", "none"]
Status = Literal[
    "created", "adopted", "updated", "deleted", "unchanged", "blocked", "failed", "planned"
]
#: The order statuses are listed in summaries.
STATUS_ORDER: Final[tuple[Status, ...]] = (
    "created",
    "adopted",
    "updated",
    "deleted",
    "unchanged",
    "planned",
    "blocked",
    "failed",
)
SpecInput = ContactListCreate | Mapping[str, Any]
"""A list spec: a ``ContactListCreate`` or a plain mapping (``ContactListCreate.from_mapping``)."""
SpecsInput = Iterable[SpecInput] | AsyncIterable[SpecInput]


@attrs.frozen(kw_only=True, hash=False)  # ContactList is unhashable
class Outcome:
    """How one item of a bulk operation ended."""

    index: int
    """Position of the item: in the input for create_many, in the plan for sync."""
    account_id: str
    name: str
    action: Action
    """What the item asked for; "none" for a list that is already as desired."""
    status: Status
    contact_list: ContactList | None = None
    """The list as it now is (created, adopted, updated, deleted, unchanged or blocked)."""
    error: BaseException | None = None
    """Why the item failed; a ValidationError when it was refused before sending."""
    attempts: int = 0
    """HTTP attempts spent on the item (0 when nothing was sent)."""
    reason: str | None = None
    """A human-readable why: the error, the changed fields, or why a change was blocked."""

    @property
    def ok(self) -> bool:
        """False only for "failed": a blocked change is a safety refusal, reported, not an error."""
        return self.status != "failed"


ReportCallback = Callable[[Outcome], None]
"""Called once per item as it ends, from the event loop: it must not block."""


def count_statuses(outcomes: Iterable[Outcome]) -> Counter[str]:
    """Count outcomes by status (a missing status counts 0)."""
    return Counter(outcome.status for outcome in outcomes)


def describe_counts(counts: Mapping[str, int], *, always: Iterable[str] = ("failed",)) -> str:
    """Return "3 created, 1 adopted, 0 failed": statuses present, plus those in ``always``."""
    shown = set(always)
    parts = [
        f"{counts.get(status, 0)} {status}"
        for status in STATUS_ORDER
        if counts.get(status, 0) or status in shown
    ]
    return ", ".join(parts)


@attrs.frozen(hash=False, repr=False)
class CreateReport:
    """What ``create_many`` did: one outcome per input item, in input order.

    Its repr is the summary: a report of 100,000 outcomes must not print them all.
    """

    account_id: str
    outcomes: tuple[Outcome, ...]

    @property
    def counts(self) -> Counter[str]:
        """Outcomes per status."""
        return count_statuses(self.outcomes)

    @property
    def ok(self) -> bool:
        """True when no item failed."""
        return all(outcome.ok for outcome in self.outcomes)

    @property
    def created(self) -> tuple[Outcome, ...]:
        return self._with("created")

    @property
    def adopted(self) -> tuple[Outcome, ...]:
        return self._with("adopted")

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return self._with("failed")

    def _with(self, status: Status) -> tuple[Outcome, ...]:
        return tuple(outcome for outcome in self.outcomes if outcome.status == status)

    @property
    def summary(self) -> str:
        """One line, e.g. ``acc-1: 2000 items: 1990 created, 10 adopted, 0 failed``."""
        counts = describe_counts(self.counts, always=("created", "failed"))
        return f"{self.account_id}: {len(self.outcomes)} items: {counts}"

    def __len__(self) -> int:
        return len(self.outcomes)

    def __repr__(self) -> str:
        counts = describe_counts(self.counts, always=("created", "failed"))
        return f"CreateReport({self.account_id!r}, {len(self.outcomes)} outcomes: {counts})"

    def __str__(self) -> str:
        return self.summary


class OutcomeSlots:
    """Outcomes by index, held in a plain list: one pointer per item beyond the outcome itself.

    Items finish out of order; ``put`` grows the list as far as the index needs.
    """

    def __init__(self, size: int = 0) -> None:
        self._slots: list[Outcome | None] = [None] * size

    def get(self, index: int) -> Outcome | None:
        """Return the outcome put at ``index``, or None while there is none."""
        return self._slots[index] if index < len(self._slots) else None

    def put(self, outcome: Outcome) -> None:
        missing = outcome.index + 1 - len(self._slots)
        if missing > 0:
            self._slots.extend([None] * missing)
        self._slots[outcome.index] = outcome

    def freeze(self) -> tuple[Outcome, ...]:
        """Return every outcome in index order; an empty slot is a bug, never skipped."""
        if any(slot is None for slot in self._slots):
            gaps = [index for index, slot in enumerate(self._slots) if slot is None]
            raise AssertionError(f"bulk outcomes missing for indexes {gaps[:10]}")
        frozen = tuple(self._slots)  # no None left: the same items, one allocation
        self._slots = []
        return frozen  # type: ignore[return-value]  # checked above: no slot is None


def to_spec(raw: object, field: str) -> ContactListCreate:
    """Return ``raw`` as a ContactListCreate; ValidationError fields are prefixed by ``field``."""
    if isinstance(raw, ContactListCreate):
        return raw
    if isinstance(raw, Mapping):
        try:
            return ContactListCreate.from_mapping(raw)
        except ValidationError as exc:
            raise ValidationError(f"{field}.{exc.field}", exc.message) from None
    kind = type(raw).__name__
    raise ValidationError(field, f"must be a ContactListCreate or a mapping, got {kind}")


def check_items(items: object, field: str) -> None:
    """Refuse a lone spec, a string or a non-iterable passed where many specs are expected."""
    lone = isinstance(items, (str, bytes, Mapping, ContactListCreate))
    if lone or not isinstance(items, (Iterable, AsyncIterable)):
        kind = type(items).__name__
        raise ValidationError(
            field, f"must be an iterable or async iterable of list specs, got {kind}"
        )


class _Item(NamedTuple):
    """One input item, converted and checked as it is pulled (so in input order)."""

    position: int
    """Where the item stands in the input (``index`` is taken by tuple)."""
    name: str
    spec: ContactListCreate | None
    error: ValidationError | None


class _Preparer:
    """Number the inputs and check each; a bad spec or a repeated name carries its error."""

    def __init__(self) -> None:
        self.names: dict[str, int] | None = {}
        """The position that first used each name key (Kore compares names without case)."""
        self._count = 0

    def __call__(self, raw: object) -> _Item:
        position = self._count
        self._count += 1
        try:
            spec = to_spec(raw, f"items[{position}]")
        except ValidationError as exc:
            return _Item(position, _raw_name(raw), None, exc)
        assert self.names is not None  # released only after the last item is pulled
        name = spec.name
        first = self.names.setdefault(name_key(name), position)
        if first != position:
            message = f"duplicate of item {first} ({name!r}); not sent"
            return _Item(position, name, None, ValidationError(f"items[{position}].name", message))
        return _Item(position, name, spec, None)


def _prepared(
    items: SpecsInput, prepare: _Preparer
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


def _raw_name(raw: object) -> str:
    name = raw.name if isinstance(raw, ContactListCreate) else None
    if isinstance(raw, Mapping):
        name = raw.get("name")
    return name if isinstance(name, str) else ""


def failed_outcome(
    *, index: int, account_id: str, name: str, action: Action, error: BaseException
) -> Outcome:
    """Return the "failed" outcome of an item that raised ``error``."""
    return Outcome(
        index=index,
        account_id=account_id,
        name=name,
        action=action,
        status="failed",
        error=error,
        attempts=getattr(error, "attempts", 0),
        reason=f"{type(error).__name__}: {error}",
    )


async def create_many(
    contact_lists: ContactLists,
    items: SpecsInput,
    *,
    concurrency: int,
    if_exists: IfExists = "adopt",
    on_outcome: ReportCallback | None = None,
    api_version: ApiVersion | None = None,
) -> CreateReport:
    """Create every list of ``items`` with ``concurrency`` workers; see the module docstring.

    A bad spec or a name repeated (any case) within ``items`` fails its item without sending
    anything. An exception raised by ``on_outcome`` stops the job and propagates. If ``items``
    itself raises, the items in flight finish and the error propagates.
    """
    check_positive_int("concurrency", concurrency)
    check_items(items, "items")
    if if_exists not in ("error", "adopt"):
        raise ValidationError("if_exists", f"must be 'error' or 'adopt', got {if_exists!r}")
    account_id = contact_lists.account_id
    results = OutcomeSlots()

    async def handle(item: _Item) -> None:
        spec = item.spec
        outcome: Outcome
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
            # Awaited here, not in a helper coroutine: each await below resumes through it.
            try:
                created = await contact_lists.create(
                    spec, if_exists=if_exists, api_version=api_version
                )
            except Exception as exc:  # every item ends as an outcome; cancellation propagates
                outcome = failed_outcome(
                    index=item.position,
                    account_id=account_id,
                    name=item.name,
                    action="create",
                    error=exc,
                )
            else:
                outcome = created_outcome(item.position, account_id, item.name, created)
        results.put(outcome)
        if on_outcome is not None:
            on_outcome(outcome)

    prepare = _Preparer()
    source = _prepared(items, prepare)
    try:
        await drain(source, handle, concurrency=concurrency, name="kore-create-many")
    finally:
        if isinstance(source, AsyncGenerator):
            with contextlib.suppress(Exception):
                await source.aclose()
    prepare.names = None  # no item is pulled any more: free the index before the report
    return CreateReport(account_id, results.freeze())


def created_outcome(index: int, account_id: str, name: str, created: ContactList) -> Outcome:
    """Return the outcome of an item whose create returned ``created``."""
    meta = created.meta
    adopted = meta is not None and meta.adopted
    return Outcome(
        index=index,
        account_id=account_id,
        name=name,
        action="create",
        status="adopted" if adopted else "created",
        contact_list=created,
        attempts=meta.attempts if meta is not None else 0,
        reason="a list of that name already existed" if adopted else None,
    )
