"""Create, get, update, list and delete over HTTP, in both API versions."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kore_campaign_async.testing import FakeKoreServer
from tests.helpers.fake_server import ACCOUNT, IID, Kore

V1_ONLY = {"orgId", "lname", "iId", "accountId"}
ID_PATTERN = re.compile(r"^cl-[0-9a-f]{7}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
STAMP_PATTERN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
BOTH = pytest.mark.parametrize("version", ["v1", "v2"])


def failure(message: str) -> dict[str, Any]:
    return {"status": "failure", "message": message}


def invalid(msg: str) -> dict[str, Any]:
    return {"errors": [{"msg": msg, "code": 412}]}


@BOTH
async def test_create_answers_the_documented_envelope(kore: Kore, version: str) -> None:
    answer = await kore.create("Renewal Due", version, description="July", allowDuplicates=True)
    assert answer.status == 200
    assert answer.body["status"] == "success"
    assert answer.body["message"] == "Contact list Renewal Due created successfully"
    data = answer.body["data"]
    assert ID_PATTERN.match(data["_id"])
    assert STAMP_PATTERN.match(data["createdAt"])
    assert data["createdAt"] == data["updatedAt"]
    expected = {
        "isActive": True,
        "name": "Renewal Due",
        "description": "July",
        "totalRecordCount": 0,
        "status": "Ready",
        "createdBy": "u-fake-user",
        "updatedBy": "u-fake-user",
        "isListInUse": False,
        "listType": "call",
        "isGlobalDNC": False,
        "isDefault": False,
        "campaignInUse": [],
        "source": "passiveApi",
        "apiConfigurations": {"dataSyncMode": "allowDuplicates"},
        "columns": [],
        "files": [],
        "allowDuplicates": True,
    }
    assert {key: data[key] for key in expected} == expected
    assert data["mapping"]["contactPriority"] == "contactPriority"
    if version == "v1":
        assert {k: data[k] for k in V1_ONLY} == {
            "orgId": "o-fake-org",
            "lname": "renewal due",
            "iId": IID,
            "accountId": ACCOUNT,
        }
    else:
        assert not V1_ONLY & data.keys()


async def test_create_defaults_allow_duplicates_strips_the_name_and_ignores_unknown_keys(
    kore: Kore, server: FakeKoreServer
) -> None:
    answer = await kore.create("  Padded  ", source="passiveApiIntegration", colour="blue")
    assert answer.status == 200
    assert answer.body["data"]["name"] == "Padded"
    assert answer.body["data"]["allowDuplicates"] is False
    assert answer.body["data"]["source"] == "passiveApiIntegration"
    assert "colour" not in server.lists(ACCOUNT)[0]


@pytest.mark.parametrize(
    ("body", "msg"),
    [
        ({"description": "", "source": "passiveApi"}, "name: is required"),
        ({"name": 5, "description": "", "source": "passiveApi"}, "name: must be a string"),
        ({"name": "   ", "description": "", "source": "passiveApi"}, "name: must not be empty"),
        (
            {"name": "n" * 49, "description": "", "source": "passiveApi"},
            "name: must be at most 48 characters",
        ),
        ({"name": "n", "source": "passiveApi"}, "description: is required"),
        (
            {"name": "n", "description": "d" * 257, "source": "passiveApi"},
            "description: must be at most 256 characters",
        ),
        ({"name": "n", "description": ""}, "source: is required"),
        (
            {"name": "n", "description": "", "source": "localDrive"},
            "source: must be one of passiveApi, passiveApiIntegration",
        ),
        (
            {"name": "n", "description": "", "source": "passiveApi", "allowDuplicates": "yes"},
            "allowDuplicates: must be a boolean",
        ),
        (["not", "an", "object"], "body: must be a JSON object"),
    ],
)
async def test_create_rejects_bad_bodies(
    kore: Kore, server: FakeKoreServer, body: Any, msg: str
) -> None:
    answer = await kore.op("POST", "v2", "/createContactList", body=body)
    assert (answer.status, answer.body) == (400, invalid(msg))
    assert server.lists(ACCOUNT) == []


async def test_create_accepts_the_limits_exactly(kore: Kore) -> None:
    answer = await kore.create("n" * 48, description="d" * 256)
    assert answer.status == 200


async def test_create_rejects_a_body_that_is_not_json(kore: Kore) -> None:
    async with kore.session.post(
        kore.server.url + "/agentassist/api/v1/public/x/campaign/contactList/createContactList",
        data=b"{oops",
        headers=kore.headers(),
    ) as response:
        assert response.status == 400
        assert await response.json() == invalid("body: must be valid JSON")


async def test_names_are_unique_per_account_regardless_of_case(kore: Kore) -> None:
    assert (await kore.create("Renewals")).status == 200
    clash = await kore.create("RENEWALS", "v1")
    assert (clash.status, clash.body) == (
        409,
        failure("Contact list with name 'RENEWALS' already exists"),
    )
    assert (await kore.create("renewals", account="acc-2")).status == 200


@BOTH
async def test_get_answers_the_list_in_the_version_shape(kore: Kore, version: str) -> None:
    created = (await kore.create("Get me", "v1")).body["data"]
    answer = await kore.op("GET", version, f"/{created['_id']}")
    assert answer.status == 200
    assert answer.body["message"] == ""
    if version == "v1":
        assert answer.body["data"] == created
    else:
        assert answer.body["data"] == {k: v for k, v in created.items() if k not in V1_ONLY}


@BOTH
@pytest.mark.parametrize(
    ("method", "body"), [("GET", None), ("DELETE", None), ("PUT", {"name": "x"})]
)
async def test_unknown_ids_are_404(kore: Kore, version: str, method: str, body: Any) -> None:
    if body is not None and version == "v1":
        body = {"name": "x", "source": "passiveApi", "allowDuplicates": False}
    answer = await kore.op(method, version, "/cl-missing", body=body)
    assert (answer.status, answer.body) == (404, failure("Contact list not found"))


async def test_lists_are_kept_per_account(kore: Kore) -> None:
    created = (await kore.create("Mine")).body["data"]
    answer = await kore.op("GET", "v2", f"/{created['_id']}", account="acc-2")
    assert answer.status == 404


async def test_update_v1_requires_name_source_and_allow_duplicates(kore: Kore) -> None:
    list_id = (await kore.create("Old")).body["data"]["_id"]
    full = {"name": "New", "source": "passiveApi", "allowDuplicates": True}
    for missing in full:
        body = {key: value for key, value in full.items() if key != missing}
        answer = await kore.op("PUT", "v1", f"/{list_id}", body=body)
        assert (answer.status, answer.body) == (400, invalid(f"{missing}: is required"))


async def test_update_v1_answers_the_documented_body(kore: Kore, server: FakeKoreServer) -> None:
    list_id = (await kore.create("Old", description="before")).body["data"]["_id"]
    body = {
        "name": "New Name",
        "description": "after",
        "source": "passiveApiIntegration",
        "allowDuplicates": True,
    }
    answer = await kore.op("PUT", "v1", f"/{list_id}", body=body)
    assert answer.status == 200
    assert answer.body == {
        "status": "success",
        "message": "Contact list New Name updated successfully",
        "data": {
            "contactListId": list_id,
            "body": {
                "name": "New Name",
                "orgId": "o-fake-org",
                "iId": IID,
                "listType": "call",
                "accountId": ACCOUNT,
                "updatedBy": "u-fake-user",
                "description": "after",
                "allowDuplicates": True,
            },
        },
    }
    (stored,) = server.lists(ACCOUNT)
    assert (stored["name"], stored["lname"], stored["description"]) == (
        "New Name",
        "new name",
        "after",
    )
    assert (stored["source"], stored["allowDuplicates"]) == ("passiveApiIntegration", True)


async def test_update_v2_takes_any_subset_and_adds_scope(
    kore: Kore, server: FakeKoreServer
) -> None:
    list_id = (await kore.create("Keep", description="before")).body["data"]["_id"]
    answer = await kore.op("PUT", "v2", f"/{list_id}", body={"description": "after"})
    assert answer.status == 200
    assert answer.body["data"]["body"] == {
        "name": "Keep",
        "orgId": "o-fake-org",
        "iId": IID,
        "listType": "call",
        "accountId": ACCOUNT,
        "updatedBy": "u-fake-user",
        "description": "after",
        "scope": "campaign",
    }
    assert (await kore.op("PUT", "v2", f"/{list_id}", body={})).status == 200
    assert server.lists(ACCOUNT)[0]["description"] == "after"


async def test_update_validates_like_create(kore: Kore) -> None:
    list_id = (await kore.create("Old")).body["data"]["_id"]
    answer = await kore.op("PUT", "v2", f"/{list_id}", body={"name": "n" * 49})
    assert (answer.status, answer.body) == (400, invalid("name: must be at most 48 characters"))


async def test_renaming_onto_another_list_is_409_but_recasing_your_own_is_fine(
    kore: Kore,
) -> None:
    first = (await kore.create("First")).body["data"]["_id"]
    await kore.create("Second")
    clash = await kore.op("PUT", "v2", f"/{first}", body={"name": "SECOND"})
    assert (clash.status, clash.body) == (
        409,
        failure("Contact list with name 'SECOND' already exists"),
    )
    assert (await kore.op("PUT", "v2", f"/{first}", body={"name": "FIRST"})).status == 200
    assert (await kore.op("PUT", "v2", f"/{first}", body={"name": "Renamed"})).status == 200
    # The old name is free again.
    assert (await kore.create("first")).status == 200


@BOTH
async def test_list_all_answers_every_list_of_the_account_in_order(
    kore: Kore, version: str
) -> None:
    for name in ("B", "A", "C"):
        await kore.create(name)
    await kore.create("Elsewhere", account="acc-2")
    answer = await kore.list_all(version)
    assert answer.status == 200
    assert [item["name"] for item in answer.body["data"]] == ["B", "A", "C"]
    assert all(("lname" in item) == (version == "v1") for item in answer.body["data"])


@BOTH
async def test_list_all_shows_every_change_to_a_list(kore: Kore, version: str) -> None:
    # The server encodes each list once for listings: a change must reach the next listing.
    list_id = (await kore.create("Before", description="old")).body["data"]["_id"]
    (before,) = (await kore.list_all(version)).body["data"]
    await kore.op("PUT", "v2", f"/{list_id}", body={"name": "After", "description": "new"})
    assert (await kore.add_contacts("After", ["+15550000001"])).status == 200
    (after,) = (await kore.list_all(version)).body["data"]
    assert (before["name"], before["description"], before["totalRecordCount"]) == (
        "Before",
        "old",
        0,
    )
    assert (after["name"], after["description"], after["totalRecordCount"]) == ("After", "new", 1)
    assert after["updatedAt"] >= before["updatedAt"]
    assert after.get("lname", "after") == "after"  # v1 only


@pytest.mark.parametrize(
    ("params", "msg"), [({}, "type: is required"), ({"type": "sms"}, "type: must be call")]
)
async def test_list_all_needs_type_call(kore: Kore, params: dict[str, str], msg: str) -> None:
    answer = await kore.op("POST", "v1", "/getAllListDetails", params=params)
    assert (answer.status, answer.body) == (400, invalid(msg))


async def test_list_all_shows_seeded_ui_lists(kore: Kore, server: FakeKoreServer) -> None:
    server.seed_list(
        ACCOUNT,
        IID,
        "Uploaded",
        source="localDrive",
        status="Validated",
        campaign_in_use=[{"id": "camp-1", "name": "Spring"}],
    )
    (item,) = (await kore.list_all()).body["data"]
    assert (item["source"], item["status"], item["isListInUse"]) == (
        "localDrive",
        "Validated",
        True,
    )
    assert item["campaignInUse"] == [{"id": "camp-1", "name": "Spring"}]


@BOTH
async def test_delete_answers_the_deleted_list_and_forgets_it(kore: Kore, version: str) -> None:
    created = (await kore.create("Doomed", "v1")).body["data"]
    answer = await kore.op("DELETE", version, f"/{created['_id']}")
    assert answer.status == 200
    assert answer.body["message"] == "Contact list Doomed deleted successfully"
    assert answer.body["data"]["_id"] == created["_id"]
    assert ("lname" in answer.body["data"]) == (version == "v1")
    assert (await kore.op("GET", version, f"/{created['_id']}")).status == 404
    assert (await kore.create("DOOMED")).status == 200


async def test_a_list_in_use_cannot_be_deleted(kore: Kore, server: FakeKoreServer) -> None:
    seeded = server.seed_list(
        ACCOUNT,
        IID,
        "Busy",
        campaign_in_use=[{"id": "c1", "name": "Spring"}, {"id": "c2", "name": "Fall"}],
    )
    answer = await kore.op("DELETE", "v2", f"/{seeded['_id']}")
    assert (answer.status, answer.body) == (
        409,
        failure("Contact list is in use by campaign(s): Spring, Fall"),
    )
    assert len(server.lists(ACCOUNT)) == 1
