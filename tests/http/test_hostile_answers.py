"""Hostile answers: every failure a KoreError, and no token in what an error carries.

Pure tests of parse_body / decode / status_error and the error hierarchy, then end to end
against the fake server's ``commit_then_answer`` and ``echo_auth`` faults.
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

import kore_campaign_async as kca
from kore_campaign_async._http.auth import JwtSigner
from kore_campaign_async._http.redact import REDACTED, Redactor
from kore_campaign_async._http.responses import decode, parse_body, status_error
from kore_campaign_async._http.transport import RawResponse
from kore_campaign_async.testing import FakeKoreServer, Fault
from tests.helpers.clients import MakeClient

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJhcHBJZCI6ImNzLWFwcCJ9.c2lnbmF0dXJlLXNlY3JldA"
OPAQUE = "opaque-static-token-0123456789"  # not JWT-shaped: only hidden when passed
URL = "https://h/p"
DEEP = b"[" * 100_000
BARELY_PARSES = b"[" * 900 + b"]" * 900  # json.loads takes it; a recursive walk would not


def raw(status: int, body: Any, headers: dict[str, str] | None = None) -> RawResponse:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return RawResponse(status, headers or {}, data)


# -- deep nesting is a KoreError, never a RecursionError ---------------------------------------


@pytest.mark.parametrize("body", [DEEP, b'{"a":' * 100_000])
def test_parse_body_reads_too_deep_json_as_text(body: bytes) -> None:
    parsed = parse_body(body)
    assert isinstance(parsed, str)
    assert parsed.startswith(body[:10].decode())


@pytest.mark.parametrize("status", [200, 201])
def test_a_success_nested_too_deep_is_a_decode_error(status: int) -> None:
    with pytest.raises(kca.APIResponseDecodeError, match="nested too deep") as info:
        decode(raw(status, DEEP), method="GET", url=URL)
    assert (info.value.status, info.value.method, info.value.url) == (status, "GET", URL)
    assert info.value.request_sent is True


@pytest.mark.parametrize("status", [400, 500, 502])
def test_an_error_nested_too_deep_is_a_status_error_with_text(status: int) -> None:
    with pytest.raises(kca.APIStatusError) as info:
        decode(raw(status, DEEP), method="GET", url=URL)
    assert info.value.status == status
    assert isinstance(info.value.body, str)


def test_an_error_that_barely_parses_is_redacted_without_recursion() -> None:
    err = status_error(raw(400, BARELY_PARSES), method="GET", url=URL, secrets=(TOKEN,))
    assert isinstance(err.body, list)


# -- redaction ---------------------------------------------------------------------------------


def echoing(status: int, token: str) -> RawResponse:
    body = {
        "errors": [{"msg": f"invalid auth header {token}", "code": 41}],
        "request": {"headers": {"auth": token}, "seen": [token, {token: "as a key"}]},
    }
    return raw(status, body, {"X-Echo-Auth": token, "auth": token, "Retry-After": "3"})


def assert_redacted(err: kca.APIStatusError, token: str) -> None:
    shown = [str(err), repr(err), err.message, repr(err.body), repr(err.headers)]
    for text in shown:
        assert token not in text
    assert REDACTED in str(err)
    assert err.message == f"invalid auth header {REDACTED}"  # still readable


@pytest.mark.parametrize("status", [400, 401, 403, 429, 500])
@pytest.mark.parametrize("token", [TOKEN, OPAQUE])
def test_status_error_redacts_the_given_token_everywhere(status: int, token: str) -> None:
    err = status_error(echoing(status, token), method="GET", url=URL, secrets=(token,))
    assert_redacted(err, token)
    assert err.body["request"]["seen"] == [REDACTED, {REDACTED: "as a key"}]  # type: ignore[index]
    assert err.headers["auth"] == REDACTED
    assert err.retry_after == 3.0  # other headers keep their values
    assert err.code == 41


def test_a_jwt_is_redacted_even_when_the_token_is_not_passed() -> None:
    err = status_error(echoing(401, TOKEN), method="GET", url=URL)
    assert_redacted(err, TOKEN)


def test_decode_redacts_errors_in_2xx_envelopes_and_undecodable_bodies() -> None:
    failure = {"status": "failure", "message": f"bad token {OPAQUE}"}
    with pytest.raises(kca.APIStatusError) as info:
        decode(raw(200, failure), method="GET", url=URL, secrets=[OPAQUE])
    assert OPAQUE not in str(info.value)
    assert OPAQUE not in repr(info.value.body)
    text = f"<html>auth={OPAQUE} {TOKEN}</html>".encode()
    with pytest.raises(kca.APIResponseDecodeError) as decode_info:
        decode(raw(200, text), method="GET", url=URL, secrets=[OPAQUE])
    assert decode_info.value.body == f"<html>auth={REDACTED} {REDACTED}</html>"


def test_plain_text_error_bodies_are_redacted() -> None:
    err = status_error(raw(502, f"upstream said: {TOKEN}".encode()), method="GET", url=URL)
    assert err.body == f"upstream said: {REDACTED}"


def test_the_redactor_hides_the_longest_secret_whole_and_never_shows_one() -> None:
    redactor = Redactor(["abc", "abcdef", ""])
    assert redactor.text("x abcdef y abc") == f"x {REDACTED} y {REDACTED}"
    assert "abc" not in repr(redactor)
    assert redactor.value([1, None, True, 2.5]) == [1, None, True, 2.5]


def test_ordinary_text_is_left_alone() -> None:
    err = status_error(
        raw(400, {"errors": [{"msg": "name eyJ is 3 chars; v1.2.3 ok", "code": 1}]}),
        method="GET",
        url=URL,
    )
    assert err.message == "name eyJ is 3 chars; v1.2.3 ok"


# -- the hierarchy -----------------------------------------------------------------------------


def test_a_decode_error_is_neither_a_connection_nor_a_status_error() -> None:
    err = kca.APIResponseDecodeError("x", method="GET", url=URL, status=200, body="<html>")
    assert isinstance(err, kca.KoreError)
    assert not isinstance(err, (kca.APIConnectionError, kca.APIStatusError))
    assert (err.method, err.url, err.status, err.body, err.request_sent) == (
        "GET",
        URL,
        200,
        "<html>",
        True,
    )
    copy = pickle.loads(pickle.dumps(err))
    assert (type(copy), str(copy), copy.status, copy.body, copy.request_sent) == (
        kca.APIResponseDecodeError,
        "x",
        200,
        "<html>",
        True,
    )


# -- end to end --------------------------------------------------------------------------------


async def test_a_committed_create_answered_with_deep_json_is_adopted(
    account: kca.Account, server: FakeKoreServer
) -> None:
    server.faults.add(Fault("commit_then_answer", operation="create", status=200, body=DEEP))
    made = await account.contact_lists.create("Deep Answer")
    assert made.meta is not None
    assert made.meta.adopted
    assert [doc["name"] for doc in server.lists("acct-1")] == ["Deep Answer"]
    assert server.count(operation="create") == 1


async def test_a_get_answered_with_deep_json_is_a_kore_error(
    account: kca.Account, server: FakeKoreServer
) -> None:
    made = await account.contact_lists.create("Deep Get")
    server.faults.add(Fault("commit_then_answer", operation="get", status=200, body=DEEP))
    with pytest.raises(kca.APIResponseDecodeError, match="nested too deep"):
        await account.contact_lists.get(made.id, retry=kca.RetryPolicy.none())


async def test_an_echoed_token_is_redacted_from_the_error(
    server: FakeKoreServer, make_client: MakeClient
) -> None:
    token = JwtSigner(server.client_id, server.client_secret).ready_token()
    server.faults.add(Fault("echo_auth", status=400))
    async with make_client(server, token=token) as client:
        with pytest.raises(kca.BadRequestError) as info:
            await client.account("acct-1", iid="st-app-1").contact_lists.list()
    err = info.value
    assert "rejected auth header" in err.message
    for text in (str(err), repr(err), repr(err.body), repr(err.headers), err.message):
        assert token not in text
    assert err.headers["X-Echo-Auth"] == REDACTED
