"""The request path through MockTransport: request shapes, decoding, retries and lost answers.

No aiohttp and no socket: the client's transport is a function (a session would fail the test).
"""

from __future__ import annotations

import ast
import asyncio
import gc
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async.testing import MockTransport, json_response
from tests.helpers.clients import HOST, MakeClient
from tests.helpers.scripts import (
    LIST,
    V2,
    Answer,
    ListsFor,
    Script,
    failed,
    just_made,
    lost,
    ok,
)


@pytest.fixture(autouse=True)
def no_aiohttp(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("a MockTransport client opened an aiohttp session")

    monkeypatch.setattr(aiohttp.ClientSession, "__init__", refuse)


async def test_each_operation_sends_its_request_and_decodes_its_answer(
    lists_for: ListsFor,
) -> None:
    script = Script(
        ok(LIST),
        ok(LIST),
        ok({"contactListId": "cl-1", "body": {"name": "New"}}),
        ok([LIST, {**LIST, "_id": "cl-2", "name": "Other"}]),
        ok(LIST),
    )
    lists = lists_for(script)
    created = await lists.create("Renewal Due", "d")
    got = await lists.get("cl-1")
    updated = await lists.update("cl-1", name="New")
    every = await lists.list()
    deleted = await lists.delete("cl-1")
    assert script.paths == [
        "POST createContactList",
        "GET cl-1",
        "PUT cl-1",
        "POST getAllListDetails",
        "DELETE cl-1",
    ]
    create, get, update, list_all, _ = script.sent
    assert create.url == f"{V2}/createContactList"
    assert create.params == (("accountId", "acct-1"),)
    assert create.json == {"name": "Renewal Due", "description": "d", "source": "passiveApi"}
    assert dict(create.headers) == {"auth": "jwt-token", "iid": "st-1", "accountId": "acct-1"}
    assert "jwt-token" not in repr(create)
    assert get.json is None
    assert update.json == {"name": "New"}
    assert list_all.params == (("accountId", "acct-1"), ("type", "call"))
    assert create.timeout == kca.Timeout()
    assert (created.id, got.name, updated.name) == ("cl-1", "Renewal Due", "New")
    assert [item.id for item in every] == ["cl-1", "cl-2"]
    assert deleted.id == "cl-1"
    metas = [r.meta for r in (created, got, deleted, *every)] + [updated.meta]
    assert metas == [kca.ResponseMeta(attempts=1, status=200, api_version="v2")] * 6


async def test_an_async_handler_and_a_per_call_timeout(make_client: MakeClient) -> None:
    seen: list[kca.HttpRequest] = []

    async def handler(request: kca.HttpRequest) -> kca.RawResponse:
        seen.append(request)
        return ok(LIST)

    client = make_client(transport=MockTransport(handler))
    lists = client.account("acct-1", iid="st-1").contact_lists
    await lists.get("cl-1", timeout=7.0)
    assert seen[0].timeout == kca.Timeout(total=7.0, connect=7.0)
    await client.aclose()
    with pytest.raises(kca.ClientClosedError):
        await lists.get("cl-1")


def test_session_and_transport_together_are_refused() -> None:
    with pytest.raises(kca.ConfigurationError, match="session or transport"):
        kca.CampaignClient(
            HOST,
            token="t",
            transport=MockTransport(Script()),
            session=object(),  # type: ignore[arg-type]
        )


async def test_an_undecodable_model_is_retried_like_any_failed_attempt(
    lists_for: ListsFor,
) -> None:
    script = Script(ok({"name": 5}), ok(LIST))
    got = await lists_for(script).get("cl-1")
    assert got.meta is not None
    assert got.meta.attempts == 2
    assert script.paths == ["GET cl-1", "GET cl-1"]


async def test_errors_leave_the_call_complete(
    lists_for: ListsFor, client_clock: ManualClock
) -> None:
    script = Script(failed(503), lost(sent=False), failed(503))
    lists = lists_for(script, kca.RetryPolicy(max_attempts=3, jitter=False))
    with pytest.raises(kca.InternalServerError) as caught:
        await lists.get("cl-1")
    error = caught.value
    assert (error.method, error.url, error.attempts) == ("GET", f"{V2}/cl-1", 3)
    assert client_clock.now == pytest.approx(0.5 + 1.0)


@pytest.mark.parametrize(
    "first",
    [
        pytest.param(lambda: failed(429, "slow down"), id="429"),
        pytest.param(lambda: failed(503), id="503"),
        pytest.param(lambda: lost(sent=False), id="lost"),
    ],
)
async def test_a_retried_call_leaves_no_cyclic_garbage(
    lists_for: ListsFor, first: Callable[[], Answer]
) -> None:
    # What a retry allocates must go when the call returns, not wait for the cyclic collector:
    # a handled attempt's traceback reaches the frames that hold tenacity's state.
    script = Script(first(), ok(LIST), first(), ok(LIST))
    lists = lists_for(script)
    await lists.create("Renewal Due")  # imports tenacity and warms every cache on the way
    # A clean slate: what earlier tests (or the warm-up call) leave for the loop's next turns to
    # drop, dropped and collected first (ten turns at most).
    for _ in range(10):
        await asyncio.sleep(0)
        if gc.collect() == 0:
            break
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        created = await lists.create("Renewal Due")
        for _ in range(10):  # and what the call leaves to the loop's next turns is counted
            await asyncio.sleep(0)
        left = gc.collect()
    finally:
        gc.set_debug(0)
        gc.enable()
    found = [repr(o)[:150] for o in gc.garbage]
    gc.garbage.clear()
    assert created.meta is not None
    assert left == 0, found
    assert created.meta.attempts == 2
    assert left == 0


async def test_an_error_that_ends_a_retried_call_keeps_its_traceback(lists_for: ListsFor) -> None:
    # Only handled attempts lose their tracebacks; the one the user catches points at the call.
    script = Script(failed(503), failed(503), failed(503))
    lists = lists_for(script, kca.RetryPolicy(max_attempts=3, jitter=False))
    with pytest.raises(kca.InternalServerError) as caught:
        await lists.get("cl-1")
    functions = [frame.f_code.co_name for frame, _ in traceback.walk_tb(caught.value.__traceback__)]
    assert "test_an_error_that_ends_a_retried_call_keeps_its_traceback" in functions
    assert "get" in functions  # the public method the user called, where the SDK's frames end


async def test_a_refused_budget_spend_counts_the_attempts(lists_for: ListsFor) -> None:
    script = Script(failed(503), failed(503))
    budget = kca.RetryBudget(capacity=5)
    lists = lists_for(script, retry_budget=budget)
    with pytest.raises(kca.RetryBudgetExhaustedError) as caught:
        await lists.list()
    assert caught.value.attempts == 2
    assert isinstance(caught.value.last_error, kca.InternalServerError)
    assert caught.value.last_error.attempts == 2


async def test_a_rejected_token_is_renewed_once_and_resent_at_once(
    make_client: MakeClient, client_clock: ManualClock
) -> None:
    tokens = iter(["first", "second", "third"])

    async def provider() -> str:
        return next(tokens)

    script = Script(failed(401), failed(401))
    client = make_client(token_provider=provider, transport=MockTransport(script))
    with pytest.raises(kca.AuthenticationError) as caught:
        await client.account("acct-1", iid="st-1").contact_lists.get("cl-1")
    assert caught.value.attempts == 2
    assert [r.headers["auth"] for r in script.sent] == ["first", "second"]
    assert client_clock.now == 0.0


async def test_a_paused_account_refuses_with_a_complete_error(lists_for: ListsFor) -> None:
    lists = lists_for(Script(), kca.RetryPolicy(max_retry_after=10.0))
    lists._requester.limiter.on_rate_limited(600.0)
    with pytest.raises(kca.RateLimitError) as caught:
        await lists.get("cl-1")
    error = caught.value
    assert (error.request_sent, error.method, error.url) == (False, "GET", f"{V2}/cl-1")
    assert error.attempts == 0


# -- lost answers ---------------------------------------------------------------------------


async def test_a_create_whose_answer_was_lost_adopts_the_list_it_made(lists_for: ListsFor) -> None:
    script = Script(lost(), ok([just_made({**LIST, "name": "renewal due"})]))
    created = await lists_for(script).create("Renewal Due", "d")
    assert script.paths == ["POST createContactList", "POST getAllListDetails"]
    assert created.id == "cl-1"
    assert created.meta == kca.ResponseMeta(attempts=2, api_version="v2", adopted=True)


async def test_a_create_whose_answer_was_lost_creates_when_nothing_was_made(
    lists_for: ListsFor,
) -> None:
    script = Script(lost(), ok([]), ok(LIST))
    created = await lists_for(script).create("Renewal Due", "d")
    assert script.paths == [
        "POST createContactList",
        "POST getAllListDetails",
        "POST createContactList",
    ]
    assert created.meta == kca.ResponseMeta(attempts=3, api_version="v2")


async def test_a_name_taken_after_a_lost_answer_adopts(lists_for: ListsFor) -> None:
    # The lost attempt made the list but the lookup ran before it showed up.
    script = Script(lost(), ok([]), failed(409, "already exists"), ok([just_made(LIST)]))
    created = await lists_for(script).create("Renewal Due", "d")
    assert created.meta is not None
    assert (created.meta.adopted, created.meta.attempts) == (True, 4)


async def test_a_name_taken_without_a_lost_answer_is_a_conflict(lists_for: ListsFor) -> None:
    script = Script(failed(409, "already exists"))
    with pytest.raises(kca.ConflictError) as caught:
        await lists_for(script).create("Renewal Due", "d")
    assert caught.value.attempts == 1
    adopted = await lists_for(Script(failed(409, "already exists"), ok([LIST]))).create(
        "Renewal Due", "d", if_exists="adopt"
    )
    assert adopted.meta is not None
    assert adopted.meta.adopted


async def test_a_404_after_a_lost_delete_means_deleted(lists_for: ListsFor) -> None:
    script = Script(lost(), failed(404, "not found"))
    deleted = await lists_for(script).delete("cl-1")
    assert deleted == kca.ContactList(
        id="cl-1", meta=kca.ResponseMeta(attempts=2, api_version="v2", adopted=True)
    )
    with pytest.raises(kca.NotFoundError):
        await lists_for(Script(failed(404, "not found"))).delete("cl-1")


@pytest.mark.parametrize(("sent", "resent"), [(True, False), (False, True)])
async def test_add_contacts_is_never_resent_after_a_lost_answer(
    lists_for: ListsFor, sent: bool, resent: bool
) -> None:
    script = Script(lost(sent=sent), json_response({"message": "queued"}))
    call = lists_for(script).add_contacts("L", [kca.Contact(phone_number="+14155550100")])
    if resent:
        added = await call
        assert added.message == "queued"
        assert added.meta == kca.ResponseMeta(attempts=2)
    else:
        with pytest.raises(kca.APIConnectionError) as caught:
            await call
        assert caught.value.attempts == 1
    assert len(script.sent) == (2 if resent else 1)


def test_only_the_aiohttp_transport_imports_aiohttp() -> None:
    package = Path(kca.__file__).resolve().parent
    importers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name.split(".")[0] == "aiohttp" for name in names):
                importers.add(str(path.relative_to(package)))
    # The client names aiohttp.ClientSession for type checkers only.
    assert importers == {"_http/aiohttp_transport.py", "_client.py", "testing/_server.py"}
