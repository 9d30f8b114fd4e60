"""Plan, show, confirm, apply with progress, summarise: the sync flow shared by sync and demo."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Final

import attrs
from rich.console import Console

from kore_campaign_async import (
    Account,
    CampaignClient,
    ContactList,
    ContactListCreate,
    Outcome,
    SyncReport,
)

from . import _exit
from ._output import plan_lines, plural, problem_lines, summary_table
from ._progress import make_progress
from ._report import ReportWriter

if TYPE_CHECKING:
    from kore_campaign_async import SyncPlan

#: Seconds a listing stays good for applying after a person was asked to confirm the plan.
RELIST_AFTER: Final = 30.0

Confirm = Callable[[str], bool]
"""Ask the user a yes/no question; raise UsageError when nobody can answer."""


@attrs.frozen(kw_only=True)
class SyncJob:
    """What to sync and how."""

    targets: Mapping[Account, Sequence[ContactListCreate]]
    prune: bool = False
    dry_run: bool = False
    #: Apply deletions without asking.
    yes: bool = False


@attrs.frozen
class SyncResult:
    """The reports of the run (the plan's, for a dry run) and the exit status they mean."""

    reports: dict[str, SyncReport]
    status: int
    writes: int


def _planned_writes(plan: SyncReport) -> int:
    return 0 if plan.plan is None else plan.plan.writes


def _deletions(plans: Mapping[str, SyncReport]) -> int:
    return sum(len(plan.plan.of_kind("delete")) for plan in plans.values() if plan.plan)


class PlanChangedError(Exception):
    """The plan met at apply time would delete a list the user was not shown."""


def deletion_guard(confirmed: Mapping[str, SyncReport]) -> Callable[[SyncPlan], None]:
    """Return an ``on_plan`` check that fails an account whose fresh plan deletes more.

    Applying re-reads every account, and lists may have changed since the plan was shown:
    only lists the user saw marked for deletion (by id) may be deleted without a new look.
    """
    shown = {
        account_id: {
            change.existing.id for change in report.plan.of_kind("delete") if change.existing
        }
        for account_id, report in confirmed.items()
        if report.plan is not None
    }

    def check(plan: SyncPlan) -> None:
        allowed = shown.get(plan.account_id or "", set())
        unseen = [
            change.name
            for change in plan.of_kind("delete")
            if change.existing is None or change.existing.id not in allowed
        ]
        if unseen:
            names = ", ".join(repr(name) for name in unseen[:5])
            raise PlanChangedError(
                f"the lists changed since the plan was shown: it would now also delete {names}; "
                "nothing was applied to this account. Run the command again to see the new plan"
            )

    return check


def show_outcome(
    out: Console,
    reports: Mapping[str, SyncReport],
    title: str = "Summary",
) -> None:
    """Print the summary table and what went wrong, if anything did."""
    out.print(summary_table(reports.values(), title=title))
    for line in problem_lines(reports.values()):
        out.print(line, style="red", highlight=False)


def unapplied(report: SyncReport, shown: SyncReport) -> SyncReport:
    """Return a failed account's report with each write of its shown plan failed, not sent.

    An account fails as a whole before any write (its lists could not be read again, or its
    plan changed): the writes the user was shown did not happen, and the summary and the
    report must count them as failed rather than say "failed 0".
    """
    if report.error is None or shown.plan is None:
        return report
    error = report.error
    outcomes = tuple(
        Outcome(
            index=change.index,
            account_id=report.account_id,
            name=change.name,
            action=change.action,
            status="failed",
            error=error,
            reason=f"not sent: the account failed ({type(error).__name__})",
        )
        for change in shown.plan.changes
        if change.writes
    )
    return attrs.evolve(report, plan=shown.plan, outcomes=outcomes)


async def _read_listings(
    targets: Iterable[Account],
) -> tuple[dict[str, Sequence[ContactList]], dict[str, SyncReport]]:
    """Read each account's lists once; return them, and a failed report per unreadable account."""

    async def read(account: Account) -> Sequence[ContactList] | Exception:
        try:
            return await account.contact_lists.list()
        except Exception as exc:  # one account failing must not stop the others
            return exc

    accounts = list(targets)
    results = await asyncio.gather(*(read(account) for account in accounts))
    listings: dict[str, Sequence[ContactList]] = {}
    failed: dict[str, SyncReport] = {}
    for account, result in zip(accounts, results, strict=True):
        if isinstance(result, Exception):
            failed[account.account_id] = SyncReport(
                account_id=account.account_id, plan=None, dry_run=True, error=result
            )
        else:
            listings[account.account_id] = result
    return listings, failed


async def run_sync(
    client: CampaignClient,
    job: SyncJob,
    *,
    out: Console,
    err: Console,
    confirm: Confirm,
    report: ReportWriter | None = None,
    title: str = "Summary",
    clock: Callable[[], float] = time.monotonic,
) -> SyncResult:
    """Plan every account, print the plans, then (unless a dry run) apply them with progress.

    Each account's lists are read once and the plan shown is the plan applied, unless the user
    took more than ``RELIST_AFTER`` seconds to confirm: then they are read again, and an
    account whose new plan would delete a list the user was not shown is not applied.
    """
    listings, unreadable = await _read_listings(job.targets)
    listed_at = clock()
    readable = {
        account: specs for account, specs in job.targets.items() if account.account_id in listings
    }
    planned = await client.sync_many(readable, prune=job.prune, dry_run=True, listings=listings)
    plans = {
        account.account_id: planned.get(account.account_id) or unreadable[account.account_id]
        for account in job.targets
    }
    out.print("[bold]Plan[/bold]")
    for plan in plans.values():
        for line in plan_lines(plan):
            out.print(line, highlight=False, markup=False)
    writes = sum(_planned_writes(plan) for plan in plans.values())
    failed = [plan.account_id for plan in plans.values() if plan.error is not None]
    if failed:
        # Each failure was printed with the plan, once; nothing of the others was sent either.
        out.print(
            f"Nothing applied: {plural(len(failed), 'account')} could not be planned "
            f"({', '.join(failed)}).",
            style="red",
            highlight=False,
        )
        return SyncResult(plans, _exit.FAILED, 0)
    if job.dry_run:
        if report is not None:
            report.write_reports(plans.values())
        out.print(f"Dry run: {plural(writes, 'write')} planned, none sent.", highlight=False)
        return SyncResult(plans, _exit.OK, 0)
    deletions = _deletions(plans)
    asked = bool(deletions) and not job.yes
    if asked and not confirm(f"Delete {plural(deletions, 'contact list')}?"):
        out.print("Nothing applied.")
        return SyncResult(plans, _exit.FAILED, 0)
    # While a person read the plan, the lists may have changed: read them again after a while.
    fresh = not asked or clock() - listed_at < RELIST_AFTER

    totals = {account_id: _planned_writes(plan) for account_id, plan in plans.items()}
    view = make_progress(err, totals)

    def on_outcome(outcome: Outcome) -> None:
        view.advance(outcome)
        if report is not None:
            report.write(outcome)

    try:
        applied = await client.sync_many(
            dict(job.targets),
            prune=job.prune,
            on_outcome=on_outcome,
            on_plan=deletion_guard(plans),
            listings=listings if fresh else None,
        )
    finally:
        view.close()
    reports = {
        account_id: unapplied(done, plans[account_id]) for account_id, done in applied.items()
    }
    if report is not None:
        report.write_reports(reports.values())
    show_outcome(out, reports, title=title)
    status = _exit.OK if all(report.ok for report in reports.values()) else _exit.FAILED
    return SyncResult(reports, status, writes)
