"""Answers nested deep enough to break a recursive walk: a decode error, never RecursionError.

``json.loads`` takes about a thousand levels; ``json.dumps`` and ``repr`` of what it returns
then recurse past the limit. Every error path quotes an answer without recursion and cut short.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import kore_campaign_async as kca
from kore_campaign_async._http.responses import ModelDecoder, decode, decode_lists, status_error
from kore_campaign_async._wire.models import ContactListListing
from kore_campaign_async._wire.quote import QUOTE_LIMIT, quote
from kore_campaign_async.testing import MockTransport
from tests.helpers.clients import MakeClient

LEVELS = 980  # json.loads takes it; json.dumps and repr of the result overflow the stack
DEEP_ARRAY = "[" * LEVELS + "]" * LEVELS
TOO_DEEP_TO_PARSE = "[" * 100_000  # json.loads itself raises RecursionError

URL = "https://kore.example/p"
WHERE: dict[str, Any] = {"method": "GET", "url": URL, "status": 200}
Call = Callable[[kca.Account], Awaitable[Any]]
CALLS: dict[str, Call] = {
    "get": lambda account: account.contact_lists.get("cl-1"),
    "list": lambda account: account.contact_lists.list(),
    "create": lambda account: account.contact_lists.create(name="Renewal Due"),
}
BODIES = {
    "no-data": DEEP_ARRAY,
    "deep-data": '{"status": "success", "data": ' + DEEP_ARRAY + "}",
    "deep-error-message": '{"status": "failure", "message": "", "errors": [{"msg": '
    + DEEP_ARRAY
    + "}]}",
    "too-deep-to-parse": TOO_DEEP_TO_PARSE,
}


def answering(body: str) -> MockTransport:
    return MockTransport(lambda _request: kca.RawResponse(200, {}, body.encode()))


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_a_deep_answer_is_a_kore_error_not_a_recursion_error(
    make_client: MakeClient, call: Call, body: str
) -> None:
    async with make_client(transport=answering(body)) as client:
        account = client.account("acct-1", iid="st-1")
        try:
            result = await call(account)
        except kca.KoreError as raised:
            error = raised
        else:
            # Where the parser's stack is deep enough to take the answer (Python 3.12+), a
            # listing's unreadable item is skipped, as any other: nothing else may succeed.
            assert body is BODIES["deep-data"]
            assert isinstance(result, ContactListListing)
            assert (len(result), result.skipped) == (0, 1)
            return
    assert isinstance(error, (kca.APIResponseDecodeError, kca.APIStatusError))
    assert error.status == 200
    # What the error quotes of the answer is cut short, whatever the answer's size. (A status
    # error keeps the parsed answer as its body, when the parser took it.)
    assert len(str(error)) < 2 * QUOTE_LIMIT
    if isinstance(error.body, str):
        assert len(error.body) <= QUOTE_LIMIT + len("...")


def test_quote_reads_like_json_when_short() -> None:
    value = {"a": [1, 2.5, None, True, 'say "hi"'], "b": {}, "c": []}
    assert quote(value) == json.dumps(value)


def nested(levels: int) -> list[Any]:
    """A list nested ``levels`` deep, built without recursion: ``[[[...]]]``."""
    value: list[Any] = []
    for _ in range(levels - 1):
        value = [value]
    return value


# Far past the recursion limit: what a parser with a larger stack (or a later Python, whose C
# recursion limit is its own) hands over, and what json.dumps or repr of it cannot encode.
DEEP = nested(100_000)


def read_list(payload: object) -> object:
    return ModelDecoder(kca.ContactList)(payload, **WHERE)


def read_listing(payload: object) -> object:
    return decode_lists(payload, **WHERE)


@pytest.mark.parametrize(
    ("decode", "payload"),
    [
        pytest.param(read_list, DEEP, id="one-list-no-data"),
        pytest.param(read_list, {"status": "success", "data": DEEP}, id="one-list-deep-data"),
        pytest.param(read_listing, DEEP, id="listing-no-data"),
        pytest.param(read_listing, {"status": "success", "info": DEEP}, id="listing-deep-info"),
    ],
)
def test_decoding_a_deep_payload_quotes_it_cut_short(
    decode: Callable[[object], object], payload: object
) -> None:
    with pytest.raises(kca.APIResponseDecodeError) as info:
        decode(payload)
    assert "[[[[" in info.value.body
    assert len(info.value.body) <= QUOTE_LIMIT + len("...")
    assert len(str(info.value)) < 2 * QUOTE_LIMIT


def test_an_error_whose_message_is_deep_is_quoted_cut_short() -> None:
    parsed = {"errors": [{"msg": DEEP, "code": 7}]}
    raw = kca.RawResponse(400, {}, b"(parsed already)")
    error = status_error(raw, method="GET", url=URL, parsed=parsed)
    assert isinstance(error, kca.BadRequestError)
    assert error.message == "[" * QUOTE_LIMIT + "..."
    assert error.code == 7


def test_a_long_error_message_is_cut_short() -> None:
    raw = kca.RawResponse(500, {}, json.dumps({"message": "x" * 100_000}).encode())
    assert status_error(raw, method="GET", url=URL).message == "x" * QUOTE_LIMIT + "..."


def test_a_token_straddling_the_cut_is_redacted_whole() -> None:
    token = "opaque-token-" + "9" * 40
    body = b"{" + b"x" * (QUOTE_LIMIT - 20) + token.encode() + b"y" * 10_000  # not JSON
    with pytest.raises(kca.APIResponseDecodeError) as info:
        decode(kca.RawResponse(200, {}, body), method="GET", url=URL, secrets=[token])
    assert "opaque-token" not in info.value.body
    assert info.value.body == "{" + "x" * (QUOTE_LIMIT - 20) + "<redacted>" + "y" * 9 + "..."


def test_quote_walks_any_depth_without_recursion() -> None:
    assert quote(nested(LEVELS)) == DEEP_ARRAY
    assert quote(DEEP) == "[" * QUOTE_LIMIT + "..."


def test_quote_stops_at_its_limit_without_encoding_the_rest() -> None:
    wide = list(range(1_000_000))
    assert quote(wide, limit=20) == "[0, 1, 2, 3, 4, 5, 6, 7"[:20] + "..."
    assert quote("x" * 10_000_000, limit=5) == '"xxxx...'
    assert quote({"k" * 50: 1}, limit=8) == '{"kkkkkk...'


def test_quote_names_what_is_no_json_without_calling_its_repr() -> None:
    class Loud:
        def __repr__(self) -> str:
            raise AssertionError("repr called")

    assert quote([Loud(), (1, 2)]) == "['Loud', 'tuple']"
