"""Status -> exception table and Kore's three error shapes, without any I/O."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

import kore_campaign_async as kca
from kore_campaign_async._config import RATE_LIMIT_MESSAGE
from kore_campaign_async._http.responses import (
    ModelDecoder,
    decode,
    decode_lists,
    is_name_taken,
)
from kore_campaign_async._http.transport import RawResponse


def raw(status: int, body: Any, headers: dict[str, str] | None = None) -> RawResponse:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return RawResponse(status, headers or {}, data)


def fail(status: int, body: Any, headers: dict[str, str] | None = None) -> kca.APIStatusError:
    with pytest.raises(kca.APIStatusError) as info:
        decode(raw(status, body, headers), method="POST", url="https://h/p")
    return info.value


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, kca.BadRequestError),
        (401, kca.AuthenticationError),
        (403, kca.PermissionDeniedError),
        (404, kca.NotFoundError),
        (409, kca.ConflictError),
        (412, kca.BadRequestError),
        (422, kca.BadRequestError),
        (429, kca.RateLimitError),
        (500, kca.InternalServerError),
        (502, kca.InternalServerError),
        (503, kca.InternalServerError),
        (504, kca.InternalServerError),
        (418, kca.APIStatusError),
    ],
)
def test_status_table(status: int, cls: type[kca.APIStatusError]) -> None:
    err = fail(status, {"errors": [{"msg": "nope", "code": 7}]})
    assert type(err) is cls
    assert (err.status, err.method, err.url, err.message, err.code) == (
        status,
        "POST",
        "https://h/p",
        "nope",
        7,
    )


def test_errors_shape() -> None:
    err = fail(401, {"errors": [{"msg": "Invalid SDK credentials", "code": 4002}]})
    assert isinstance(err, kca.AuthenticationError)
    assert str(err) == "401 POST https://h/p: Invalid SDK credentials (code 4002)"


def test_failure_shape_on_200_picks_class_from_message() -> None:
    taken = fail(200, {"status": "failure", "message": "Contact list with name 'x' already exists"})
    assert isinstance(taken, kca.ConflictError)
    assert taken.status == 200
    assert is_name_taken(taken)
    missing = fail(200, {"status": "failure", "message": "Contact list not found"})
    assert isinstance(missing, kca.NotFoundError)
    other = fail(200, {"status": "failure", "message": "bad"})
    assert type(other) is kca.BadRequestError


def test_plain_text_body() -> None:
    err = fail(502, b"<html>Bad Gateway</html>")
    assert isinstance(err, kca.InternalServerError)
    assert err.message == "<html>Bad Gateway</html>"
    assert err.body == "<html>Bad Gateway</html>"


def test_empty_error_body_falls_back_to_status() -> None:
    assert fail(503, b"").message == "HTTP 503"


@pytest.mark.parametrize("status", [200, 400, 429])
def test_rate_limit_message_in_any_answer(status: int) -> None:
    err = fail(status, {"status": "failure", "message": RATE_LIMIT_MESSAGE}, {"Retry-After": "3"})
    assert isinstance(err, kca.RateLimitError)
    assert err.retry_after == 3.0


@pytest.mark.parametrize(
    "message",
    [
        "You have EXCEEDED THE PER-MINUTE RATE LIMIT, try later",
        "Account acct-1: exceeded the per-minute rate limit.",
    ],
)
def test_rate_limit_message_in_other_words_or_case(message: str) -> None:
    assert isinstance(fail(200, {"status": "success", "message": message}), kca.RateLimitError)
    assert isinstance(fail(400, {"errors": [{"msg": message}]}), kca.RateLimitError)


@pytest.mark.parametrize("message", ["Contact list created successfully", "rate limit: 60/min", ""])
def test_a_success_message_that_names_no_exceeded_limit_is_a_success(message: str) -> None:
    payload = {"status": "success", "message": message, "data": {"_id": "x"}}
    assert decode(raw(200, payload), method="POST", url="u") == payload


def test_429_without_retry_after() -> None:
    err = fail(429, {"errors": [{"msg": "slow down", "code": 429}]})
    assert isinstance(err, kca.RateLimitError)
    assert err.retry_after is None


def test_success_envelope_and_missing_data() -> None:
    payload = decode(raw(200, {"status": "success", "data": {"_id": "x"}}), method="GET", url="u")
    assert ModelDecoder(kca.ContactList)(payload, method="GET", url="u", status=200).id == "x"
    with pytest.raises(kca.APIResponseDecodeError, match="no 'data' field"):
        ModelDecoder(kca.ContactList)({"status": "success"}, method="GET", url="u", status=200)
    with pytest.raises(kca.APIResponseDecodeError, match="no 'data' field"):
        decode_lists({"status": "success"}, method="GET", url="u", status=200)


def test_malformed_json_on_success_is_a_decode_error() -> None:
    with pytest.raises(kca.APIResponseDecodeError) as info:
        decode(raw(200, b'{"status": "success", "data": '), method="POST", url="u")
    assert info.value.request_sent
    assert info.value.status == 200


def test_a_success_answer_is_read_as_utf8() -> None:
    body = '{"status": "success", "data": {"_id": "x", "name": "Liste für Köln"}}'.encode()
    assert decode(raw(200, body), method="GET", url="u")["data"]["name"] == "Liste für Köln"
    with pytest.raises(kca.APIResponseDecodeError, match="not JSON"):
        decode(raw(200, body.decode().encode("latin-1")), method="GET", url="u")


def test_status_error_headers_and_pickling() -> None:
    err = fail(404, {"status": "failure", "message": "Contact list not found"}, {"X-Req": "1"})
    assert err.headers == {"X-Req": "1"}
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is kca.NotFoundError
    assert str(again) == str(err)


WHERE: dict[str, Any] = {"method": "GET", "url": "https://h/x", "status": 200}


def test_results_are_read_with_or_without_meta() -> None:
    meta = kca.ResponseMeta(attempts=3)
    payload = {"status": "success", "data": {"_id": "cl-1", "name": "A"}}
    assert ModelDecoder(kca.ContactList)(payload, **WHERE).meta == kca.ResponseMeta()
    found = ModelDecoder(kca.ContactList)(payload, **WHERE, meta=meta)
    assert (found.id, found.meta) == ("cl-1", meta)
    lists = decode_lists({"data": [payload["data"]] * 2}, **WHERE, meta=meta)
    assert [item.meta for item in lists] == [meta, meta]


@pytest.mark.parametrize(
    "data", [{"name": "no id"}, {"_id": "x", "isActive": "maybe"}, ["not an object"]]
)
def test_an_unreadable_result_is_a_decode_error(data: object) -> None:
    meta = kca.ResponseMeta()
    with pytest.raises(kca.APIResponseDecodeError, match="cannot read ContactList") as caught:
        ModelDecoder(kca.ContactList)({"data": data}, **WHERE, meta=meta)
    assert (caught.value.status, caught.value.url) == (200, "https://h/x")


def test_a_list_answer_without_a_list_is_a_decode_error() -> None:
    with pytest.raises(kca.APIResponseDecodeError, match="'data' is not a list"):
        decode_lists({"data": {}}, **WHERE)
