"""Plan, show, confirm, apply with progress, summarise: the sync flow shared by sync and demo."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs
from rich.console import Console

from .._client import Account, CampaignClient
from .._wire.models import ContactListCreate
from . import _exit
from ._output import plan_lines, plural, problem_lines, summary_table
from ._progress import make_progress
from ._report import ReportWriter

if TYPE_CHECKING:
    from .._bulk.outcomes import Outcome, SyncReport
    from .._bulk.plan import SyncPlan

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


def show_outcome(out: Console, reports: Mapping[str, SyncReport], title: str = "Summary") -> None:
    """Print the summary table and what went wrong, if anything did."""
    out.print(summary_table(reports.values(), title=title))
    for line in problem_lines(reports.values()):
        out.print(line, style="red", highlight=False)


async def run_sync(
    client: CampaignClient,
    job: SyncJob,
    *,
    out: Console,
    err: Console,
    confirm: Confirm,
    report: ReportWriter | None = None,
    title: str = "Summary",
) -> SyncResult:
    """Plan every account, print the plans, then (unless a dry run) apply them with progress."""
    plans = await client.sync_many(dict(job.targets), prune=job.prune, dry_run=True)
    out.print("[bold]Plan[/bold]")
    for plan in plans.values():
        for line in plan_lines(plan):
            out.print(line, highlight=False, markup=False)
    writes = sum(_planned_writes(plan) for plan in plans.values())
    if any(plan.error is not None for plan in plans.values()):
        show_outcome(out, plans, title="Planning failed")
        return SyncResult(plans, _exit.FAILED, 0)
    if job.dry_run:
        if report is not None:
            report.write_reports(plans.values())
        out.print(f"Dry run: {writes} writes planned, none sent.", highlight=False)
        return SyncResult(plans, _exit.OK, 0)
    deletions = _deletions(plans)
    if deletions and not job.yes and not confirm(f"Delete {plural(deletions, 'contact list')}?"):
        out.print("Nothing applied.")
        return SyncResult(plans, _exit.FAILED, 0)

    totals = {account_id: _planned_writes(plan) for account_id, plan in plans.items()}
    view = make_progress(err, totals)

    def on_outcome(outcome: Outcome) -> None:
        view.advance(outcome)
        if report is not None:
            report.write(outcome)

    try:
        reports = await client.sync_many(
            dict(job.targets),
            prune=job.prune,
            on_outcome=on_outcome,
            on_plan=deletion_guard(plans),
        )
    finally:
        view.close()
    if report is not None:
        report.write_reports(reports.values())
    show_outcome(out, reports, title=title)
    status = _exit.OK if all(report.ok for report in reports.values()) else _exit.FAILED
    return SyncResult(reports, status, writes)
