"""The LimitStore protocol as a user implements it: outcomes recorded without an await, the
same calls on every store, and a store written for 0.1 still served (with a warning)."""

from __future__ import annotations

import ast
import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async._quota.limiter import AccountLimiter
from kore_campaign_async._quota.store import AccountKey, Lease, PauseListener, PermitRefused

KEY = AccountKey("https://kore.example", "acct-1")
RATE = kca.RateLimit(60, 60.0)


@contextlib.asynccontextmanager
async def no_lease() -> AsyncIterator[Lease]:
    raise NotImplementedError
    yield  # pragma: no cover


class GrantingStore:
    """What every store here shares: it grants every permit and knows nothing of pauses, so
    whatever pauses the account after a 429 is the limiter's doing, not the store's."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        #: The clock time of every permit asked for.
        self.permits: list[float] = []
        self.outcomes: list[tuple[str, float | None]] = []
        self.unwatched = 0

    async def bind(self, key: AccountKey, settings: kca.PacingSettings) -> None:
        pass

    async def permit(self, key: AccountKey, settings: kca.PacingSettings) -> kca.Permit:
        self.permits.append(self.clock())
        return kca.Permit(0.0, self.clock())

    def watch_pauses(self, key: AccountKey, listener: PauseListener) -> Callable[[], None]:
        def unwatch() -> None:
            self.unwatched += 1

        return unwatch

    def lease(
        self, key: AccountKey, name: str, ttl: float = 30.0
    ) -> contextlib.AbstractAsyncContextManager[Lease]:
        return no_lease()

    async def aclose(self) -> None:
        pass


class CountingStore(GrantingStore):
    """A user's store of today's protocol: outcomes recorded at once."""

    def record_success(
        self, key: AccountKey, settings: kca.PacingSettings, permit: kca.Permit
    ) -> None:
        self.outcomes.append(("ok", None))

    def record_rate_limited(
        self,
        key: AccountKey,
        settings: kca.PacingSettings,
        retry_after: float | None,
        permit: kca.Permit,
    ) -> float:
        self.outcomes.append(("429", retry_after))
        return retry_after or 0.0

    def learned_limit(self, key: AccountKey) -> float | None:
        return 42.0


class StoreOf01(GrantingStore):
    """A store written against the 0.1 protocol: outcomes are awaited coroutines."""

    async def succeeded(
        self, key: AccountKey, settings: kca.PacingSettings, permit: kca.Permit
    ) -> None:
        await asyncio.sleep(0)
        self.outcomes.append(("ok", None))

    async def rate_limited(
        self,
        key: AccountKey,
        settings: kca.PacingSettings,
        retry_after: float | None,
        permit: kca.Permit,
    ) -> float:
        await asyncio.sleep(0)
        self.outcomes.append(("429", retry_after))
        return retry_after or 0.0


async def test_a_429_pauses_the_account_before_the_next_permit_on_a_custom_store() -> None:
    clock = ManualClock()
    store = CountingStore(clock)
    limiter = AccountLimiter(RATE, 4, clock=clock, sleep=clock.sleep, store=store, key=KEY)
    async with limiter.slot() as turn:
        pass
    turn.rate_limited(5.0)
    # Paused at once, with no await in between: no other task can take a permit first.
    assert limiter.paused_until == pytest.approx(5.0)
    assert store.outcomes == [("429", 5.0)]
    async with limiter.slot() as turn:
        pass
    turn.succeeded()
    assert store.permits == [0.0, pytest.approx(5.0)]
    assert store.outcomes == [("429", 5.0), ("ok", None)]
    assert limiter.effective_limit == 42  # what the store says it learned
    await limiter.aclose()


async def test_a_caller_queued_for_a_permit_waits_out_a_429_heard_meanwhile() -> None:
    clock = ManualClock()
    store = CountingStore(clock)
    limiter = AccountLimiter(RATE, 1, clock=clock, sleep=clock.sleep, store=store, key=KEY)
    entered = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with limiter.slot() as turn:
            entered.set()
            await release.wait()
        turn.rate_limited(30.0)

    async def second() -> float:
        await entered.wait()
        async with limiter.slot() as turn:
            return turn.began

    holding = asyncio.ensure_future(first())
    waiting = asyncio.ensure_future(second())
    await entered.wait()
    release.set()
    await holding
    began = await waiting
    # The second caller got its permit only after the pause: the store never saw an earlier ask.
    assert store.permits[-1] >= 30.0
    assert began >= 30.0
    await limiter.aclose()


async def test_a_store_written_for_0_1_still_paces_with_a_deprecation_warning() -> None:
    clock = ManualClock()
    store = StoreOf01(clock)
    with pytest.warns(DeprecationWarning, match="record_success"):
        limiter = AccountLimiter(RATE, 4, clock=clock, sleep=clock.sleep, store=store, key=KEY)  # type: ignore[arg-type]  # the 0.1 protocol, on purpose
    async with limiter.slot() as turn:
        pass
    turn.succeeded()
    assert store.outcomes == []  # sent in the background, not awaited by the request
    assert not limiter.idle  # on its way: the limiter is not to be forgotten yet
    for _ in range(3):
        await asyncio.sleep(0)
    assert store.outcomes == [("ok", None)]
    assert limiter.idle
    async with limiter.slot() as turn:
        pass
    turn.rate_limited(2.0)
    assert limiter.paused_until == pytest.approx(turn.began + 2.0)  # before the store has it
    assert limiter.effective_limit == 60  # a 0.1 store says nothing of what it learned
    await limiter.aclose()
    assert store.outcomes == [("ok", None), ("429", 2.0)]
    assert store.unwatched == 1


async def test_a_store_that_refuses_every_permit_fails_the_call_unsent() -> None:
    class Refusing(CountingStore):
        async def permit(self, key: AccountKey, settings: kca.PacingSettings) -> kca.Permit:
            raise PermitRefused("backend down")

    clock = ManualClock()
    limiter = AccountLimiter(
        RATE, 1, clock=clock, sleep=clock.sleep, store=Refusing(clock), key=KEY
    )
    with pytest.raises(kca.RateLimitError, match="backend down") as caught:
        async with limiter.slot():
            pass
    assert caught.value.request_sent is False
    await limiter.aclose()


def _store_type_checks(path: Path) -> list[str]:
    """Every ``isinstance(x, <...Store...>)`` in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance":
            types = ast.unparse(node.args[1]) if len(node.args) > 1 else ""
            if "Store" in types:
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_quota_module_branches_on_the_type_of_a_store() -> None:
    package = Path(kca.__file__).resolve().parent
    checks = [hit for path in sorted(package.rglob("*.py")) for hit in _store_type_checks(path)]
    assert checks == []


async def test_a_429_on_redis_pauses_this_process_at_once_and_every_process_soon(
    redis_url: str,
) -> None:
    settings = kca.PacingSettings(requests=60, per=60.0)
    first = kca.RedisLimitStore.from_url(redis_url, timeout=2.0)
    second = kca.RedisLimitStore.from_url(redis_url, timeout=2.0)
    try:
        await first.bind(KEY, settings)
        heard: list[float] = []
        first.watch_pauses(KEY, heard.append)
        permit = await first.permit(KEY, settings)
        assert first.record_rate_limited(KEY, settings, 5.0, permit) == 5.0
        assert heard == [5.0]  # told here before any round trip
        await first.aclose()  # sends the 429 it holds
        # Another process asking for a permit now hears the pause from Redis.
        refused = await second.permit(KEY, settings)
        assert not refused.granted
        assert 4.0 < refused.pause <= 5.0
        assert first.learned_limit(KEY) is None  # in Redis, not asked for
    finally:
        await first.aclose()
        await second.aclose()
