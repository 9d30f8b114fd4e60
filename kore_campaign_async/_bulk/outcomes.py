"""How each item of a bulk job ended, and the reports that gather them.

An outcome is small on purpose: index, name, status, list id, attempts and error, about 250
bytes with its strings. The whole ``ContactList`` rides along only when the caller asks for it
(``keep_results=True``): a 100,000-item job would otherwise hold 100,000 decoded lists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Final, Literal

import attrs

from .._wire.models import ContactList
from .plan import Action, SyncPlan

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
    list_id: str | None = None
    """The id of the list created, adopted, updated, deleted or left alone; None if none."""
    attempts: int = 0
    """HTTP attempts spent on the item (0 when nothing was sent)."""
    error: BaseException | None = None
    """Why the item failed; a ValidationError when it was refused before sending."""
    reason: str | None = None
    """A human-readable why: the error, the changed fields, or why a change was blocked."""
    contact_list: ContactList | None = None
    """The list as it now is; only when the job was asked to keep results (``keep_results``)."""

    @property
    def ok(self) -> bool:
        """False only for "failed": a blocked change is a safety refusal, reported, not an error."""
        return self.status != "failed"


ReportCallback = Callable[[Outcome], None]
"""Called once per item as it ends, from the event loop: it must not block."""


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


class OutcomeSlots:
    """Outcomes by index, held in a plain list: one pointer per item beyond the outcome itself.

    Items finish out of order; ``put`` grows the list as far as the index needs.
    """

    def __init__(self, size: int = 0) -> None:
        self._slots: list[Outcome | None] = [None] * size

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


class _Outcomes:
    """What a report derives from its outcomes."""

    __slots__ = ()
    outcomes: tuple[Outcome, ...]

    @property
    def counts(self) -> Counter[str]:
        """Outcomes per status."""
        return count_statuses(self.outcomes)

    def with_status(self, status: Status) -> tuple[Outcome, ...]:
        """Return the outcomes of one status, in order."""
        return tuple(outcome for outcome in self.outcomes if outcome.status == status)

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return self.with_status("failed")


@attrs.frozen(hash=False, repr=False)
class CreateReport(_Outcomes):
    """What ``create_many`` did: one outcome per input item, in input order.

    Its repr is the summary: a report of 100,000 outcomes must not print them all.
    """

    account_id: str
    outcomes: tuple[Outcome, ...]

    @property
    def ok(self) -> bool:
        """True when no item failed."""
        return all(outcome.ok for outcome in self.outcomes)

    @property
    def created(self) -> tuple[Outcome, ...]:
        return self.with_status("created")

    @property
    def adopted(self) -> tuple[Outcome, ...]:
        return self.with_status("adopted")

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


@attrs.frozen(kw_only=True, hash=False)
class SyncReport(_Outcomes):
    """What a sync did (or, with ``dry_run``, would do) for one account."""

    account_id: str
    plan: SyncPlan | None
    """None when the sync failed before it could plan (see ``error``)."""
    outcomes: tuple[Outcome, ...] = ()
    """One per plan change, in plan order; "planned" ones on a dry run."""
    dry_run: bool = False
    error: BaseException | None = None
    """Why the whole account failed (e.g. its lists could not be read); None otherwise."""

    @property
    def ok(self) -> bool:
        """True when the account was read and no change failed (blocked ones are not failures)."""
        return self.error is None and all(outcome.ok for outcome in self.outcomes)

    @property
    def writes(self) -> int:
        """Writes that took effect (created, adopted, updated, deleted)."""
        counts = self.counts
        return sum(counts[status] for status in ("created", "adopted", "updated", "deleted"))

    @property
    def blocked(self) -> tuple[Outcome, ...]:
        return self.with_status("blocked")

    @property
    def summary(self) -> str:
        """One line, e.g. ``acc-1: 3 created, 1 updated, 5 unchanged, 1 blocked, 0 failed``."""
        if self.error is not None:
            return f"{self.account_id}: failed: {type(self.error).__name__}: {self.error}"
        if self.dry_run and self.plan is not None:
            return f"{self.plan.summary} (dry run)"
        return f"{self.account_id}: {describe_counts(self.counts)}"

    def __str__(self) -> str:
        return self.summary
