"""Declarative sync: make an account's lists match a desired set, and do it for many accounts.

``sync`` reads the account's lists once, plans (see ``_sync_plan``), then applies the writes
with a bounded pool of workers under the account's limiter. Creates adopt a list that already
exists, so a sync stopped half-way can simply be run again; a second run of the same sync
sends no writes at all.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from .._config import ApiVersion
from .._exceptions import ValidationError
from .._resources.contact_lists import ContactLists
from .._wire.models import ContactList, ContactListCreate, ContactListUpdate
from .._wire.validation import PASSIVE_SOURCES, check_positive_int
from .create import (
    Outcome,
    OutcomeSlots,
    ReportCallback,
    SpecsInput,
    Status,
    check_items,
    count_statuses,
    describe_counts,
    failed_outcome,
    to_spec,
)
from .plan import PlannedChange, SyncPlan, check_unique_names, plan_sync
from .pool import aiterate, cancel_and_wait, drain

if TYPE_CHECKING:
    from .._client import Account

PlanCallback = Callable[[SyncPlan], None]
"""Called with each account's plan before any write is sent (e.g. to size a progress bar)."""


@attrs.frozen(kw_only=True, hash=False)
class SyncReport:
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
    def counts(self) -> Counter[str]:
        """Outcomes per status."""
        return count_statuses(self.outcomes)

    @property
    def ok(self) -> bool:
        """True when the account was read and no change failed (blocked ones are not failures)."""
        return self.error is None and all(outcome.ok for outcome in self.outcomes)

    @property
    def writes(self) -> int:
        """Writes that took effect (created, adopted, updated, deleted)."""
        counts = self.counts
        return sum(counts[status] for status in ("created", "adopted", "updated", "deleted"))

    def with_status(self, status: Status) -> tuple[Outcome, ...]:
        """Return the outcomes of one status, in plan order."""
        return tuple(outcome for outcome in self.outcomes if outcome.status == status)

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return self.with_status("failed")

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


@attrs.frozen(hash=False)
class AccountTarget:
    """One account and the lists it should have, for ``sync_many``."""

    account: Account
    desired: SpecsInput


async def read_desired(desired: SpecsInput, field: str = "desired") -> list[ContactListCreate]:
    """Collect and check every desired spec; raise ValidationError before anything is sent."""
    check_items(desired, field)
    specs: list[ContactListCreate] = []
    async with contextlib.aclosing(aiterate(desired)) as stream:
        async for raw in stream:
            specs.append(to_spec(raw, f"{field}[{len(specs)}]"))
    check_unique_names(specs, field)
    return specs


async def sync(
    contact_lists: ContactLists,
    desired: SpecsInput,
    *,
    prune: bool = False,
    dry_run: bool = False,
    concurrency: int,
    on_outcome: ReportCallback | None = None,
    on_plan: PlanCallback | None = None,
    api_version: ApiVersion | None = None,
    existing: Sequence[ContactList] | None = None,
) -> SyncReport:
    """Make the account's lists match ``desired``; see the module docstring.

    ``existing`` is the account's lists as already read (e.g. for a plan shown to a user): the
    plan is made from them, and they are not read again. None reads them now.

    Raises ValidationError (nothing sent) for a bad or repeated desired spec, and whatever
    reading the account's lists raises. Each write's failure becomes a "failed" outcome.
    """
    check_positive_int("concurrency", concurrency)
    specs = await read_desired(desired)
    account_id = contact_lists.account_id
    if existing is None:
        existing = await contact_lists.list(api_version=api_version)
    plan = plan_sync(existing, specs, prune=prune, account_id=account_id)
    # The plan holds every spec and every list it needs: two lists of pointers fewer to carry.
    del specs, existing
    if on_plan is not None:
        on_plan(plan)
    results = OutcomeSlots(len(plan.changes))

    def record(outcome: Outcome) -> None:
        results.put(outcome)
        if on_outcome is not None:
            on_outcome(outcome)

    for change in plan.changes:
        if dry_run or not change.writes:
            record(_settled(change, account_id, dry_run=dry_run))

    async def handle(change: PlannedChange) -> None:
        record(await _apply(contact_lists, change, account_id, api_version))

    if not dry_run and plan.writes:
        writes = aiterate(change for change in plan.changes if change.writes)
        await drain(writes, handle, concurrency=concurrency, name=f"kore-sync-{account_id}")
    outcomes = results.freeze()
    return SyncReport(account_id=account_id, plan=plan, outcomes=outcomes, dry_run=dry_run)


def _settled(change: PlannedChange, account_id: str, *, dry_run: bool) -> Outcome:
    """Return the outcome of a change that sends nothing: unchanged, blocked, or dry-run."""
    status: Status = "unchanged"
    if change.blocked:
        status = "blocked"
    elif change.writes and dry_run:
        status = "planned"
    reason = change.reason
    if change.changes and not change.blocked:
        notes = [str(field) for field in change.changes]
        reason = "; ".join(notes if change.reason is None else [*notes, change.reason])
    return Outcome(
        index=change.index,
        account_id=account_id,
        name=change.name,
        action=change.action,
        status=status,
        contact_list=change.existing,
        reason=reason,
    )


async def _apply(
    contact_lists: ContactLists,
    change: PlannedChange,
    account_id: str,
    api_version: ApiVersion | None,
) -> Outcome:
    """Send one planned write; any error becomes a "failed" outcome."""
    try:
        if change.action == "create":
            status, after = await _create(contact_lists, change, api_version)
        elif change.action == "update":
            status, after = await _update(contact_lists, change, api_version)
        else:
            status, after = await _delete(contact_lists, change, api_version)
    except Exception as exc:  # every change ends as an outcome; cancellation still propagates
        return failed_outcome(
            index=change.index,
            account_id=account_id,
            name=change.name,
            action=change.action,
            error=exc,
        )
    settled = _settled(change, account_id, dry_run=False)
    return attrs.evolve(
        settled,
        status=status,
        contact_list=after,
        attempts=after.meta.attempts if after.meta is not None else 0,
        reason="a list of that name already existed" if status == "adopted" else settled.reason,
    )


async def _create(
    contact_lists: ContactLists, change: PlannedChange, api_version: ApiVersion | None
) -> tuple[Status, ContactList]:
    assert change.desired is not None
    created = await contact_lists.create(change.desired, if_exists="adopt", api_version=api_version)
    adopted = created.meta is not None and created.meta.adopted
    return ("adopted" if adopted else "created"), created


async def _update(
    contact_lists: ContactLists, change: PlannedChange, api_version: ApiVersion | None
) -> tuple[Status, ContactList]:
    existing, desired = change.existing, change.desired
    assert existing is not None
    assert desired is not None
    # The desired flag, else the list's own; None if Kore never reported it: then v1 reads
    # the list and refuses to guess (a failed outcome).
    allow_duplicates = desired.allow_duplicates
    if allow_duplicates is None:
        allow_duplicates = existing.allow_duplicates
    # A flag change goes through v1 (update() sees to that: Kore's v2 update has no flag);
    # a v1 update also needs name, flag and source, and giving them saves a read.
    flag_changes = any(field.field == "allow_duplicates" for field in change.changes)
    v1 = (api_version or contact_lists.api_version) == "v1"
    changes = ContactListUpdate(
        name=existing.name,
        description=desired.description,
        allow_duplicates=allow_duplicates if flag_changes or v1 else None,
        source=existing.source if existing.source in PASSIVE_SOURCES else None,
    )
    # A sync converges: even with v2 named, a flag change may go where Kore takes it.
    version = None if flag_changes else api_version
    updated = await contact_lists.update(existing.id, changes, api_version=version)
    after = attrs.evolve(
        existing,
        description=existing.description if desired.description is None else desired.description,
        allow_duplicates=allow_duplicates,
        meta=updated.meta,
    )
    return "updated", after


async def _delete(
    contact_lists: ContactLists, change: PlannedChange, api_version: ApiVersion | None
) -> tuple[Status, ContactList]:
    existing = change.existing
    assert existing is not None
    deleted = await contact_lists.delete(existing.id, api_version=api_version)
    # The list as it was: a delete whose answer was lost returns only the id.
    return "deleted", attrs.evolve(existing, meta=deleted.meta)


def _targets(
    targets: Mapping[Account, SpecsInput] | Iterable[AccountTarget],
) -> list[AccountTarget]:
    if isinstance(targets, Mapping):
        listed = [AccountTarget(account, desired) for account, desired in targets.items()]
    else:
        listed = list(targets)
    seen: set[str] = set()
    for position, target in enumerate(listed):
        if not isinstance(target, AccountTarget):
            kind = type(target).__name__
            raise ValidationError(f"targets[{position}]", f"must be an AccountTarget, got {kind}")
        if target.account.account_id in seen:
            raise ValidationError(
                f"targets[{position}]",
                f"account {target.account.account_id!r} appears twice; give one desired set each",
            )
        seen.add(target.account.account_id)
    return listed


async def sync_many(
    targets: Mapping[Account, SpecsInput] | Iterable[AccountTarget],
    *,
    prune: bool = False,
    dry_run: bool = False,
    on_outcome: ReportCallback | None = None,
    on_plan: PlanCallback | None = None,
    concurrency: int | None = None,
    listings: Mapping[str, Sequence[ContactList]] | None = None,
) -> dict[str, SyncReport]:
    """Sync many accounts at once, each at its own pace; return the reports by account id.

    Every desired set is read and checked first: a bad one raises ValidationError before
    anything is sent to any account. After that, an account that fails (e.g. its lists cannot
    be read, or a callback raised for it) gets a report with ``error`` set and the others
    carry on. ``concurrency`` is per account (default: the account's ``max_concurrency``).
    ``listings`` holds lists already read, by account id: those accounts are not read again.
    """
    if concurrency is not None:  # 0 is a mistake, not "the default"
        check_positive_int("concurrency", concurrency)
    listed = _targets(targets)
    checked = [
        (target.account, await read_desired(target.desired, f"{target.account.account_id}.desired"))
        for target in listed
    ]

    async def one(account: Account, specs: list[ContactListCreate]) -> SyncReport:
        try:
            return await sync(
                account.contact_lists,
                specs,
                prune=prune,
                dry_run=dry_run,
                concurrency=(
                    account.contact_lists.bulk_concurrency if concurrency is None else concurrency
                ),
                on_outcome=on_outcome,
                on_plan=on_plan,
                existing=None if listings is None else listings.get(account.account_id),
            )
        except Exception as exc:  # one account failing must not stop the others
            return SyncReport(account_id=account.account_id, plan=None, dry_run=dry_run, error=exc)

    loop = asyncio.get_running_loop()
    tasks = [
        loop.create_task(one(account, specs), name=f"kore-sync-many-{account.account_id}")
        for account, specs in checked
    ]
    try:
        reports = await asyncio.gather(*tasks)
    finally:
        await cancel_and_wait(tasks)
    return {report.account_id: report for report in reports}
