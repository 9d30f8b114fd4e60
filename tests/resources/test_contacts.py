"""The contacts of a list: addContacts bodies in Kore's camelCase, getAllContacts paging."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
from aioresponses import aioresponses

import kore_campaign_async as kca
from tests.helpers.clients import HOST, MakeClient

ACCOUNT = "acct-1"
IID = "st-app-1"
LIST_ID = "cl-1"
ADD_URL = f"{HOST}/api/1.1/public/{IID}/campaign/contactList/addContacts"
CONTACTS_URL = (
    f"{HOST}/campaign/api/v2/public/{IID}/campaign/contactList/{LIST_ID}/getAllContacts"
    f"?accountId={ACCOUNT}"
)


@pytest.fixture
def mocked() -> Any:
    with aioresponses() as m:
        yield m


@pytest.fixture
async def lists(make_client: MakeClient) -> AsyncIterator[kca.ContactLists]:
    async with make_client(retry=kca.RetryPolicy.none()) as client:
        yield client.account(ACCOUNT, iid=IID).contact_lists


def sent_contacts(mocked: Any) -> Any:
    ((_, calls),) = mocked.requests.items()
    (call,) = calls
    return json.loads(call.kwargs["data"])["data"]


WRITABLE_CONTACT_FIELDS = {
    "phone_number": ("phoneNumber", "+14155550100"),
    "first_name": ("firstName", "Ada"),
    "last_name": ("lastName", "Lovelace"),
    "time_zone": ("timeZone", "Europe/London"),
    "unique_id": ("uniqueId", "u-1"),
    "contact_priority": ("contactPriority", 2),
}


def test_every_writable_contact_field_is_listed_here() -> None:
    read_back = {"fields", "id", "created_at", "updated_at"}
    assert {f.name for f in attrs.fields(kca.Contact)} - read_back == set(WRITABLE_CONTACT_FIELDS)


async def test_contact_mappings_go_over_the_wire_in_camel_case(
    lists: kca.ContactLists, mocked: Any
) -> None:
    mocked.post(ADD_URL, payload={"message": "in progress"})
    snake = {attr: value for attr, (_, value) in WRITABLE_CONTACT_FIELDS.items()}
    camel = dict(WRITABLE_CONTACT_FIELDS.values())
    contact = kca.Contact(**snake)  # type: ignore[arg-type]
    await lists.add_contacts("L", [{**snake, "plan": "gold"}, contact])
    assert sent_contacts(mocked) == [{**camel, "plan": "gold"}, camel]


@pytest.mark.parametrize("attr", sorted(WRITABLE_CONTACT_FIELDS))
async def test_a_contact_mapping_with_both_spellings_is_refused(
    lists: kca.ContactLists, mocked: Any, attr: str
) -> None:
    wire, value = WRITABLE_CONTACT_FIELDS[attr]
    contact = {"phoneNumber": "+14155550100", attr: value, wire: value}
    if attr == "phone_number":
        contact = {attr: value, wire: value}
    with pytest.raises(kca.ValidationError, match=f"^contacts\\[1\\].{attr}: given twice"):
        await lists.add_contacts("L", [{"phoneNumber": "+1"}, contact])
    assert not mocked.requests


def page(
    ids: list[str], *, skip: int, has_more: bool = True, total: int | None = None
) -> dict[str, Any]:
    results = [{"_id": i, "phoneNumber": f"+1415555{n:04d}"} for n, i in enumerate(ids)]
    data: dict[str, Any] = {"results": results, "skip": skip, "limit": 2, "hasMore": has_more}
    if total is not None:
        data["totalResults"] = total
    return {"status": "success", "data": data}


async def test_a_contacts_page_reports_its_attempts(mocked: Any, make_client: MakeClient) -> None:
    mocked.get(f"{CONTACTS_URL}&skip=0&limit=50", status=503, body="busy")
    mocked.get(f"{CONTACTS_URL}&skip=0&limit=50", payload=page(["c1"], skip=0, has_more=False))
    retry = kca.RetryPolicy(max_attempts=2, backoff_base=0.001, backoff_cap=0.001)
    async with make_client(retry=retry) as client:
        got = await client.account(ACCOUNT, iid=IID).contact_lists.list_contacts(LIST_ID)
    assert [c.id for c in got.results] == ["c1"]
    assert got.meta == kca.ResponseMeta(attempts=2, status=200, api_version="v2")
    assert got == attrs.evolve(
        got, meta=kca.ResponseMeta()
    )  # meta is not part of equality, as elsewhere


async def test_iteration_stops_at_total_results_even_if_has_more_lies(
    lists: kca.ContactLists, mocked: Any
) -> None:
    mocked.get(f"{CONTACTS_URL}&skip=0&limit=2", payload=page(["c1", "c2"], skip=0, total=3))
    mocked.get(f"{CONTACTS_URL}&skip=2&limit=2", payload=page(["c3"], skip=2, total=3))
    ids = [c.id async for c in lists.iter_contacts(LIST_ID, page_size=2)]
    assert ids == ["c1", "c2", "c3"]
    assert sum(len(calls) for calls in mocked.requests.values()) == 2


@pytest.mark.parametrize("with_ids", [True, False])
async def test_a_server_ignoring_skip_is_an_error_not_an_endless_loop(
    lists: kca.ContactLists, mocked: Any, with_ids: bool
) -> None:
    same = page(["c1", "c2"], skip=0)  # hasMore forever, no totalResults
    if not with_ids:
        for contact in same["data"]["results"]:
            del contact["_id"]
    mocked.get(re.compile(r".*/getAllContacts\?.*"), payload=same, repeat=True)
    seen: list[str] = []

    async def collect() -> None:
        async for contact in lists.iter_contacts(LIST_ID, page_size=2):
            seen.append(contact.phone_number)
            assert len(seen) < 10, "looped"

    with pytest.raises(kca.APIResponseDecodeError, match=r"skip=2 starts with contact .* again"):
        await collect()
    assert seen == ["+14155550000", "+14155550001"]  # the first page, once
    assert sum(len(calls) for calls in mocked.requests.values()) == 2
