"""The list store on its own, with an injected wall clock."""

from __future__ import annotations

import pytest

from kore_campaign_async.testing._store import ContactListStore, NameTakenError, iso_timestamp
from tests.helpers.clock import FakeClock

FIELDS = {"name": "Renewals", "description": "", "source": "passiveApi", "allowDuplicates": False}


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(1_764_926_571.001)


@pytest.fixture
def store(wall: FakeClock) -> ContactListStore:
    return ContactListStore(wall_clock=wall)


def test_iso_timestamp_matches_kore() -> None:
    assert iso_timestamp(1_764_926_571.001) == "2025-12-05T09:22:51.001Z"
    assert iso_timestamp(0.0) == "1970-01-01T00:00:00.000Z"


def test_update_moves_updated_at_and_the_name_index(
    store: ContactListStore, wall: FakeClock
) -> None:
    stored = store.create("acc", "st-1", FIELDS)
    assert stored.doc["createdAt"] == stored.doc["updatedAt"] == "2025-12-05T09:22:51.001Z"
    wall.advance(2.5)
    store.update("acc", stored, {"name": "Renamed"})
    assert stored.doc["updatedAt"] == "2025-12-05T09:22:53.501Z"
    assert stored.doc["createdAt"] == "2025-12-05T09:22:51.001Z"
    assert store.find_by_name("acc", "renamed") is stored
    assert store.find_by_name("acc", "Renewals") is None


def test_names_are_indexed_per_account(store: ContactListStore) -> None:
    first = store.create("acc", "st-1", FIELDS)
    assert store.find_by_name("acc", "RENEWALS") is first
    assert store.find_by_name("other", "renewals") is None
    with pytest.raises(NameTakenError):
        store.create("acc", "st-1", {**FIELDS, "name": "renewals"})
    assert store.create("other", "st-1", FIELDS) is not first


def test_delete_frees_the_id_and_the_name(store: ContactListStore) -> None:
    stored = store.create("acc", "st-1", FIELDS)
    assert store.delete("acc", stored.id) is stored
    assert store.get("acc", stored.id) is None
    assert store.delete("acc", stored.id) is None
    assert store.delete("nobody", stored.id) is None
    store.create("acc", "st-1", FIELDS)


def test_v2_shape_drops_the_v1_only_fields(store: ContactListStore) -> None:
    stored = store.create("acc", "st-1", FIELDS)
    assert stored.doc.keys() - stored.v2().keys() == {"orgId", "lname", "iId", "accountId"}


def test_contacts_keep_extra_fields_but_server_fields_win(store: ContactListStore) -> None:
    stored = store.create("acc", "st-1", FIELDS)
    added = store.add_contacts(
        stored, [{"phoneNumber": "+1", "_id": "mine", "timeZone": "UTC"}, {"phoneNumber": "+1"}]
    )
    assert added == 1
    (contact,) = stored.contacts
    assert contact["_id"] != "mine"
    assert contact["_id"].startswith("c-")
    assert contact["timeZone"] == "UTC"
    assert stored.doc["totalRecordCount"] == 1
