"""Every endpoint, both versions: method, path, query, headers and body bytes (aioresponses)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from aioresponses import aioresponses
from yarl import URL

import kore_campaign_async as kca
from tests.helpers.clients import HOST, MakeClient

ACCOUNT = "67777ce93e25326494e9aaaa"
IID = "st-0603182c-7ffb-53c3-b307-47ca14b9aaaa"
STREAM = "st-stream-0001"
LIST_ID = "cl-c2ce382-2516-457e-8eb4-9847deecaaaa"
SECRET = "shh-secret-value-0123456789abcdef"

LIST_DOC: dict[str, Any] = {
    "_id": LIST_ID,
    "name": "Renewal Due - July 2025",
    "description": "d",
    "status": "Ready",
    "allowDuplicates": True,
    "createdAt": "2025-12-05T09:22:51.001Z",
    "updatedAt": "2025-12-05T09:22:51.001Z",
}


def ok(data: Any) -> dict[str, Any]:
    return {"status": "success", "message": "", "data": data}


@pytest.fixture
def mocked() -> Any:
    with aioresponses() as m:
        yield m


@pytest.fixture
async def client(make_client: MakeClient) -> AsyncIterator[kca.CampaignClient]:
    async with make_client(
        client_id="cs-test", client_secret=SECRET, retry=kca.RetryPolicy.none()
    ) as c:
        yield c


def only_request(mocked: Any) -> tuple[str, URL, dict[str, Any]]:
    assert len(mocked.requests) == 1, mocked.requests
    (method, url), calls = next(iter(mocked.requests.items()))
    assert len(calls) == 1
    return method, url, calls[0].kwargs


def check_headers(kwargs: dict[str, Any], *, body: bool) -> None:
    headers = kwargs["headers"]
    assert headers["iid"] == IID
    assert headers["accountId"] == ACCOUNT
    claims = jwt.decode(headers["auth"], SECRET, algorithms=["HS256"])
    assert claims["appId"] == "cs-test"
    assert "Authorization" not in headers
    assert (headers.get("Content-Type") == "application/json") is body


V1 = f"{HOST}/agentassist/api/v1/public/{IID}/campaign/contactList"
V2 = f"{HOST}/campaign/api/v2/public/{STREAM}/campaign/contactList"


async def test_create_v1_shape(client: kca.CampaignClient, mocked: Any) -> None:
    mocked.post(f"{V1}/createContactList", payload=ok(LIST_DOC))
    account = client.account(ACCOUNT, iid=IID, stream_id=STREAM)
    created = await account.contact_lists.create(
        "Renewal Due - July 2025", "d", allow_duplicates=True, api_version="v1"
    )
    method, url, kwargs = only_request(mocked)
    assert (method, str(url)) == ("POST", f"{V1}/createContactList")
    check_headers(kwargs, body=True)
    assert kwargs["data"] == (
        b'{"name":"Renewal Due - July 2025","description":"d","source":"passiveApi",'
        b'"allowDuplicates":true}'
    )
    assert created.id == LIST_ID
    assert created.meta is not None
    assert created.meta.attempts == 1


async def test_create_v2_shape_omits_unset_allow_duplicates(
    client: kca.CampaignClient, mocked: Any
) -> None:
    mocked.post(f"{V2}/createContactList?accountId={ACCOUNT}", payload=ok(LIST_DOC))
    account = client.account(ACCOUNT, iid=IID, stream_id=STREAM)
    await account.contact_lists.create("Renewal Due - July 2025", "d")
    method, url, kwargs = only_request(mocked)
    assert (method, str(url)) == ("POST", f"{V2}/createContactList?accountId={ACCOUNT}")
    check_headers(kwargs, body=True)
    assert json.loads(kwargs["data"]) == {
        "name": "Renewal Due - July 2025",
        "description": "d",
        "source": "passiveApi",
    }


@pytest.mark.parametrize(
    ("version", "url"),
    [("v1", f"{V1}/{LIST_ID}"), ("v2", f"{V2}/{LIST_ID}?accountId={ACCOUNT}")],
)
async def test_get_shape(client: kca.CampaignClient, mocked: Any, version: str, url: str) -> None:
    mocked.get(url, payload=ok(LIST_DOC))
    got = await client.account(ACCOUNT, iid=IID, stream_id=STREAM).contact_lists.get(
        LIST_ID,
        api_version=version,  # type: ignore[arg-type]
    )
    method, sent, kwargs = only_request(mocked)
    assert (method, str(sent)) == ("GET", url)
    check_headers(kwargs, body=False)
    assert kwargs["data"] is None
    assert got.name == "Renewal Due - July 2025"


@pytest.mark.parametrize(
    ("version", "url"),
    [("v1", f"{V1}/{LIST_ID}"), ("v2", f"{V2}/{LIST_ID}?accountId={ACCOUNT}")],
)
async def test_delete_shape(
    client: kca.CampaignClient, mocked: Any, version: str, url: str
) -> None:
    mocked.delete(url, payload=ok({**LIST_DOC, "lname": "renewal due - july 2025"}))
    gone = await client.account(ACCOUNT, iid=IID, stream_id=STREAM).contact_lists.delete(
        LIST_ID,
        api_version=version,  # type: ignore[arg-type]
    )
    method, sent, kwargs = only_request(mocked)
    assert (method, str(sent)) == ("DELETE", url)
    check_headers(kwargs, body=False)
    assert gone.lname == "renewal due - july 2025"


@pytest.mark.parametrize(
    ("version", "url"),
    [
        ("v1", f"{V1}/getAllListDetails?type=call"),
        ("v2", f"{V2}/getAllListDetails?accountId={ACCOUNT}&type=call"),
    ],
)
async def test_list_shape(client: kca.CampaignClient, mocked: Any, version: str, url: str) -> None:
    mocked.post(url, payload=ok([LIST_DOC, {**LIST_DOC, "_id": "cl-2", "name": "Other"}]))
    lists = await client.account(ACCOUNT, iid=IID, stream_id=STREAM).contact_lists.list(
        api_version=version  # type: ignore[arg-type]
    )
    method, sent, kwargs = only_request(mocked)
    assert (method, str(sent)) == ("POST", url)
    check_headers(kwargs, body=False)
    assert [cl.id for cl in lists] == [LIST_ID, "cl-2"]


async def test_update_v2_sends_only_changes(client: kca.CampaignClient, mocked: Any) -> None:
    url = f"{V2}/{LIST_ID}?accountId={ACCOUNT}"
    mocked.put(url, payload=ok({"contactListId": LIST_ID, "body": {"name": "N", "scope": "x"}}))
    upd = await client.account(ACCOUNT, iid=IID, stream_id=STREAM).contact_lists.update(
        LIST_ID, name="N"
    )
    method, sent, kwargs = only_request(mocked)
    assert (method, str(sent)) == ("PUT", url)
    check_headers(kwargs, body=True)
    assert kwargs["data"] == b'{"name":"N"}'
    assert (upd.id, upd.name, upd.scope) == (LIST_ID, "N", "x")


async def test_update_v1_complete_sends_one_put(client: kca.CampaignClient, mocked: Any) -> None:
    mocked.put(f"{V1}/{LIST_ID}", payload=ok({"contactListId": LIST_ID, "body": {"name": "N"}}))
    await client.account(ACCOUNT, iid=IID).contact_lists.update(
        LIST_ID, name="N", description="D", allow_duplicates=False, api_version="v1"
    )
    _, _, kwargs = only_request(mocked)
    assert json.loads(kwargs["data"]) == {
        "name": "N",
        "description": "D",
        "source": "passiveApi",
        "allowDuplicates": False,
    }


async def test_update_v1_partial_reads_first_to_keep_fields(
    client: kca.CampaignClient, mocked: Any
) -> None:
    current = {**LIST_DOC, "source": "passiveApiIntegration", "allowDuplicates": True}
    mocked.get(f"{V1}/{LIST_ID}", payload=ok(current), repeat=True)
    mocked.put(f"{V1}/{LIST_ID}", payload=ok({"contactListId": LIST_ID, "body": {}}))
    await client.account(ACCOUNT, iid=IID).contact_lists.update(
        LIST_ID, description="new", api_version="v1"
    )
    put_calls = mocked.requests[("PUT", URL(f"{V1}/{LIST_ID}"))]
    assert json.loads(put_calls[0].kwargs["data"]) == {
        "name": "Renewal Due - July 2025",
        "description": "new",
        "source": "passiveApiIntegration",
        "allowDuplicates": True,
    }


@pytest.mark.parametrize(
    ("version", "base"),
    [
        ("v1", f"{HOST}/agentassist/api/v1/public/{STREAM}/campaign/contactList"),
        ("v2", V2),
    ],
)
async def test_contacts_paging_shape(
    client: kca.CampaignClient, mocked: Any, version: str, base: str
) -> None:
    def page(skip: int, n: int, more: bool) -> dict[str, Any]:
        results = [
            {"_id": f"c{skip + i}", "phoneNumber": f"+1415555{skip + i:04d}"} for i in range(n)
        ]
        return ok(
            {
                "results": results,
                "skip": skip,
                "limit": 2,
                "hasMore": more,
                "totalPages": 2,
                "totalResults": 3,
            }
        )

    pattern = f"{base}/{LIST_ID}/getAllContacts?accountId={ACCOUNT}"
    mocked.get(f"{pattern}&skip=0&limit=2", payload=page(0, 2, True))
    mocked.get(f"{pattern}&skip=2&limit=2", payload=page(2, 1, False))
    account = client.account(ACCOUNT, iid=IID, stream_id=STREAM)
    phones = [
        c.phone_number
        async for c in account.contact_lists.iter_contacts(
            LIST_ID,
            page_size=2,
            api_version=version,  # type: ignore[arg-type]
        )
    ]
    assert phones == ["+14155550000", "+14155550001", "+14155550002"]
    assert len(mocked.requests) == 2


async def test_add_contacts_shape(client: kca.CampaignClient, mocked: Any) -> None:
    url = f"{HOST}/api/1.1/public/{IID}/campaign/contactList/addContacts"
    mocked.post(url, payload={"message": "Adding contacts to public list is in progress"})
    result = await client.account(ACCOUNT, iid=IID, stream_id=STREAM).contact_lists.add_contacts(
        "Renewal Due",
        [
            kca.Contact(phone_number="+14155550100", first_name="Ada"),
            {"phoneNumber": "+14155550101", "plan": "gold"},
        ],
    )
    method, sent, kwargs = only_request(mocked)
    assert (method, str(sent)) == ("POST", url)
    check_headers(kwargs, body=True)
    assert json.loads(kwargs["data"]) == {
        "contact_list_name": "Renewal Due",
        "data": [
            {"phoneNumber": "+14155550100", "firstName": "Ada"},
            {"phoneNumber": "+14155550101", "plan": "gold"},
        ],
    }
    assert result.submitted == 2
    assert "in progress" in result.message


async def test_ids_are_quoted_into_paths(client: kca.CampaignClient, mocked: Any) -> None:
    mocked.get(re.compile(r".*"), payload=ok(LIST_DOC))
    await client.account(ACCOUNT, iid="st-a b").contact_lists.get("cl-x y", api_version="v1")
    (_, url), _ = next(iter(mocked.requests.items()))
    assert url.raw_path.endswith("/public/st-a%20b/campaign/contactList/cl-x%20y")


async def test_one_token_is_reused_across_requests(client: kca.CampaignClient, mocked: Any) -> None:
    mocked.get(re.compile(r".*"), payload=ok(LIST_DOC), repeat=True)
    account = client.account(ACCOUNT, iid=IID)
    for _ in range(3):
        await account.contact_lists.get(LIST_ID)
    (_, _), calls = next(iter(mocked.requests.items()))
    assert len({call.kwargs["headers"]["auth"] for call in calls}) == 1
    assert isinstance(client.auth, kca.JwtSigner)
    assert client.auth.signed == 1


async def test_a_rejected_token_is_renewed_in_the_resends_headers(
    client: kca.CampaignClient, mocked: Any
) -> None:
    mocked.get(re.compile(r".*"), status=401, payload={"errors": [{"msg": "Invalid JWT token"}]})
    mocked.get(re.compile(r".*"), payload=ok(LIST_DOC))
    result = await client.account(ACCOUNT, iid=IID).contact_lists.get(LIST_ID)
    assert result.meta is not None
    assert result.meta.attempts == 2
    (_, _), calls = next(iter(mocked.requests.items()))
    first, resend = (call.kwargs for call in calls)
    assert first["headers"]["auth"] != resend["headers"]["auth"]
    check_headers(resend, body=False)
    assert isinstance(client.auth, kca.JwtSigner)
    assert client.auth.signed == 2


async def test_each_call_sends_its_own_timeout(client: kca.CampaignClient, mocked: Any) -> None:
    mocked.get(re.compile(r".*"), payload=ok(LIST_DOC), repeat=True)
    lists = client.account(ACCOUNT, iid=IID).contact_lists
    no_deadline = kca.RetryPolicy(deadline=None)  # else the deadline bounds timeout=None
    for timeout in ("default", 7.0, "default", kca.Timeout(total=3.0, connect=1.0), None):
        await lists.get(LIST_ID, timeout=timeout, retry=no_deadline)
    (_, _), calls = next(iter(mocked.requests.items()))
    sent = [(t.total, t.connect, t.sock_connect) for t in (c.kwargs["timeout"] for c in calls)]
    default = (60.0, 10.0, 10.0)
    assert sent == [default, (7.0, 7.0, 7.0), default, (3.0, 1.0, 1.0), (None, None, None)]


async def test_null_text_in_answers_never_reads_as_none(
    client: kca.CampaignClient, mocked: Any
) -> None:
    mocked.get(f"{V2}/{LIST_ID}?accountId={ACCOUNT}", payload=ok({**LIST_DOC, "description": None}))
    url = f"{HOST}/api/1.1/public/{IID}/campaign/contactList/addContacts"
    mocked.post(url, payload={"message": None})
    lists = client.account(ACCOUNT, iid=IID, stream_id=STREAM).contact_lists
    assert (await lists.get(LIST_ID)).description == ""
    added = await lists.add_contacts("Renewal Due", [kca.Contact(phone_number="+14155550100")])
    assert added.message == ""


async def test_create_without_description_sends_the_required_empty_one(
    client: kca.CampaignClient, mocked: Any
) -> None:
    mocked.post(f"{V2}/createContactList?accountId={ACCOUNT}", payload=ok(LIST_DOC))
    account = client.account(ACCOUNT, iid=IID, stream_id=STREAM)
    await account.contact_lists.create(kca.ContactListCreate(name="Renewal Due - July 2025"))
    _, _, kwargs = only_request(mocked)
    assert json.loads(kwargs["data"])["description"] == ""


async def test_update_refuses_changes_and_keywords_together(
    client: kca.CampaignClient, mocked: Any
) -> None:
    lists = client.account(ACCOUNT, iid=IID).contact_lists
    changes = kca.ContactListUpdate(description="d")
    with pytest.raises(kca.ValidationError, match=r"^name: update\(\) got changes and name too"):
        await lists.update(LIST_ID, changes, name="N")
    with pytest.raises(kca.ValidationError, match="description, allow_duplicates too"):
        await lists.update(LIST_ID, changes, description="e", allow_duplicates=True)
    assert not mocked.requests


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"description": "d"}, "description"),
        ({"description": ""}, "description"),  # an explicit "" is a wish too
        ({"allow_duplicates": False}, "allow_duplicates"),
        ({"source": "passiveApi"}, "source"),
    ],
)
async def test_create_refuses_a_spec_and_keywords_together(
    client: kca.CampaignClient, mocked: Any, kwargs: dict[str, Any], field: str
) -> None:
    lists = client.account(ACCOUNT, iid=IID).contact_lists
    spec = kca.ContactListCreate(name="A", description="from the spec")
    with pytest.raises(
        kca.ValidationError, match=f"^{field}: create\\(\\) got a ContactListCreate"
    ):
        await lists.create(spec, **kwargs)
    assert not mocked.requests


async def test_concurrency_zero_is_refused_not_the_default(
    client: kca.CampaignClient, mocked: Any
) -> None:
    from kore_campaign_async._bulk.sync_many import sync_many

    account = client.account(ACCOUNT, iid=IID)
    message = r"^concurrency: must be a positive integer, got 0$"
    with pytest.raises(kca.ValidationError, match=message):
        await account.contact_lists.create_many([{"name": "A"}], concurrency=0)
    with pytest.raises(kca.ValidationError, match=message):
        await account.contact_lists.sync([{"name": "A"}], concurrency=0)
    targets: dict[kca.Account, list[kca.ContactListSpec]] = {account: [{"name": "A"}]}
    with pytest.raises(kca.ValidationError, match=message):
        await sync_many(targets, concurrency=0)
    assert not mocked.requests


async def test_v1_partial_update_refuses_to_guess_an_unreported_flag(
    client: kca.CampaignClient, mocked: Any
) -> None:
    current = {k: v for k, v in LIST_DOC.items() if k != "allowDuplicates"}
    mocked.get(f"{V1}/{LIST_ID}", payload=ok(current), repeat=True)
    lists = client.account(ACCOUNT, iid=IID).contact_lists
    with pytest.raises(kca.ValidationError, match=r"^allow_duplicates: Kore did not report"):
        await lists.update(LIST_ID, description="new", api_version="v1")
    assert ("PUT", URL(f"{V1}/{LIST_ID}")) not in mocked.requests  # nothing written
    assert (await lists.get(LIST_ID, api_version="v1")).allow_duplicates is None


async def test_v2_update_refuses_allow_duplicates_which_kore_v2_does_not_take(
    client: kca.CampaignClient, mocked: Any
) -> None:
    lists = client.account(ACCOUNT, iid=IID).contact_lists
    with pytest.raises(kca.ValidationError, match=r"^allow_duplicates: Kore's v2 update takes"):
        await lists.update(LIST_ID, description="d", allow_duplicates=True, api_version="v2")
    assert not mocked.requests


async def test_update_with_no_version_named_sends_a_flag_change_through_v1(
    client: kca.CampaignClient, mocked: Any
) -> None:
    assert client.api_version == "v2"
    mocked.put(f"{V1}/{LIST_ID}", payload=ok({"contactListId": LIST_ID, "body": {"name": "N"}}))
    updated = await client.account(ACCOUNT, iid=IID).contact_lists.update(
        LIST_ID, name="N", description="D", allow_duplicates=True
    )
    _, url, kwargs = only_request(mocked)
    assert str(url) == f"{V1}/{LIST_ID}"
    assert json.loads(kwargs["data"])["allowDuplicates"] is True
    assert updated.meta is not None
    assert updated.meta.api_version == "v1"
