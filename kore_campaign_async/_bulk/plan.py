"""The pure sync planner: what to create, update, delete or leave alone, and what is blocked.

No I/O: ``plan_sync`` compares the lists an account has with the lists it should have.
Names match without regard to case, as Kore compares them. Safety rules: a list that is in use
by a campaign, or that was not created through the API (e.g. uploaded in the UI), is never
deleted; a list not created through the API is never changed either. Both are reported as
"blocked", with the reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Final, Literal

import attrs

from .._exceptions import ValidationError
from .._wire.models import ContactList, ContactListCreate, name_key

Action = Literal["create", "update", "delete", "none"]
"""What an item of a bulk job asks for; "none" for a list that is already as desired."""
ChangeKind = Literal["create", "update", "delete", "unchanged", "blocked"]
#: The order kinds are listed in summaries.
KIND_ORDER: Final[tuple[ChangeKind, ...]] = ("create", "update", "delete", "unchanged", "blocked")
_SYMBOLS: Final = {"create": "+", "update": "~", "delete": "-", "unchanged": "=", "blocked": "!"}
#: Why a desired allow_duplicates was not compared: the list's answer did not include it.
UNKNOWN_FLAG: Final = "allowDuplicates not reported by Kore; not compared, not written"


@attrs.frozen
class FieldChange:
    """One field an update changes."""

    field: str
    old: object
    new: object

    def __str__(self) -> str:
        return f"{self.field} {self.old!r} -> {self.new!r}"


@attrs.frozen(kw_only=True, hash=False)  # ContactList is unhashable
class PlannedChange:
    """One line of a plan: a desired list, or an existing list that is not desired."""

    index: int
    """Position in the plan; for a desired list, also its position in ``desired``."""
    name: str
    action: Action
    """What the list needs; "none" when it is already as desired."""
    desired: ContactListCreate | None = None
    existing: ContactList | None = None
    changes: tuple[FieldChange, ...] = ()
    """For updates: the fields that differ, old -> new."""
    blocked: bool = False
    """True when the action is needed but refused by a safety rule (see ``reason``)."""
    reason: str | None = None

    @property
    def kind(self) -> ChangeKind:
        """create, update, delete, unchanged or blocked."""
        if self.blocked:
            return "blocked"
        return "unchanged" if self.action == "none" else self.action

    @property
    def writes(self) -> bool:
        """True when applying this change sends a write."""
        return self.action != "none" and not self.blocked

    def __str__(self) -> str:
        kind = self.kind
        label = f"blocked {self.action}" if kind == "blocked" else kind
        text = f"{_SYMBOLS[kind]} {label} {self.name!r}"
        if self.changes:
            text += ": " + "; ".join(str(change) for change in self.changes)
        if self.reason:  # why blocked, why left alone, or what was not compared
            text += f": {self.reason}"
        return text


@attrs.frozen(kw_only=True, hash=False)
class SyncPlan:
    """What a sync will do, in a stable order: desired lists as given, then extra lists by name."""

    changes: tuple[PlannedChange, ...]
    prune: bool
    account_id: str | None = None

    @property
    def counts(self) -> Counter[str]:
        """Changes per kind (create, update, delete, unchanged, blocked)."""
        return Counter(change.kind for change in self.changes)

    @property
    def writes(self) -> int:
        """How many write requests applying the plan sends (retries aside)."""
        return sum(1 for change in self.changes if change.writes)

    def of_kind(self, kind: ChangeKind) -> tuple[PlannedChange, ...]:
        """Return the changes of one kind, in plan order."""
        return tuple(change for change in self.changes if change.kind == kind)

    @property
    def summary(self) -> str:
        """One line, e.g. ``3 to create, 1 to update, 0 to delete, 5 unchanged, 1 blocked``."""
        counts = self.counts
        parts = [
            f"{counts[kind]} {kind if kind in ('unchanged', 'blocked') else 'to ' + kind}"
            for kind in KIND_ORDER
        ]
        who = f"{self.account_id}: " if self.account_id else ""
        writes = "1 write" if self.writes == 1 else f"{self.writes} writes"
        return f"{who}{', '.join(parts)} ({writes})"

    def __str__(self) -> str:
        """The summary, then one line per change that is not "unchanged"."""
        lines = [self.summary]
        lines.extend(f"  {change}" for change in self.changes if change.kind != "unchanged")
        return "\n".join(lines)


def check_unique_names(desired: Iterable[ContactListCreate], field: str = "desired") -> None:
    """Raise ValidationError for the first name that repeats (any case) in ``desired``."""
    first_index: dict[str, int] = {}
    for index, spec in enumerate(desired):
        first = first_index.setdefault(name_key(spec.name), index)
        if first != index:
            raise ValidationError(
                f"{field}[{index}].name",
                f"{spec.name!r} repeats {field}[{first}] (names are unique regardless of case)",
            )


def plan_sync(
    existing: Sequence[ContactList],
    desired: Sequence[ContactListCreate],
    *,
    prune: bool,
    account_id: str | None = None,
) -> SyncPlan:
    """Plan how to turn ``existing`` into ``desired``; see the module docstring for the rules.

    A desired list that exists (any case) is updated when a desired field that is given (not
    None: None means "do not care") differs from the list's; otherwise it is left alone.
    An allowDuplicates Kore did not report (None) is unknown, not false: it is not compared
    and no change is planned for it; the change's ``reason`` says so (``UNKNOWN_FLAG``).
    With ``prune``, existing lists that are not desired are deleted, unless blocked.
    """
    check_unique_names(desired)
    by_key: dict[str, ContactList] = {}
    for current in existing:
        # Kore keeps names unique; should two share one anyway, the first (oldest) matches.
        by_key.setdefault(name_key(current.name), current)
    changes = [
        _plan_desired(index, spec, by_key.get(name_key(spec.name)))
        for index, spec in enumerate(desired)
    ]
    matched = {id(change.existing) for change in changes if change.existing is not None}
    if prune:
        extras = sorted(
            (current for current in existing if id(current) not in matched),
            key=lambda current: (name_key(current.name), current.id),
        )
        desired_keys = {name_key(spec.name) for spec in desired}
        for current in extras:
            changes.append(_plan_extra(len(changes), current, desired_keys))
    return SyncPlan(changes=tuple(changes), prune=prune, account_id=account_id)


def _plan_desired(
    index: int, spec: ContactListCreate, current: ContactList | None
) -> PlannedChange:
    if current is None:
        return PlannedChange(index=index, name=spec.name, action="create", desired=spec)
    differences: list[FieldChange] = []
    if spec.description is not None and spec.description != current.description:
        differences.append(FieldChange("description", current.description, spec.description))
    current_dup = current.allow_duplicates
    note = None
    if spec.allow_duplicates is not None and current_dup is None:
        # Unknown is not false: planning a write here would repeat it on every run.
        note = UNKNOWN_FLAG
    elif spec.allow_duplicates is not None and spec.allow_duplicates != current_dup:
        differences.append(FieldChange("allow_duplicates", current_dup, spec.allow_duplicates))
    unchanged = PlannedChange(
        index=index, name=current.name, action="none", desired=spec, existing=current, reason=note
    )
    if not differences:
        return unchanged
    blocked = None if current.created_by_api else _not_api(current)
    return attrs.evolve(
        unchanged,
        action="update",
        changes=tuple(differences),
        blocked=blocked is not None,
        reason=blocked or note,
    )


def _plan_extra(index: int, current: ContactList, desired_keys: set[str]) -> PlannedChange:
    delete = PlannedChange(index=index, name=current.name, action="delete", existing=current)
    if name_key(current.name) in desired_keys:
        # Another list of this name matched the desired one: never delete a namesake.
        reason = "another list of the same name matched the desired one; left alone"
        return attrs.evolve(delete, action="none", reason=reason)
    reasons = []
    if not current.created_by_api:
        reasons.append(_not_api(current))
    if current.in_use:
        reasons.append(_in_use(current))
    if reasons:
        return attrs.evolve(delete, blocked=True, reason="; ".join(reasons))
    return delete


def _not_api(current: ContactList) -> str:
    return f"not created through the API (source {current.source!r}, e.g. uploaded in the UI)"


def _in_use(current: ContactList) -> str:
    names = [str(ref.name or ref.id) for ref in current.campaign_in_use if ref.name or ref.id]
    used_by = f" by campaign(s) {', '.join(names)}" if names else " by a campaign"
    return f"in use{used_by}"
