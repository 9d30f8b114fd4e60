"""The pure sync planner: matching, updates, prune safety rules, order and the printed plan."""

from __future__ import annotations

from typing import Any

import pytest

import kore_campaign_async as kca
from kore_campaign_async._bulk.plan import FieldChange, SyncPlan, plan_sync
from kore_campaign_async._wire.models import CampaignRef


def existing(name: str, description: str = "", **kwargs: Any) -> kca.ContactList:
    kwargs.setdefault("source", "passiveApi")
    kwargs.setdefault("allow_duplicates", False)
    return kca.ContactList(
        id=kwargs.pop("id", f"cl-{name}"), name=name, description=description, **kwargs
    )


def want(
    name: str, description: str = "", allow_duplicates: bool | None = None
) -> kca.ContactListCreate:
    return kca.ContactListCreate(
        name=name, description=description, allow_duplicates=allow_duplicates
    )


IN_USE = (CampaignRef(id="camp-1", name="July renewals"),)


@pytest.mark.parametrize(
    ("current", "desired", "kind", "changes"),
    [
        (None, want("A", "d"), "create", ()),
        (existing("A", "d"), want("A", "d"), "unchanged", ()),
        (existing("a", "d"), want("A", "d"), "unchanged", ()),  # names match without case
        (
            existing("A", "old"),
            want("A", "new"),
            "update",
            (FieldChange("description", "old", "new"),),
        ),
        (
            existing("A", "d"),
            want("A", "d", True),
            "update",
            (FieldChange("allow_duplicates", False, True),),
        ),
        (existing("A", "d", allow_duplicates=None), want("A", "d", False), "unchanged", ()),
        (
            existing("A", "d", allow_duplicates=True),
            want("A", "d"),
            "unchanged",
            (),
        ),  # None: do not care
        (
            existing("A", "d", allow_duplicates=True),
            want("A", "d", False),
            "update",
            (FieldChange("allow_duplicates", True, False),),
        ),
        (
            existing("A", "x", allow_duplicates=True),
            want("A", "y", False),
            "update",
            (FieldChange("description", "x", "y"), FieldChange("allow_duplicates", True, False)),
        ),
        (
            existing("A", "d", is_list_in_use=True, campaign_in_use=IN_USE),
            want("A", "e"),
            "update",
            (FieldChange("description", "d", "e"),),
        ),
        (
            existing("A", "d", source="passiveApiIntegration"),
            want("A", "e"),
            "update",
            (FieldChange("description", "d", "e"),),
        ),
        (
            existing("A", "d", source="localDrive"),
            want("A", "e"),
            "blocked",
            (FieldChange("description", "d", "e"),),
        ),
        (existing("A", "d", source="localDrive"), want("A", "d"), "unchanged", ()),
    ],
)
def test_one_desired_list(
    current: kca.ContactList | None,
    desired: kca.ContactListCreate,
    kind: str,
    changes: tuple[FieldChange, ...],
) -> None:
    plan = plan_sync([current] if current else [], [desired], prune=False)
    (change,) = plan.changes
    assert change.kind == kind
    assert change.changes == changes
    assert change.existing is current
    assert change.desired is desired
    assert change.writes == (kind in ("create", "update"))
    if kind == "blocked":
        assert change.action == "update"
        assert change.reason is not None
        assert "localDrive" in change.reason
    # A list keeps its own spelling: matching by name never renames.
    assert change.name == (current.name if current else desired.name)


@pytest.mark.parametrize(
    ("current", "kind", "reason"),
    [
        (existing("Old"), "delete", None),
        (existing("Old", source="passiveApiIntegration"), "delete", None),
        (existing("Old", is_list_in_use=True), "blocked", "in use by a campaign"),
        (existing("Old", campaign_in_use=IN_USE), "blocked", "in use by campaign(s) July renewals"),
        (existing("Old", campaign_in_use=(CampaignRef(id="camp-9"),)), "blocked", "camp-9"),
        (
            existing("Old", source="localDrive", status="Validated"),
            "blocked",
            "not created through the API",
        ),
        (existing("Old", source=None), "blocked", "source None"),
        (
            existing("Old", source="localDrive", campaign_in_use=IN_USE),
            "blocked",
            "(source 'localDrive', e.g. uploaded in the UI); in use",
        ),
    ],
)
def test_prune_deletes_only_unused_api_lists(
    current: kca.ContactList, kind: str, reason: str | None
) -> None:
    plan = plan_sync([current], [], prune=True)
    (change,) = plan.changes
    assert change.kind == kind
    assert change.action == "delete"
    assert change.writes == (kind == "delete")
    if reason is None:
        assert change.reason is None
    else:
        assert change.reason is not None
        assert reason in change.reason


def test_without_prune_extra_lists_are_not_in_the_plan() -> None:
    plan = plan_sync([existing("Old"), existing("Keep")], [want("Keep")], prune=False)
    assert [change.name for change in plan.changes] == ["Keep"]
    assert plan.writes == 0


def test_order_is_desired_order_then_extras_by_name() -> None:
    current = [existing("zeta"), existing("Beta"), existing("kept", "x"), existing("alpha")]
    desired = [want("new-2"), want("KEPT", "y"), want("new-1")]
    plan = plan_sync(current, desired, prune=True)
    assert [(c.index, c.name, c.kind) for c in plan.changes] == [
        (0, "new-2", "create"),
        (1, "kept", "update"),
        (2, "new-1", "create"),
        (3, "alpha", "delete"),
        (4, "Beta", "delete"),
        (5, "zeta", "delete"),
    ]
    # The same inputs in another order give the same plan: server order does not matter.
    assert plan_sync(list(reversed(current)), desired, prune=True) == plan


def mixed_plan(account_id: str | None = None) -> SyncPlan:
    """One change of every kind."""
    return plan_sync(
        [
            existing("same"),
            existing("changed", "a"),
            existing("gone"),
            existing("ui", source="localDrive"),
        ],
        [want("same"), want("changed", "b"), want("new")],
        prune=True,
        account_id=account_id,
    )


def test_counts_and_writes() -> None:
    plan = mixed_plan()
    assert dict(plan.counts) == {
        "unchanged": 1,
        "update": 1,
        "create": 1,
        "delete": 1,
        "blocked": 1,
    }
    assert plan.writes == 3
    assert [c.name for c in plan.of_kind("blocked")] == ["ui"]


def test_duplicate_desired_names_are_refused() -> None:
    with pytest.raises(kca.ValidationError) as info:
        plan_sync([], [want("A"), want("b"), want("B")], prune=False)
    assert info.value.field == "desired[2].name"
    assert "desired[1]" in info.value.message


def test_namesakes_of_a_desired_list_are_never_deleted() -> None:
    # Kore keeps names unique; should it ever return two, the older matches, the other stays.
    first, second = existing("Dup", id="cl-1"), existing("DUP", id="cl-2")
    plan = plan_sync([first, second], [want("dup")], prune=True)
    assert [(c.existing, c.kind) for c in plan.changes] == [
        (first, "unchanged"),
        (second, "unchanged"),
    ]
    assert plan.writes == 0


def test_printed_plan_lists_every_change_but_unchanged() -> None:
    plan = mixed_plan("acc-1")
    assert str(plan).splitlines() == [
        "acc-1: 1 to create, 1 to update, 1 to delete, 1 unchanged, 1 blocked (3 writes)",
        "  ~ update 'changed': description 'a' -> 'b'",
        "  + create 'new'",
        "  - delete 'gone'",
        "  ! blocked delete 'ui': not created through the API"
        " (source 'localDrive', e.g. uploaded in the UI)",
    ]


def test_one_write_is_singular() -> None:
    plan = plan_sync([], [kca.ContactListCreate(name="A")], prune=False)
    assert plan.summary == "1 to create, 0 to update, 0 to delete, 0 unchanged, 0 blocked (1 write)"


def test_empty_plan() -> None:
    plan = plan_sync([], [], prune=True)
    assert plan.changes == ()
    assert plan.writes == 0
    assert (
        plan.summary == "0 to create, 0 to update, 0 to delete, 0 unchanged, 0 blocked (0 writes)"
    )


@pytest.mark.parametrize(
    "desired",
    [
        kca.ContactListCreate(name="A"),
        kca.ContactListCreate.from_mapping({"name": "A"}),
        kca.ContactListCreate.from_mapping({"name": "A", "description": None}),
    ],
)
def test_a_description_left_out_is_not_wiped(desired: kca.ContactListCreate) -> None:
    """None means "do not care", as allow_duplicates=None does: the list keeps its description."""
    assert desired.description is None
    (change,) = plan_sync([existing("A", "keep me")], [desired], prune=False).changes
    assert change.kind == "unchanged"
    assert change.changes == ()


def test_an_empty_description_given_is_a_wish() -> None:
    (change,) = plan_sync([existing("A", "x")], [want("A", "")], prune=False).changes
    assert change.changes == (FieldChange("description", "x", ""),)


def test_an_unknown_allow_duplicates_is_not_compared_as_false() -> None:
    from kore_campaign_async._bulk.plan import UNKNOWN_FLAG

    unknown = existing("A", "d", allow_duplicates=None)
    (same,) = plan_sync([unknown], [want("A", "d", True)], prune=False).changes
    assert (same.kind, same.changes, same.reason) == ("unchanged", (), UNKNOWN_FLAG)
    (update,) = plan_sync([unknown], [want("A", "e", True)], prune=False).changes
    assert update.kind == "update"
    assert update.changes == (FieldChange("description", "d", "e"),)  # not the flag
    assert str(update).endswith(UNKNOWN_FLAG)
