"""Ids (account, iid, stream, list): printable ASCII, at most ID_MAX_LENGTH, refused unsent.

An id travels in the ``accountId`` and ``iid`` headers and in the URL path: non-ASCII text
would go out as raw UTF-8 header bytes, and a 10 KB id only earns a 414 from Kore.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import kore_campaign_async as kca
from kore_campaign_async._config import ID_MAX_LENGTH
from kore_campaign_async._wire.validation import check_id
from kore_campaign_async.testing import MockTransport
from tests.helpers.clients import MakeClient

# The shapes Kore's documents show: an account's 24 hex digits, "st-"/"cl-"/"o-" and a UUID.
KORE_IDS = [
    "67777ce93e25326494e9abcd",
    "st-0603182c-7ffb-53c3-b307-47ca14b9abcd",
    "cl-67a405c-ae3b-4a42-8cd2-5dcd699abcde",
    "o-f8b351e7-f83a-51bd-bd42-d5d40861abcd",
    "x" * ID_MAX_LENGTH,
]


@pytest.mark.parametrize("ident", KORE_IDS)
def test_kore_shaped_ids_pass(ident: str) -> None:
    assert check_id("account_id", ident) == ident


@pytest.mark.parametrize("length", [ID_MAX_LENGTH + 1, 10_240])
def test_a_too_long_id_names_the_field_and_the_limit(length: int) -> None:
    with pytest.raises(kca.ValidationError) as info:
        check_id("list_id", "c" * length)
    assert info.value.field == "list_id"
    assert f"at most {ID_MAX_LENGTH} characters, got {length}" in info.value.message


@pytest.mark.parametrize(
    ("ident", "char", "index"),
    [
        ("liste-été", "é", 6),
        ("67777ce93e25326494e9ab\u0661\u0662", "\u0661", 22),
        ("st-\u00a0x", "\u00a0", 3),  # no-break space: isprintable() says no, named either way
        ("cl-\U0001f600", "\U0001f600", 3),
    ],
)
def test_a_non_ascii_id_is_refused_with_the_character_named(
    ident: str, char: str, index: int
) -> None:
    with pytest.raises(kca.ValidationError) as info:
        check_id("iid", ident)
    assert info.value.field == "iid"
    assert "ASCII" in info.value.message or "control characters" in info.value.message
    if "ASCII" in info.value.message:
        assert f"{char!r} at index {index}" in info.value.message


def never_sent(request: kca.HttpRequest) -> kca.RawResponse:
    raise AssertionError(f"sent {request.method} {request.url}")


@pytest.mark.parametrize(
    ("field", "ident"),
    [
        ("account_id", "a" * 10_240),
        ("account_id", "compte-é"),
        ("iid", "st-" + "f" * 200),
        ("iid", "st-ü"),
        ("stream_id", "st-\u00e9"),
    ],
)
async def test_an_account_with_a_bad_id_is_refused_before_sending(
    make_client: MakeClient, field: str, ident: str
) -> None:
    ids: dict[str, Any] = {"account_id": "acct-1", "iid": "st-1", field: ident}
    async with make_client(transport=MockTransport(never_sent)) as client:
        with pytest.raises(kca.ValidationError) as info:
            client.account(ids.pop("account_id"), **ids)
    assert info.value.field == field


Call = Callable[[kca.ContactLists, str], Awaitable[Any]]
LIST_CALLS: dict[str, Call] = {
    "get": lambda lists, list_id: lists.get(list_id),
    "delete": lambda lists, list_id: lists.delete(list_id),
    "update": lambda lists, list_id: lists.update(list_id, name="Renewal Due"),
}


@pytest.mark.parametrize("list_id", ["cl-" + "0" * 10_240, "cl-\u00e9t\u00e9"])
@pytest.mark.parametrize("call", LIST_CALLS.values(), ids=LIST_CALLS.keys())
async def test_a_bad_list_id_is_refused_before_sending(
    make_client: MakeClient, call: Call, list_id: str
) -> None:
    async with make_client(transport=MockTransport(never_sent)) as client:
        lists = client.account("acct-1", iid="st-1").contact_lists
        with pytest.raises(kca.ValidationError) as info:
            await call(lists, list_id)
    assert info.value.field == "list_id"
