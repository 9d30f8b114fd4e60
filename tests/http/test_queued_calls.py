"""What a call holds while it waits for its account's turn, and once it is in flight: a process
with thousands of accounts keeps these alive, and every full collection of the garbage
collector walks them."""

from __future__ import annotations

import asyncio
import gc
import math
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async._http.calls import Attempt
from kore_campaign_async._http.requester import Requester
from kore_campaign_async._observe.observer import CallFacts, Observer
from kore_campaign_async._quota.outcomes import Turn
from kore_campaign_async._resources.contact_lists import ContactLists
from kore_campaign_async.testing import MockTransport
from tests.helpers.scripts import LIST, Script, failed, ok

HOST = "https://kore.example"
PACKAGE = "kore_campaign_async"
T = TypeVar("T")
#: What a create made before its first turn, kept until it ends: its request and recovery,
#: its two frames, its deadline and its observation.
A_CALL = Counter(
    {
        "ContactLists.create()": 1,
        "ContactListCreate": 1,
        "RequestSpec": 1,
        "Adopt": 1,
        "Requester.call()": 1,
        "Deadline": 1,
        "ObservedCall": 1,
    }
)


def owned_by_the_sdk(objects: list[object]) -> Counter[str]:
    """The SDK's own objects and coroutines among ``objects``, by name (asyncio's task, its
    context and the future it waits on are the caller's and asyncio's)."""
    names: Counter[str] = Counter()
    for thing in objects:
        if asyncio.iscoroutine(thing):
            if PACKAGE in thing.cr_code.co_filename:  # type: ignore[attr-defined]
                names[f"{thing.__qualname__}()"] += 1  # type: ignore[attr-defined]
        elif type(thing).__module__.startswith(PACKAGE):
            names[type(thing).__qualname__] += 1
    return names


def on_clock(clock: ManualClock, transport: MockTransport, **options: Any) -> kca.CampaignClient:
    """A client with a static token whose time is ``clock``'s."""
    return kca.CampaignClient(
        HOST, token="t", transport=transport, clock=clock, sleep=clock.sleep, **options
    )


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def answers_held() -> tuple[asyncio.Event, MockTransport]:
    """A transport that answers only once the event is set: calls stay in flight meanwhile."""
    answered = asyncio.Event()

    async def handler(request: kca.HttpRequest) -> kca.RawResponse:
        await answered.wait()
        return ok(LIST)

    return answered, MockTransport(handler)


async def sdk_objects_made_by(start: Callable[[], T]) -> tuple[T, Counter[str]]:
    """Run ``start()`` and let it settle; return what it returned and the SDK's objects (and
    coroutines) made meanwhile that are still alive."""
    gc.collect()
    old = gc.get_objects()  # kept alive meanwhile: no new object takes an old one's id
    before = {id(thing) for thing in old}
    started = start()
    await settle()
    new = [thing for thing in gc.get_objects() if id(thing) not in before]
    del old
    return started, owned_by_the_sdk(new)


async def test_a_call_queued_for_its_turn_holds_only_its_request_and_its_place() -> None:
    # The loop's own clock: the account's pace (one request a second) holds the second call
    # in its nap and the third in the queue for as long as the test looks.
    _, transport = answers_held()
    async with kca.CampaignClient(HOST, token="t", transport=transport) as client:
        lists = client.account("acc-1", iid="st-1").contact_lists
        # Nobody watching (another test may have installed a tracer): a watcher is its own.
        lists._requester.client.observer = Observer([])
        # One in flight, one holding the permit turn until its pace allows: the third queues.
        calls = [asyncio.ensure_future(lists.create(f"list-{n}", "d")) for n in range(2)]
        await settle()
        third, held = await sdk_objects_made_by(
            lambda: asyncio.ensure_future(lists.create("list-2", "d"))
        )
        calls.append(third)
        del held["Bounds"]  # its place's tag: a tuple of plain values, untracked once collected
        assert lists._requester.limiter.waiting == 2
        # Its request and its recovery (made by create), the call's deadline and observation,
        # and its place in the account's queue: no call state, token flow, attempt or
        # context manager until its turn comes.
        assert held == A_CALL + Counter(
            {"AccountLimiter._enter()": 1, "FifoSemaphore.acquire()": 1, "_Waiter": 1}
        )
        for call in calls:
            call.cancel()
        await asyncio.gather(*calls, return_exceptions=True)
        assert lists._requester.limiter.idle or lists._requester.limiter.in_flight == 0


async def test_a_call_in_flight_holds_its_state_attempt_and_turn_and_nothing_for_its_token() -> (
    None
):
    name = "in-flight census"  # found by it among whatever other tests left alive
    answered, transport = answers_held()
    async with kca.CampaignClient(HOST, token="t", transport=transport) as client:
        lists = client.account("acc-1", iid="st-1").contact_lists
        lists._requester.client.observer = Observer([])
        call, held = await sdk_objects_made_by(
            lambda: asyncio.ensure_future(lists.create(name, "d"))
        )
        assert lists._requester.limiter.in_flight == 1
        # Beyond what it held queued: its state, its attempt and the request sent, its turn
        # and permit, the four frames down to the transport. No token flow (a ready token
        # costs nothing kept), no second copy of what the client shares. The pacing state
        # and the limiter's bookkeeping of a first call are the account's, not the call's.
        for account_owned in ("PacingState", "Bounds"):
            held.pop(account_owned, None)
        assert held == A_CALL + Counter(
            {
                "CallState": 1,
                "Requester.send()": 1,
                "Attempt": 1,
                "HttpRequest": 1,
                "Turn": 1,
                "Permit": 1,
                "MockTransport.send()": 1,
            }
        )
        # The attempt began as its turn came (its token was ready): one clock reading, one
        # float, for both.
        objects = gc.get_objects()
        [attempt] = [a for a in objects if type(a) is Attempt and a.spec.json.get("name") == name]
        [turn] = [t for t in objects if type(t) is Turn and t._account is lists._requester.limiter]
        del objects
        assert attempt.started is turn.began
        assert attempt.waited is turn.waited
        answered.set()
        assert (await call).id is not None


def locals_beyond_arguments(function: Callable[..., object]) -> tuple[str, ...]:
    code = function.__code__
    return code.co_varnames[code.co_argcount + code.co_kwonlyargcount : code.co_nlocals]


def test_the_frames_of_a_call_in_flight_name_each_value_once() -> None:
    # Each local of a frame that lasts as long as the call costs every call in flight 8 bytes:
    # create keeps its recovery (which holds the request), call turns its retry and timeout
    # arguments into the policy and Timeout they stand for, and the URL is its observation's.
    assert locals_beyond_arguments(ContactLists.create) == ("adopt",)
    assert locals_beyond_arguments(Requester.call) == (
        "deadline",
        "observed",
        "state",
        "first_failure",
        "turn",
        "result",
        "error",
    )
    assert locals_beyond_arguments(Requester.send) == (
        "url",
        "turn",
        "attempt",
        "token",
        "request",
        "answer",
        "result",
        "error",
    )


async def test_accounts_share_what_the_client_sends_with_and_one_url_per_path() -> None:
    sent: list[kca.HttpRequest] = []

    def handler(request: kca.HttpRequest) -> kca.RawResponse:
        sent.append(request)
        return ok(LIST)

    async with kca.CampaignClient(HOST, token="t", transport=MockTransport(handler)) as client:
        first = client.account("acc-1", iid="st-1").contact_lists
        second = client.account("acc-2", iid="st-1").contact_lists
        # Each account's requester keeps its own account, limiter and budget, nothing more.
        assert first._requester.client is second._requester.client
        assert first._requester.limiter is not second._requester.limiter
        assert not hasattr(first._requester, "__dict__")
        await first.create("l-1", "d")
        await second.create("l-2", "d")
    # Every create of the app goes to one URL, joined once per client, not once per call.
    assert [dict(request.params)["accountId"] for request in sent] == ["acc-1", "acc-2"]
    assert sent[0].url.startswith(f"{HOST}/")
    assert sent[0].url is sent[1].url


async def test_a_refused_first_turn_ends_the_call_as_a_refused_attempt_did() -> None:
    clock = ManualClock()
    script = Script(ok(LIST))
    policy = kca.RetryPolicy(max_queue_wait=0.5, jitter=False)
    async with on_clock(clock, MockTransport(script), retry=policy) as client:
        lists = client.account("acc-1", iid="st-1").contact_lists
        lists._requester.limiter.on_rate_limited(5.0)  # the account is paused for 5 s
        with pytest.raises(kca.RateLimitError) as caught:
            await lists.get("cl-1")
        assert (caught.value.request_sent, caught.value.attempts) == (False, 0)
        assert "no turn within max_queue_wait (0.5s)" in str(caught.value)
        assert caught.value.__traceback__ is not None
        limiter = lists._requester.limiter
        assert (limiter.in_flight, limiter.waiting, script.sent) == (0, 0, [])
        clock.advance(5.0)
        assert (await lists.get("cl-1")).id == LIST["_id"]  # after the pause, the next goes
    assert clock.now >= 5.0


async def test_a_call_without_a_ready_token_fetches_it_before_it_queues() -> None:
    clock = ManualClock()
    seen: list[tuple[float, int, int]] = []
    script = Script(failed(500), ok(LIST))
    async with kca.CampaignClient(
        HOST,
        token_provider=lambda: provide(),
        transport=MockTransport(script),
        clock=clock,
        sleep=clock.sleep,
        retry=kca.RetryPolicy(jitter=False),
    ) as client:
        account = client.account("acc-1", iid="st-1")

        async def provide() -> str:
            seen.append((clock.now, account.limiter.in_flight, account.limiter.waiting))
            await clock.sleep(2.0)  # a slow source
            return "jwt"

        got = await account.contact_lists.get("cl-1")
    assert got.meta is not None
    assert got.meta.attempts == 2
    assert seen == [(0.0, 0, 0)]  # fetched once, before the call took or queued for a slot
    assert [request.headers["auth"] for request in script.sent] == ["jwt", "jwt"]


class ExpiringToken:
    """A token ready until clock time ``expires_at``; a fresh one takes ``fetch`` seconds."""

    renewable = False

    def __init__(self, clock: ManualClock, expires_at: float, fetch: float) -> None:
        self._clock = clock
        self.expires_at = expires_at
        self._fetch = fetch

    def ready_token(self) -> str | None:
        return "jwt" if self._clock() < self.expires_at else None

    async def token(self) -> str:
        await self._clock.sleep(self._fetch)
        self.expires_at = math.inf
        return "jwt"

    def invalidate(self, token: str) -> None:
        """Never asked: no answer here is a 401."""


async def test_an_attempt_takes_its_time_from_its_turn_or_from_a_token_fetched_in_it() -> None:
    clock = ManualClock()
    events: list[kca.AttemptEvent] = []

    async def answer(request: kca.HttpRequest) -> kca.RawResponse:
        await clock.sleep(2.0)  # the answer's own time
        return ok(LIST)

    hooks = kca.Hooks(on_attempt=events.append)
    async with on_clock(clock, MockTransport(answer), hooks=hooks) as client:
        account = client.account("acc-1", iid="st-1")
        account.contact_lists._requester.client.auth = ExpiringToken(clock, 3.0, fetch=5.0)
        await account.contact_lists.get("cl-1")  # 0 -> 2: its turn at once, the token ready
        account.limiter.on_rate_limited(3.0)  # paused until 5
        # Ready as it queues at 2, expired by its turn at 5: fetched in the turn, 5 -> 10.
        await account.contact_lists.get("cl-1")
    assert [(event.waited, event.elapsed) for event in events] == [(0.0, 2.0), (3.0, 2.0)]
    assert clock.now == 12.0


class _FailingToWatch:
    def watch(self, call: CallFacts) -> None:
        raise RuntimeError("a tracer that fails to start a span")


async def test_a_call_whose_observation_fails_to_open_leaves_the_gate() -> None:
    script = Script(ok(LIST))
    async with kca.CampaignClient(HOST, token="t", transport=MockTransport(script)) as client:
        lists = client.account("acc-1", iid="st-1").contact_lists
        requester = lists._requester
        requester.client.observer = Observer([_FailingToWatch()])
        with pytest.raises(RuntimeError, match="fails to start a span"):
            await lists.get("cl-1")
        assert requester.client.gate._in_flight == 0  # aclose() has nothing to wait for
        assert script.sent == []
