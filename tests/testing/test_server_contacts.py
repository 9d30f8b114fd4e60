"""getAllContacts paging, addContacts, and unknown routes over HTTP."""

from __future__ import annotations

import pytest

from kore_campaign_async.testing import FakeKoreServer
from tests.helpers.fake_server import ACCOUNT, ADD_CONTACTS, IID, Kore

BOTH = pytest.mark.parametrize("version", ["v1", "v2"])


@BOTH
@pytest.mark.parametrize(
    ("params", "skip", "limit", "count", "has_more", "pages"),
    [
        ({}, 0, 50, 50, True, 3),
        ({"skip": "100"}, 100, 50, 20, False, 3),
        ({"skip": "40", "limit": "30"}, 40, 30, 30, True, 4),
        ({"limit": "500"}, 0, 50, 50, True, 3),
        ({"skip": "120"}, 120, 50, 0, False, 3),
    ],
)
async def test_contacts_are_paged_by_skip_and_limit(
    kore: Kore,
    server: FakeKoreServer,
    version: str,
    params: dict[str, str],
    skip: int,
    limit: int,
    count: int,
    has_more: bool,
    pages: int,
) -> None:
    seeded = server.seed_list(ACCOUNT, IID, "Big", contacts=120)
    answer = await kore.op("GET", version, f"/{seeded['_id']}/getAllContacts", params=params)
    assert answer.status == 200
    data = answer.body["data"]
    assert (data["skip"], data["limit"], data["hasMore"]) == (skip, limit, has_more)
    assert (data["totalPages"], data["totalResults"]) == (pages, 120)
    stored = server.contacts(ACCOUNT, seeded["_id"])
    assert data["results"] == stored[skip : skip + count]
    assert len(data["results"]) == count


async def test_an_empty_list_has_no_pages(kore: Kore, server: FakeKoreServer) -> None:
    seeded = server.seed_list(ACCOUNT, IID, "Empty")
    data = (await kore.op("GET", "v2", f"/{seeded['_id']}/getAllContacts")).body["data"]
    assert data == {
        "results": [],
        "skip": 0,
        "limit": 50,
        "hasMore": False,
        "totalPages": 0,
        "totalResults": 0,
    }


@pytest.mark.parametrize(
    ("params", "msg"),
    [
        ({"skip": "-1"}, "skip: must be at least 0"),
        ({"limit": "0"}, "limit: must be at least 1"),
        ({"limit": "ten"}, "limit: must be an integer"),
    ],
)
async def test_bad_paging_is_400(
    kore: Kore, server: FakeKoreServer, params: dict[str, str], msg: str
) -> None:
    seeded = server.seed_list(ACCOUNT, IID, "L")
    answer = await kore.op("GET", "v2", f"/{seeded['_id']}/getAllContacts", params=params)
    assert (answer.status, answer.body) == (400, {"errors": [{"msg": msg, "code": 412}]})


async def test_contacts_of_an_unknown_list_are_404(kore: Kore) -> None:
    answer = await kore.op("GET", "v1", "/cl-missing/getAllContacts")
    assert answer.status == 404


async def test_add_contacts_stores_them_at_once(kore: Kore, server: FakeKoreServer) -> None:
    list_id = (await kore.create("Renewals")).body["data"]["_id"]
    body = {
        "contact_list_name": "RENEWALS",
        "data": [{"phoneNumber": "+15550001", "firstName": "Ann"}, {"phoneNumber": "+15550002"}],
    }
    answer = await kore.call("POST", ADD_CONTACTS, body=body)
    assert (answer.status, answer.body) == (
        200,
        {"message": "Adding contacts to public list is in progress"},
    )
    contacts = server.contacts(ACCOUNT, list_id)
    assert [c["phoneNumber"] for c in contacts] == ["+15550001", "+15550002"]
    assert contacts[0]["firstName"] == "Ann"
    assert {"_id", "createdAt", "updatedAt"} <= contacts[0].keys()
    got = await kore.op("GET", "v2", f"/{list_id}")
    assert got.body["data"]["totalRecordCount"] == 2


@pytest.mark.parametrize(("allow", "expected"), [(False, 3), (True, 5)])
async def test_duplicates_are_skipped_unless_allowed(
    kore: Kore, server: FakeKoreServer, allow: bool, expected: int
) -> None:
    list_id = (await kore.create("Dups", allowDuplicates=allow)).body["data"]["_id"]
    await kore.add_contacts("Dups", ["+1", "+2", "+1"])
    await kore.add_contacts("Dups", ["+2", "+3"])
    assert len(server.contacts(ACCOUNT, list_id)) == expected
    assert server.lists(ACCOUNT)[0]["totalRecordCount"] == expected


async def test_add_contacts_to_an_unknown_list_is_404(kore: Kore) -> None:
    answer = await kore.add_contacts("Nobody", ["+1"])
    assert (answer.status, answer.body) == (
        404,
        {"status": "failure", "message": "Contact list not found"},
    )


@pytest.mark.parametrize(
    ("data", "msg"),
    [
        (
            [{"phoneNumber": "+1"}, {"phoneNumber": ""}],
            "data[1].phoneNumber: must be a non-empty string",
        ),
        ([{"phoneNumber": "+1"}, {"name": "x"}], "data[1].phoneNumber: must be a non-empty string"),
        ([{"phoneNumber": 15550001}], "data[0].phoneNumber: must be a non-empty string"),
        (["+1"], "data[0]: must be an object"),
        ("+1", "data: must be an array"),
    ],
)
async def test_one_bad_contact_rejects_the_whole_batch(
    kore: Kore, server: FakeKoreServer, data: object, msg: str
) -> None:
    list_id = (await kore.create("Strict")).body["data"]["_id"]
    answer = await kore.call(
        "POST", ADD_CONTACTS, body={"contact_list_name": "Strict", "data": data}
    )
    assert (answer.status, answer.body) == (400, {"errors": [{"msg": msg, "code": 412}]})
    assert server.contacts(ACCOUNT, list_id) == []


async def test_add_contacts_needs_a_list_name(kore: Kore) -> None:
    answer = await kore.call("POST", ADD_CONTACTS, body={"data": []})
    assert answer.status == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/campaign/api/v2/public/st-1/campaign/contactList"),
        ("PATCH", "/campaign/api/v2/public/st-1/campaign/contactList/cl-1"),
    ],
)
async def test_unknown_routes_are_plain_404(
    kore: Kore, server: FakeKoreServer, method: str, path: str
) -> None:
    answer = await kore.call(method, path)
    assert answer.status == 404
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert isinstance(answer.body, str)
    (record,) = server.requests
    assert (record.operation, record.status) == (None, 404)
