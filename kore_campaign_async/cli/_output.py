"""What the CLI shows: table rows and JSON built by pure functions, wrapped in rich tables."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import attrs
from rich import box
from rich.table import Table

from kore_campaign_async import Contact, ContactList

if TYPE_CHECKING:
    from kore_campaign_async import Outcome, SyncReport

LIST_COLUMNS: Final = ("id", "name", "status", "source", "duplicates", "in use", "records")
CONTACT_COLUMNS: Final = ("id", "phone number", "first name", "last name", "created")
SUMMARY_COLUMNS: Final = (
    "account",
    "created",
    "adopted",
    "updated",
    "deleted",
    "unchanged",
    "blocked",
    "failed",
)
#: Names listed per action in a plan before "and N more"; blocked ones are always all listed.
NAMES_SHOWN: Final = 10


def plural(count: int, noun: str) -> str:
    """Return "1 contact list" or "3 contact lists"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def list_row(item: ContactList) -> tuple[str, ...]:
    """Return one contact list as a table row (see LIST_COLUMNS)."""
    return (
        item.id,
        item.name,
        _text(item.status),
        _text(item.source),
        _text(item.allow_duplicates),
        "yes" if item.in_use else "no",
        _text(item.total_record_count),
    )


def contact_row(contact: Contact) -> tuple[str, ...]:
    """Return one contact as a table row (see CONTACT_COLUMNS)."""
    return (
        _text(contact.id),
        contact.phone_number,
        _text(contact.first_name),
        _text(contact.last_name),
        _text(contact.created_at),
    )


#: How a table shows a field an update did not change and Kore's answer left out.
UNCHANGED: Final = "(unchanged)"


def detail_rows(obj: Any, *, unchanged: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Return an attrs result as (field, value) rows, unknown Kore fields last."""
    data = to_jsonable(obj)
    extra = data.pop("extra", None) or {}
    data.update(dict.fromkeys(unchanged, UNCHANGED))
    rows = [(key, _detail(value)) for key, value in data.items()]
    rows.extend((f"extra.{key}", _detail(value)) for key, value in extra.items())
    return rows


def _detail(value: object) -> str:
    if isinstance(value, (list, dict)):
        return "-" if not value else repr(value)
    return _text(value)


def to_jsonable(obj: Any) -> Any:
    """Return an SDK result as plain JSON data: snake_case keys, ISO 8601 times, no meta."""
    if attrs.has(type(obj)):
        return {
            field.name: to_jsonable(getattr(obj, field.name))
            for field in attrs.fields(type(obj))
            if field.name != "meta"
        }
    if isinstance(obj, Mapping):
        return {str(key): to_jsonable(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(value) for value in obj]
    if isinstance(obj, datetime):
        return obj.isoformat()
    return obj


def plan_lines(report: SyncReport) -> list[str]:
    """Describe one account's plan: counts, then each delete, update and refusal.

    Blocked changes are always all listed; deletes and updates stop after ``NAMES_SHOWN``.
    """
    plan = report.plan
    if plan is None:
        return [f"{report.account_id}: cannot plan: {report.error}"]
    lines = [plan.summary if plan.account_id else f"{report.account_id}: {plan.summary}"]
    for kind in ("delete", "update", "blocked"):
        chosen = plan.of_kind(kind)
        shown = chosen if kind == "blocked" else chosen[:NAMES_SHOWN]
        lines.extend(f"  {change}" for change in shown)
        if len(chosen) > len(shown):
            lines.append(f"  ... and {len(chosen) - len(shown)} more to {kind}")
    return lines


def summary_row(report: SyncReport) -> tuple[str, ...]:
    """Return one account's outcome counts as a row (see SUMMARY_COLUMNS).

    An account that failed as a whole is marked so, even when it had nothing to write.
    """
    counts = Counter(outcome.status for outcome in report.outcomes)
    account = report.account_id if report.error is None else f"{report.account_id} (failed)"
    return (account, *(str(counts.get(column, 0)) for column in SUMMARY_COLUMNS[1:]))


def problem_lines(reports: Iterable[SyncReport], limit: int = 20) -> list[str]:
    """Return what went wrong: failed accounts, then failed items, at most ``limit`` items.

    A failed account's items share its one error: the account's line says it once.
    """
    lines: list[str] = []
    failures: list[Outcome] = []
    for report in reports:
        if report.error is not None:
            lines.append(f"{report.account_id}: sync failed: {report.error}")
            continue
        failures.extend(outcome for outcome in report.outcomes if outcome.status == "failed")
    for outcome in failures[:limit]:
        why = outcome.reason or outcome.error or "failed"
        lines.append(f"{outcome.account_id}: {outcome.action} {outcome.name!r} failed: {why}")
    if len(failures) > limit:
        lines.append(f"... and {len(failures) - limit} more failed items (see --report)")
    return lines


def _table(title: str | None = None) -> Table:
    # Light borders and one space between columns: a summary with Kore's 24-character account
    # ids still fits an 80-column terminal.
    return Table(
        box=box.SIMPLE_HEAD,
        title=title,
        title_justify="left",
        padding=(0, 0),
        show_edge=False,
    )


def table(columns: Iterable[str], rows: Iterable[Iterable[str]], title: str | None = None) -> Table:
    """Build a rich table with the given header and rows."""
    result = _table(title)
    for column in columns:
        result.add_column(column)
    for row in rows:
        result.add_row(*row)
    return result


def lists_table(lists: Iterable[ContactList]) -> Table:
    return table(LIST_COLUMNS, (list_row(item) for item in lists))


def contacts_table(contacts: Iterable[Contact]) -> Table:
    return table(CONTACT_COLUMNS, (contact_row(contact) for contact in contacts))


#: Widest value column of one list's details: a long mapping folds instead of widening the table.
DETAIL_VALUE_WIDTH: Final = 80


def detail_table(obj: Any, *, unchanged: Iterable[str] = ()) -> Table:
    result = _table()
    result.add_column("field")
    result.add_column("value", max_width=DETAIL_VALUE_WIDTH, overflow="fold")
    for row in detail_rows(obj, unchanged=unchanged):
        result.add_row(*row)
    return result


def summary_table(reports: Iterable[SyncReport], title: str = "Summary") -> Table:
    result = _table(title)
    # Numbers keep their headers whole; a long account id folds onto a second line instead.
    result.add_column(SUMMARY_COLUMNS[0], overflow="fold")
    for column in SUMMARY_COLUMNS[1:]:
        result.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    for report in reports:
        result.add_row(*summary_row(report))
    return result
