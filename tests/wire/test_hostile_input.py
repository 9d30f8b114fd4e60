"""Hostile input is a ValidationError naming the field, raised before anything is sent.

Dot segments in ids (yarl would resolve them into another path) and lone surrogates in text
(the transport would raise UnicodeEncodeError mid-request).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import kore_campaign_async as kca
from kore_campaign_async._wire.validation import check_id, check_json_text, check_name
from kore_campaign_async.testing import FakeKoreServer
from tests.helpers.clients import MakeClient

LONE = "caf\udce9"  # what os.fsdecode() makes of a Latin-1 "café"
HOSTILE_IDS = [".", "..", "", "   ", "a\nb", "a\rb", "a\x00b", "\t", "a/b", "..\u2028"]


@pytest.mark.parametrize("ident", HOSTILE_IDS)
def test_check_id_refuses_path_hostile_ids(ident: str) -> None:
    with pytest.raises(kca.ValidationError) as info:
        check_id("list_id", ident)
    assert info.value.field == "list_id"


@pytest.mark.parametrize("ident", ["...", "a..b", ".a", "a.", "%2e%2e", "cl-1", "a b"])
def test_check_id_keeps_ids_that_are_not_dot_segments(ident: str) -> None:
    assert check_id("list_id", ident) == ident


def test_check_id_refuses_a_lone_surrogate() -> None:
    with pytest.raises(kca.ValidationError, match="list_id"):
        check_id("list_id", "cl-\ud800")


def test_a_lone_surrogate_is_named_with_its_index() -> None:
    with pytest.raises(kca.ValidationError) as info:
        check_name(LONE, "list_name")
    assert info.value.field == "list_name"
    assert "surrogate" in info.value.message
    assert "index 3" in info.value.message


def test_check_json_text_names_the_nested_field() -> None:
    body = {"phoneNumber": "+1", "extra": [{"ok": "fine"}, {"city": LONE}]}
    with pytest.raises(kca.ValidationError) as info:
        check_json_text("contacts[2]", body)
    assert info.value.field == "contacts[2].extra[1].city"


def test_check_json_text_checks_keys_and_survives_deep_nesting() -> None:
    with pytest.raises(kca.ValidationError, match=r"contacts\[0\] key"):
        check_json_text("contacts[0]", {LONE: "x"})
    deep: Any = "ok"
    for _ in range(10 * sys.getrecursionlimit()):  # far past where recursion would fail
        deep = [deep]
    check_json_text("contacts[0]", deep)  # no RecursionError


@pytest.mark.parametrize("field", ["name", "description"])
def test_contact_list_create_refuses_a_lone_surrogate(field: str) -> None:
    values: dict[str, Any] = {"name": "Valid", "description": "fine", field: LONE}
    with pytest.raises(kca.ValidationError) as info:
        kca.ContactListCreate(**values)
    assert info.value.field == field


def test_non_ascii_text_is_still_accepted() -> None:
    spec = kca.ContactListCreate(name="Café ☕ 日本", description="naïve")
    assert spec.name == "Café ☕ 日本"


# -- end to end: nothing reaches the server ----------------------------------------------------


@pytest.mark.parametrize("ident", [".", ".."])
@pytest.mark.parametrize("operation", ["get", "delete", "update", "list_contacts"])
async def test_dot_list_ids_are_refused_before_sending(
    account: kca.Account, server: FakeKoreServer, ident: str, operation: str
) -> None:
    lists = account.contact_lists
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "get": lambda: lists.get(ident),
        "delete": lambda: lists.delete(ident),
        "update": lambda: lists.update(ident, name="New", allow_duplicates=True),
        "list_contacts": lambda: lists.list_contacts(ident),
    }
    with pytest.raises(kca.ValidationError) as info:
        await calls[operation]()
    assert info.value.field == "list_id"
    assert server.requests == []


@pytest.mark.parametrize("field", ["account_id", "iid", "stream_id"])
@pytest.mark.parametrize("ident", [".", ".."])
def test_dot_account_ids_are_refused(client: kca.CampaignClient, field: str, ident: str) -> None:
    ids = {"account_id": "acct-1", "iid": "st-app-1", "stream_id": "st-1", field: ident}
    with pytest.raises(kca.ValidationError) as info:
        client.account(ids["account_id"], iid=ids["iid"], stream_id=ids["stream_id"])
    assert info.value.field == field


async def test_lone_surrogates_are_refused_before_sending(
    account: kca.Account, server: FakeKoreServer
) -> None:
    lists = account.contact_lists
    attempts = [
        ("name", lists.create(LONE)),
        ("description", lists.create("Valid", LONE)),
        ("name", lists.update("cl-1", name=LONE, allow_duplicates=True)),
        ("description", lists.update("cl-1", description=LONE, allow_duplicates=True)),
        ("list_name", lists.add_contacts(LONE, [{"phone_number": "+14155550100"}])),
        (
            "contacts[0].firstName",
            lists.add_contacts("L", [{"phone_number": "+1", "firstName": LONE}]),
        ),
        (
            "contacts[1].firstName",
            lists.add_contacts(
                "L",
                [kca.Contact(phone_number="+1"), kca.Contact(phone_number="+2", first_name=LONE)],
            ),
        ),
        ("contacts[0].phoneNumber", lists.add_contacts("L", [{"phone_number": "+1" + LONE}])),
    ]
    for field, call in attempts:
        with pytest.raises(kca.ValidationError) as info:
            await call
        assert info.value.field == field
    assert server.requests == []


async def test_create_many_refuses_a_lone_surrogate_per_item(
    account: kca.Account, server: FakeKoreServer
) -> None:
    report = await account.contact_lists.create_many([{"name": LONE}])
    (outcome,) = report.outcomes
    assert outcome.status == "failed"
    assert isinstance(outcome.error, kca.ValidationError)
    assert outcome.error.field.endswith("name")
    assert server.requests == []


@pytest.mark.parametrize("source", ["token", "token_provider"])
async def test_a_token_with_crlf_is_a_token_error_and_nothing_is_sent(
    server: FakeKoreServer, make_client: MakeClient, source: str
) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.e30.sig\r\nX-Injected: yes"

    async def provider() -> str:
        return token

    given: dict[str, Any] = {source: token if source == "token" else provider}
    with pytest.raises(kca.TokenError) as info:
        async with make_client(server, **given) as client:
            await client.account("acct-1", iid="st-app-1").contact_lists.list()
    assert "sig" not in str(info.value)
    assert server.requests == []
