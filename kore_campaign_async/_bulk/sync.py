"""Declarative sync: make an account's lists match a desired set (many accounts: ``sync_many``).

``sync`` reads the account's lists once, plans (see ``plan``), then applies the writes
with a bounded pool of workers under the account's limiter. Creates adopt a list that already
exists, so a sync stopped half-way can simply be run again; a second run of the same sync
sends no writes at all.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Sequence
from typing import Final, NamedTuple, TypeVar

import attrs

from .._config import ApiVersion
from .._exceptions import NotFoundError
from .._quota.store import Lease
from .._wire.models import ContactList, ContactListCreate, ContactListUpdate
from .._wire.validation import PASSIVE_SOURCES, check_positive_int
from .halt import AccountHalt
from .operations import AccountLike, ListOperations
from .outcomes import (
    Outcome,
    OutcomeSlots,
    ReportCallback,
    Status,
    SyncReport,
    failed_outcome,
)
from .plan import PlannedChange, SyncPlan, check_unique_names, plan_sync
from .pool import aiterate, drain
from .specs import ContactListSpecs, check_items, to_spec

PlanCallback = Callable[[SyncPlan], None]
"""Called with each account's plan before any write is sent (e.g. to size a progress bar)."""
A = TypeVar("A", bound=AccountLike)
#: The account lease a pruning sync holds while it reads, plans and writes.
PRUNE_LEASE: Final = "sync-prune"
#: Why a delete that found no list counts as done.
ALREADY_GONE = "already gone (deleted elsewhere since the plan was made)"


async def read_desired(
    desired: ContactListSpecs, field: str = "desired"
) -> list[ContactListCreate]:
    """Collect and check every desired spec; raise ValidationError before anything is sent."""
    check_items(desired, field)
    specs: list[ContactListCreate] = []
    async with contextlib.aclosing(aiterate(desired)) as stream:
        async for raw in stream:
            specs.append(to_spec(raw, f"{field}[{len(specs)}]"))
    check_unique_names(specs, field)
    return specs


async def sync(
    lists: ListOperations,
    desired: ContactListSpecs,
    *,
    prune: bool = False,
    dry_run: bool = False,
    concurrency: int,
    on_outcome: ReportCallback | None = None,
    on_plan: PlanCallback | None = None,
    api_version: ApiVersion | None = None,
    keep_results: bool = False,
    existing: Sequence[ContactList] | None = None,
) -> SyncReport:
    """Make the account's lists match ``desired``; see the module docstring.

    ``existing`` is the account's lists as already read (e.g. for a plan shown to a user): the
    plan is made from them, and they are not read again. None reads them now.

    Raises ValidationError (nothing sent) for a bad or repeated desired spec, and whatever
    reading the account's lists raises. Each write's failure becomes a "failed" outcome; a
    credentials or permission failure (see ``halt``) stops the writes not sent yet.
    ``keep_results`` keeps each list as it now is on its outcome (``outcome.contact_list``).

    With ``prune`` (and not ``dry_run``) the run holds the account's "sync-prune" lease from
    reading the lists to its last write: runs on one account take turns, in every process
    sharing the client's limit store. If the lease is lost mid-run (the store lost it), the
    writes not sent yet end "failed" with ``attempts == 0``.
    """
    check_positive_int("concurrency", concurrency)
    specs = await read_desired(desired)
    run = functools.partial(
        _sync,
        lists,
        specs,
        prune=prune,
        dry_run=dry_run,
        concurrency=concurrency,
        on_outcome=on_outcome,
        on_plan=on_plan,
        api_version=api_version,
        keep_results=keep_results,
    )
    if not prune or dry_run:
        return await run(existing=existing, lease=None)
    # Two prune runs on one account take turns (across processes when the limit store is
    # shared), so each plans from lists no other run is changing, and never prunes what the
    # other just created on a stale plan. Lists read before another run held the lease are
    # stale: read them again.
    async with lists.lease(PRUNE_LEASE) as lease:
        return await run(existing=None if lease.waited else existing, lease=lease)


async def _sync(
    lists: ListOperations,
    specs: list[ContactListCreate],
    *,
    prune: bool,
    dry_run: bool,
    concurrency: int,
    on_outcome: ReportCallback | None,
    on_plan: PlanCallback | None,
    api_version: ApiVersion | None,
    keep_results: bool,
    existing: Sequence[ContactList] | None,
    lease: Lease | None,
) -> SyncReport:
    account_id = lists.account_id
    if existing is None:
        existing = await lists.list(api_version=api_version)
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
            record(_settled(change, account_id, dry_run=dry_run, keep_result=keep_results))

    halt = AccountHalt(account_id)

    async def handle(change: PlannedChange) -> None:
        if lease is not None and not lease.held:
            halt.lose_lease(PRUNE_LEASE)
        stopped = halt.not_sent(
            index=change.index, account_id=account_id, name=change.name, action=change.action
        )
        record(stopped or await _apply(lists, change, account_id, api_version, halt, keep_results))

    if not dry_run and plan.writes:
        writes = aiterate(change for change in plan.changes if change.writes)
        await drain(writes, handle, concurrency=concurrency, name=f"kore-sync-{account_id}")
    outcomes = results.freeze()
    return SyncReport(account_id=account_id, plan=plan, outcomes=outcomes, dry_run=dry_run)


def _settled(
    change: PlannedChange, account_id: str, *, dry_run: bool, keep_result: bool
) -> Outcome:
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
    existing = change.existing
    return Outcome(
        index=change.index,
        account_id=account_id,
        name=change.name,
        action=change.action,
        status=status,
        list_id=None if existing is None else existing.id,
        reason=reason,
        contact_list=existing if keep_result else None,
    )


class _Applied(NamedTuple):
    """What one write did, and to which list."""

    status: Status
    after: ContactList
    """The list as it now is (for a delete: as it was)."""
    attempts: int
    reason: str | None = None


async def _apply(
    lists: ListOperations,
    change: PlannedChange,
    account_id: str,
    api_version: ApiVersion | None,
    halt: AccountHalt,
    keep_result: bool,
) -> Outcome:
    """Send one planned write; any error becomes a "failed" outcome."""
    try:
        if change.action == "create":
            applied = await _create(lists, change, api_version)
        elif change.action == "update":
            applied = await _update(lists, change, api_version)
        else:
            applied = await _delete(lists, change, api_version)
    except Exception as exc:  # every change ends as an outcome; cancellation still propagates
        halt.note(exc, change.name)
        return failed_outcome(
            index=change.index,
            account_id=account_id,
            name=change.name,
            action=change.action,
            error=exc,
        )
    settled = _settled(change, account_id, dry_run=False, keep_result=False)
    return attrs.evolve(
        settled,
        status=applied.status,
        list_id=applied.after.id,
        attempts=applied.attempts,
        reason=applied.reason or settled.reason,
        contact_list=applied.after if keep_result else None,
    )


def _attempts(result: ContactList) -> int:
    return result.meta.attempts


async def _create(
    lists: ListOperations, change: PlannedChange, api_version: ApiVersion | None
) -> _Applied:
    assert change.desired is not None
    created = await lists.create(change.desired, if_exists="adopt", api_version=api_version)
    if created.meta.adopted:
        return _Applied(
            "adopted", created, _attempts(created), "a list of that name already existed"
        )
    return _Applied("created", created, _attempts(created))


async def _update(
    lists: ListOperations, change: PlannedChange, api_version: ApiVersion | None
) -> _Applied:
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
    v1 = (api_version or lists.api_version) == "v1"
    changes = ContactListUpdate(
        name=existing.name,
        description=desired.description,
        allow_duplicates=allow_duplicates if flag_changes or v1 else None,
        source=existing.source if existing.source in PASSIVE_SOURCES else None,
    )
    # A sync converges: even with v2 named, a flag change may go where Kore takes it.
    version = None if flag_changes else api_version
    updated = await lists.update(existing.id, changes, api_version=version)
    after = attrs.evolve(
        existing,
        description=existing.description if desired.description is None else desired.description,
        allow_duplicates=allow_duplicates,
        meta=updated.meta,
    )
    return _Applied("updated", after, updated.meta.attempts if updated.meta is not None else 0)


async def _delete(
    lists: ListOperations, change: PlannedChange, api_version: ApiVersion | None
) -> _Applied:
    existing = change.existing
    assert existing is not None
    try:
        deleted = await lists.delete(existing.id, api_version=api_version)
    except NotFoundError as exc:
        # Another sync (or a person) deleted it since we read the lists: the goal is met.
        return _Applied("deleted", existing, exc.attempts, ALREADY_GONE)
    # The list as it was: a delete whose answer was lost returns only the id.
    return _Applied("deleted", attrs.evolve(existing, meta=deleted.meta), _attempts(deleted))
