"""The contacts of a list: addContacts bodies in Kore's camelCase, getAllContacts paging."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
from aioresponses import aioresponses

import kore_campaign_async as kca

HOST = "https://kore.example"
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
async def lists() -> AsyncIterator[kca.ContactLists]:
    async with kca.CampaignClient(
        HOST, token="t", rate_limit=None, retry=kca.RetryPolicy.none()
    ) as client:
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
