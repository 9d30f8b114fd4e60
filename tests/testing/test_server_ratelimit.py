"""The per-account rate limit over HTTP, on an injected server clock."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

import pytest

from kore_campaign_async._config import RATE_LIMIT_MESSAGE
from kore_campaign_async.testing import FakeKoreServer, Fault, ServerRateLimit
from tests.helpers.clock import FakeClock
from tests.helpers.fake_server import Kore

LIMITED = {"errors": [{"msg": RATE_LIMIT_MESSAGE, "code": 429}]}


async def burst(kore: Kore, count: int, account: str | None = None) -> list[int]:
    return [(await kore.list_all(account=account)).status for _ in range(count)]


async def test_fixed_window(kore: Kore, server: FakeKoreServer, server_clock: FakeClock) -> None:
    server_clock.now = 1_005.0
    server.rate_limit = ServerRateLimit(limit=3, window=10.0, mode="fixed")
    assert await burst(kore, 4) == [200, 200, 200, 429]
    refused = await kore.list_all()
    assert (refused.status, refused.body) == (429, LIMITED)
    assert refused.headers["Retry-After"] == "5"
    server_clock.advance(4.75)
    assert (await kore.list_all()).headers["Retry-After"] == "0.25"
    server_clock.advance(0.25)  # the window aligned at 1010 starts
    assert await burst(kore, 4) == [200, 200, 200, 429]


async def test_sliding_window(kore: Kore, server: FakeKoreServer, server_clock: FakeClock) -> None:
    server.rate_limit = ServerRateLimit(limit=2, window=60.0, mode="sliding")
    assert (await kore.list_all()).status == 200
    server_clock.advance(30.0)
    assert (await kore.list_all()).status == 200
    server_clock.advance(20.0)
    refused = await kore.list_all()
    assert (refused.status, refused.headers["Retry-After"]) == (429, "10")
    server_clock.advance(10.0)
    assert await burst(kore, 2) == [200, 429]


async def test_accounts_have_their_own_windows(kore: Kore, server: FakeKoreServer) -> None:
    server.rate_limit = ServerRateLimit(limit=1)
    assert await burst(kore, 2) == [200, 429]
    assert await burst(kore, 2, account="acc-2") == [200, 429]


async def test_refusals_before_the_limit_and_rate_limited_requests_do_not_count(
    kore: Kore, server: FakeKoreServer, server_clock: FakeClock
) -> None:
    server.rate_limit = ServerRateLimit(limit=2, window=10.0, mode="sliding")
    good_token = kore.token
    kore.token = "garbage"
    assert await burst(kore, 5) == [401] * 5
    kore.token = good_token
    assert await burst(kore, 5) == [200, 200, 429, 429, 429]
    server_clock.advance(10.0)
    # Had the refusals counted, the sliding log would still be full.
    assert await burst(kore, 3) == [200, 200, 429]


async def test_rate_limited_requests_meet_no_fault(kore: Kore, server: FakeKoreServer) -> None:
    server.rate_limit = ServerRateLimit(limit=1)
    assert (await kore.list_all()).status == 200
    server.faults.add(Fault("status", status=500))
    assert (await kore.list_all()).status == 429
    assert len(server.faults) == 1
    assert [r.fault for r in server.requests] == [None, None]


async def test_retry_after_ms(kore: Kore, server: FakeKoreServer, server_clock: FakeClock) -> None:
    server_clock.now = 0.0
    server.rate_limit = ServerRateLimit(limit=1, window=1.5, mode="fixed", retry_after="ms")
    await kore.list_all()
    refused = await kore.list_all()
    assert refused.headers["retry-after-ms"] == "1500"
    assert "Retry-After" not in refused.headers


async def test_retry_after_http_date(kore: Kore, server: FakeKoreServer) -> None:
    server.rate_limit = ServerRateLimit(limit=1, window=60.0, retry_after="http-date")
    await kore.list_all()
    before = time.time()
    refused = await kore.list_all()
    when = parsedate_to_datetime(refused.headers["Retry-After"]).timestamp()
    assert before + 60.0 <= when <= time.time() + 61.0


async def test_no_retry_after_and_a_custom_status(kore: Kore, server: FakeKoreServer) -> None:
    server.rate_limit = ServerRateLimit(limit=1, retry_after=None, status=400)
    await kore.list_all()
    refused = await kore.list_all()
    assert (refused.status, refused.body) == (400, LIMITED)
    assert "Retry-After" not in refused.headers
    assert "retry-after-ms" not in refused.headers


async def test_the_limit_can_change_at_run_time(kore: Kore, server: FakeKoreServer) -> None:
    assert server.rate_limit is None
    assert await burst(kore, 3) == [200, 200, 200]
    server.rate_limit = ServerRateLimit(limit=1)
    assert await burst(kore, 2) == [200, 429]
    server.rate_limit = None
    assert await burst(kore, 3) == [200, 200, 200]


@pytest.mark.parametrize("mode", ["fixed", "sliding"])
async def test_reset_starts_fresh_windows(kore: Kore, server: FakeKoreServer, mode: str) -> None:
    policy = ServerRateLimit(limit=1, mode=mode)  # type: ignore[arg-type]
    server.rate_limit = policy
    assert await burst(kore, 2) == [200, 429]
    server.reset()
    assert server.rate_limit == policy
    assert await burst(kore, 2) == [200, 429]
