"""``sync_many``: one ``sync`` per account, all at once, each account at its own pace."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

import attrs

from .._exceptions import ValidationError
from .._wire.models import ContactList, ContactListCreate
from .._wire.validation import check_positive_int
from .operations import AccountLike, ListOperations, operations_of
from .outcomes import ReportCallback, SyncReport
from .pool import cancel_and_wait
from .specs import ContactListSpecs
from .sync import PlanCallback, read_desired, sync

A = TypeVar("A", bound=AccountLike)


@attrs.frozen(hash=False)
class AccountTarget:
    """One account and the lists it should have, for ``sync_many``.

    ``account`` is an account handle (``client.account(...)``) or its ``contact_lists``.
    """

    account: AccountLike
    desired: ContactListSpecs


def _targets(
    targets: Mapping[A, ContactListSpecs] | Iterable[AccountTarget],
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
        account_id = operations_of(target.account).account_id
        if account_id in seen:
            raise ValidationError(
                f"targets[{position}]",
                f"account {account_id!r} appears twice; give one desired set each",
            )
        seen.add(account_id)
    return listed


async def sync_many(
    targets: Mapping[A, ContactListSpecs] | Iterable[AccountTarget],
    *,
    prune: bool = False,
    dry_run: bool = False,
    on_outcome: ReportCallback | None = None,
    on_plan: PlanCallback | None = None,
    concurrency: int | None = None,
    keep_results: bool = False,
    listings: Mapping[str, Sequence[ContactList]] | None = None,
) -> dict[str, SyncReport]:
    """Sync many accounts at once, each at its own pace; return the reports by account id.

    Every desired set is read and checked first: a bad one raises ValidationError before
    anything is sent to any account. After that, an account that fails (e.g. its lists cannot
    be read, its credentials are refused, or a callback raised for it) gets a report saying
    so and the others carry on. ``on_plan`` sees each account's plan before any write of that
    account is sent; an exception it raises fails that account alone. ``concurrency`` is per
    account (default: the account's ``max_concurrency``). ``listings`` holds lists already
    read, by account id: those accounts are not read again.
    """
    if concurrency is not None:  # 0 is a mistake, not "the default"
        check_positive_int("concurrency", concurrency)
    checked: list[tuple[ListOperations, list[ContactListCreate]]] = []
    for target in _targets(targets):
        lists = operations_of(target.account)
        checked.append((lists, await read_desired(target.desired, f"{lists.account_id}.desired")))

    async def one(lists: ListOperations, specs: list[ContactListCreate]) -> SyncReport:
        try:
            return await sync(
                lists,
                specs,
                prune=prune,
                dry_run=dry_run,
                concurrency=lists.bulk_concurrency if concurrency is None else concurrency,
                on_outcome=on_outcome,
                on_plan=on_plan,
                keep_results=keep_results,
                existing=None if listings is None else listings.get(lists.account_id),
            )
        except Exception as exc:  # one account failing must not stop the others
            return SyncReport(account_id=lists.account_id, plan=None, dry_run=dry_run, error=exc)

    loop = asyncio.get_running_loop()
    tasks = [
        loop.create_task(one(lists, specs), name=f"kore-sync-many-{lists.account_id}")
        for lists, specs in checked
    ]
    try:
        reports = await asyncio.gather(*tasks)
    finally:
        await cancel_and_wait(tasks)
    return {report.account_id: report for report in reports}
