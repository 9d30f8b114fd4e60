"""What every error of the request path says: attempts, the retry rule per operation, redaction.

MockTransport and a virtual client_clock; no socket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async._http.retry import RESEND_AFTER_UNREADABLE, is_retryable
from kore_campaign_async._wire.endpoints import Operation
from kore_campaign_async.testing import MockTransport, json_response
from tests.helpers.clients import HOST
from tests.helpers.scripts import LIST, Script, failed, just_made, ok

UNREADABLE = kca.RawResponse(200, {"Content-Type": "application/json"}, b'{"status": "succ')
OPAQUE = "opaque-static-token-0123456789"
Handler = Callable[[kca.HttpRequest], kca.RawResponse]


def lists_for(script: Handler, client_clock: ManualClock, **kwargs: Any) -> kca.ContactLists:
    kwargs.setdefault("token", "jwt-token")
    kwargs.setdefault("rate_limit", None)
    client = kca.CampaignClient(
        HOST,
        transport=MockTransport(script),
        retry=kca.RetryPolicy(max_attempts=3, jitter=False),
        clock=client_clock,
        sleep=client_clock.sleep,
        **kwargs,
    )
    return client.account("acct-1", iid="st-1").contact_lists


# -- 5. the retry rule of an unreadable answer, per operation --------------------------------


def test_every_operation_states_its_rule_for_an_unreadable_answer() -> None:
    operations = set(Operation.__args__)  # type: ignore[attr-defined]
    assert set(RESEND_AFTER_UNREADABLE) == operations
    policy = kca.RetryPolicy()
    unreadable = kca.APIResponseDecodeError("not JSON", status=200)
    retried = {op for op in operations if is_retryable(unreadable, policy, op)}
    assert retried == operations - {"add_contacts"}
    too_large = kca.ResponseTooLargeError("big", limit=10, status=200)
    assert not any(is_retryable(too_large, policy, op) for op in operations)
    declined = kca.RateLimitError("queue", request_sent=False, status=429, method="", url="")
    assert not is_retryable(declined, policy)


async def test_a_read_with_unreadable_answers_is_asked_again_and_counts_them(
    client_clock: ManualClock,
) -> None:
    script = Script(UNREADABLE, UNREADABLE, UNREADABLE)
    with pytest.raises(kca.APIResponseDecodeError) as caught:
        await lists_for(script, client_clock).get("cl-1")
    assert caught.value.attempts == 3
    assert caught.value.request_sent is True


async def test_a_create_with_an_unreadable_answer_adopts_what_it_made(
    client_clock: ManualClock,
) -> None:
    # The list this call made: its name, the description it sent (none: ""), made just now.
    script = Script(UNREADABLE, ok([just_made({**LIST, "description": ""})]))
    made = await lists_for(script, client_clock).create("Renewal Due")
    assert script.paths == ["POST createContactList", "POST getAllListDetails"]
    assert made.meta == kca.ResponseMeta(attempts=2, api_version="v2", adopted=True)


async def test_a_create_with_an_unreadable_answer_creates_when_nothing_was_made(
    client_clock: ManualClock,
) -> None:
    script = Script(UNREADABLE, ok([]), ok(LIST))
    made = await lists_for(script, client_clock).create("Renewal Due")
    assert script.paths[-1] == "POST createContactList"
    assert made.meta == kca.ResponseMeta(attempts=3, status=200, api_version="v2")


async def test_a_delete_with_an_unreadable_answer_counts_as_done(client_clock: ManualClock) -> None:
    script = Script(UNREADABLE, failed(404, "not found"))
    deleted = await lists_for(script, client_clock).delete("cl-1")
    assert deleted.meta == kca.ResponseMeta(attempts=2, api_version="v2", adopted=True)


async def test_add_contacts_with_an_unreadable_answer_is_not_resent(
    client_clock: ManualClock,
) -> None:
    script = Script(UNREADABLE)
    contacts = [kca.Contact(phone_number="+14155550100")]
    with pytest.raises(kca.APIResponseDecodeError) as caught:
        await lists_for(script, client_clock).add_contacts("Renewal Due", contacts)
    assert (caught.value.attempts, len(script.sent)) == (1, 1)


async def test_an_answer_too_large_is_never_asked_again(client_clock: ManualClock) -> None:
    script = Script(kca.ResponseTooLargeError("big", limit=10, status=200))
    with pytest.raises(kca.ResponseTooLargeError) as caught:
        await lists_for(script, client_clock).list()
    assert (caught.value.attempts, caught.value.limit) == (1, 10)


# -- attempts are right on every error -------------------------------------------------------


async def test_a_non_retried_failure_counts_one_attempt(client_clock: ManualClock) -> None:
    with pytest.raises(kca.BadRequestError) as caught:
        await lists_for(Script(failed(400)), client_clock).get("cl-1")
    assert caught.value.attempts == 1


async def test_a_conflict_after_a_recovery_lookup_counts_the_lookup(
    client_clock: ManualClock,
) -> None:
    lost = kca.APIConnectionError("reset", request_sent=True)
    # create (lost), lookup (nothing), create (name taken), lookup (still nothing): 4 attempts.
    script = Script(lost, ok([]), failed(409, "already exists"), ok([]))
    with pytest.raises(kca.ConflictError) as caught:
        await lists_for(script, client_clock).create("Renewal Due")
    assert len(script.sent) == 4
    assert caught.value.attempts == 4


async def test_a_declined_turn_after_an_attempt_counts_that_attempt(
    client_clock: ManualClock,
) -> None:
    script = Script(failed(503))
    lists = lists_for(script, client_clock, rate_limit=kca.RateLimit(1, per=60.0))
    # The retry's permit is a minute away: further than the 5 s it accepts to queue.
    policy = kca.RetryPolicy(max_queue_wait=5.0, jitter=False)
    with pytest.raises(kca.RateLimitError) as caught:
        await lists.get("cl-1", retry=policy)
    assert (caught.value.attempts, caught.value.request_sent) == (1, False)
    assert len(script.sent) == 1


async def test_a_token_error_counts_no_attempt(client_clock: ManualClock) -> None:
    async def provider() -> str:
        raise RuntimeError("vault down")

    lists = lists_for(Script(), client_clock, token=None, token_provider=provider)
    with pytest.raises(kca.TokenError) as caught:
        await lists.get("cl-1")
    assert caught.value.attempts == 0


# -- 7. the token sent is redacted from what the server echoes -------------------------------


def echo(request: kca.HttpRequest) -> kca.RawResponse:
    token = request.headers["auth"]
    return json_response(
        {"errors": [{"msg": f"bad auth {token}"}], "seen": {"auth": token}},
        status=400,
        headers={"X-Echo": f"was {token}"},
    )


async def test_an_opaque_static_token_echoed_in_an_error_is_redacted(
    client_clock: ManualClock,
) -> None:
    with pytest.raises(kca.BadRequestError) as caught:
        await lists_for(echo, client_clock, token=OPAQUE).get("cl-1")
    error = caught.value
    for text in (str(error), repr(error), repr(error.body), repr(error.headers)):
        assert OPAQUE not in text
    assert "bad auth <redacted>" in str(error)
    assert error.headers["X-Echo"] == "was <redacted>"


def test_a_raw_response_never_shows_its_headers_or_body() -> None:
    raw = kca.RawResponse(200, {"X-Echo": OPAQUE}, OPAQUE.encode())
    assert repr(raw) == "RawResponse(status=200)"
