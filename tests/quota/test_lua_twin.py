"""The Lua script and pacing.step agree, step for step, on random sequences of operations."""

from __future__ import annotations

import random

import pytest
from redis.asyncio import Redis

from kore_campaign_async._quota import _lua, pacing
from kore_campaign_async._quota.pacing import PacingSettings, PacingState

SETTINGS = (
    PacingSettings(),
    PacingSettings(requests=10, per=2.0, burst=3, max_pause=5.0, margin=0.0),
    PacingSettings(requests=5, per=1.0, adaptive=False),
)


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: s.fingerprint())
@pytest.mark.parametrize("seed", range(3))
async def test_lua_and_python_take_the_same_steps(
    redis_url: str, settings: PacingSettings, seed: int
) -> None:
    rng = random.Random(seed)
    client = Redis.from_url(redis_url)
    script = client.register_script(_lua.PACE)
    state: PacingState | None = None
    now = 1_700_000_000.0
    permits: list[float] = []
    try:
        for _ in range(400):
            now += rng.choice((0.0, 0.01, 0.3, 1.0, 3.0, rng.uniform(0, 10), 700.0 * rng.random()))
            op = rng.choice(("permit", "permit", "permit", "ok", "ok", "429", "bind"))
            sent_at = rng.choice(permits) if permits else now
            retry = rng.choice((None, 0.5, 2.0, 30.0, 86_400.0))
            state, number = pacing.step(state, settings, now, op, sent_at, retry)  # type: ignore[arg-type]
            answer = await script(
                keys=["twin"], args=_lua.pace_args(settings, op, "twin:pause", sent_at, retry, now)
            )
            assert answer[0] == b"ok"
            assert float(answer[1]) == pytest.approx(number, abs=1e-6)
            assert float(answer[3]) == pytest.approx(max(0.0, state.paused_until - now), abs=1e-6)
            if op == "permit" and number == 0:
                permits = [*permits[-20:], now]
            stored = await client.hgetall("twin")
            for field in _lua.FIELDS:
                assert float(stored[field.encode()]) == pytest.approx(
                    getattr(state, field), abs=1e-6
                ), field
    finally:
        await client.aclose()
