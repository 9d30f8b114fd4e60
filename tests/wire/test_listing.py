"""A listing reads every item it can: one bad record never blocks the account."""

from __future__ import annotations

import logging
import pickle
import re
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import pytest
from aioresponses import aioresponses

import kore_campaign_async as kca
from kore_campaign_async._http.responses import ModelDecoder, decode_lists
from kore_campaign_async._wire.listing import ListingByName
from kore_campaign_async._wire.models import ContactListListing
from tests.helpers.clients import MakeClient

WHERE: dict[str, Any] = {"method": "POST", "url": "https://h/getAllListDetails", "status": 200}
GOOD: dict[str, Any] = {"_id": "cl-1", "name": "Good", "createdAt": "2025-06-26T12:32:02Z"}


def listing(*items: Any, meta: kca.ResponseMeta | None = None) -> ContactListListing:
    return decode_lists({"status": "success", "data": list(items)}, **WHERE, meta=meta)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name == "kore_campaign_async" and record.levelno == logging.WARNING
    ]


@pytest.mark.parametrize(
    ("wire", "attr", "value"),
    [
        ("createdAt", "created_at", "last tuesday"),
        ("createdAt", "created_at", -5),
        ("totalRecordCount", "total_record_count", "many"),
        ("isActive", "is_active", "maybe"),
        ("mapping", "mapping", ["not", "an", "object"]),
        ("columns", "columns", "abc"),
    ],
)
def test_an_unreadable_field_is_kept_raw_and_the_item_is_listed(
    caplog: pytest.LogCaptureFixture, wire: str, attr: str, value: object
) -> None:
    bad = {"_id": "cl-2", "name": "Bad", wire: value, "description": "kept"}
    with caplog.at_level(logging.WARNING, logger="kore_campaign_async"):
        found = listing(GOOD, bad)
    assert [item.id for item in found] == ["cl-1", "cl-2"]
    assert found.skipped == 0
    assert getattr(found[1], attr) == getattr(kca.ContactList(id="x"), attr)
    assert found[1].extra == {wire: value}
    assert found[1].description == "kept"
    assert found[0].created_at == datetime(2025, 6, 26, 12, 32, 2, tzinfo=timezone.utc)
    [record] = warnings_of(caplog)
    assert record.__dict__["kore_list_id"] == "cl-2"
    assert record.__dict__["kore_fields"] == [wire]
    assert record.__dict__["kore_url"] == WHERE["url"]
    assert wire in record.getMessage()


@pytest.mark.parametrize(
    "item",
    [
        {"name": "No id"},
        {"_id": None, "name": "Null id"},
        {"_id": "  ", "name": "Blank id"},
        {"_id": ["cl-3"], "name": "Id not text"},
        {"_id": "cl-3"},
        {"_id": "cl-3", "name": None},
        {"_id": "cl-3", "name": {"first": "x"}},
        "not an object",
        None,
    ],
)
def test_an_item_without_a_usable_id_or_name_is_skipped_and_counted(
    caplog: pytest.LogCaptureFixture, item: object
) -> None:
    with caplog.at_level(logging.WARNING, logger="kore_campaign_async"):
        found = listing(GOOD, item, GOOD)
    assert [entry.id for entry in found] == ["cl-1", "cl-1"]
    assert found.skipped == 1
    [record] = warnings_of(caplog)
    assert record.__dict__["kore_item_index"] == 1
    assert "skipped" in record.getMessage()


def test_a_listing_is_a_list_with_its_meta_and_skipped_count() -> None:
    meta = kca.ResponseMeta(attempts=2)
    found = listing(GOOD, {"name": "no id"}, meta=meta)
    assert isinstance(found, list)
    assert found == [kca.ContactList(id="cl-1", name="Good", created_at=found[0].created_at)]
    assert (found.skipped, found.meta) == (1, meta)
    assert found[0].meta is meta
    again = pickle.loads(pickle.dumps(found))
    assert (again, again.skipped, again.meta) == (found, 1, meta)
    assert "skipped=1" in repr(found)
    clean = listing(GOOD)
    assert (clean.skipped, clean.meta) == (0, kca.ResponseMeta())  # built without an answer


def test_a_listing_by_name_reads_a_list_as_the_whole_listing_does() -> None:
    meta = kca.ResponseMeta(attempts=1, status=200)
    items = [{"_id": "cl-n", "name": 2025, "totalRecordCount": "n/a"}, GOOD, {"name": "no id"}]
    by_name = ListingByName(items, url=WHERE["url"], meta=meta)
    found = [by_name.get(name) for name in ("2025", "GOOD", "No Id", "other")]
    assert found == [*listing(*items, meta=meta), None, None]


def test_a_clean_listing_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="kore_campaign_async"):
        assert len(listing(GOOD, {**GOOD, "_id": "cl-2", "brandNew": 1})) == 2
    assert caplog.records == []


@pytest.mark.parametrize("value", [5, [True], {"id": ["x"]}])
def test_an_unreadable_campaign_in_use_counts_the_list_as_in_use(value: object) -> None:
    """Listed as in use: a prune must never delete a list a campaign may use."""
    [found] = listing({"_id": "cl-2", "name": "Busy", "campaignInUse": value})
    assert found.campaign_in_use == ()
    assert found.extra == {"campaignInUse": value}
    assert found.in_use


def test_an_unreadable_list_in_use_flag_counts_the_list_as_in_use() -> None:
    [found] = listing({"_id": "cl-2", "name": "Busy", "isListInUse": "perhaps"})
    assert found.is_list_in_use is None
    assert found.in_use


def test_a_single_result_stays_strict() -> None:
    with pytest.raises(kca.APIResponseDecodeError, match="cannot read ContactList"):
        ModelDecoder(kca.ContactList)({"data": {**GOOD, "createdAt": "garbage"}}, **WHERE)


@pytest.fixture
async def client(make_client: MakeClient) -> AsyncIterator[kca.CampaignClient]:
    async with make_client(client_id="cs-test", client_secret="s" * 32) as c:
        yield c


async def test_list_and_find_get_past_one_bad_record(client: kca.CampaignClient) -> None:
    account = client.account("acct-1", iid="st-1")
    bad = {"_id": "cl-2", "name": "Bad", "createdAt": "garbage", "totalRecordCount": "n/a"}
    body = {"status": "success", "data": [GOOD, bad, {"name": "no id"}]}
    with aioresponses() as mocked:
        mocked.post(re.compile(r".*/getAllListDetails\b.*"), payload=body, repeat=True)
        found = await account.contact_lists.list()
        assert [item.name for item in found] == ["Good", "Bad"]
        assert isinstance(found, ContactListListing)
        assert found.skipped == 1
        taken = await account.contact_lists.find("bad")
    assert taken is not None
    assert taken.extra == {"createdAt": "garbage", "totalRecordCount": "n/a"}
