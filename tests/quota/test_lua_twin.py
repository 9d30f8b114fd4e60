"""The Lua script and pacing.step agree, step for step, on random sequences of operations."""

from __future__ import annotations

import random

import pytest
from redis.asyncio import Redis

from kore_campaign_async._quota import _lua, pacing
from kore_campaign_async._quota.pacing import PacingState
from kore_campaign_async._quota.rate_limit import PacingSettings

SETTINGS = (
    PacingSettings(),
    PacingSettings(requests=10, per=2.0, burst=3, max_pause=5.0, margin=0.0),
    PacingSettings(requests=5, per=1.0, adaptive=False),
    # A wide margin: its catch-up (0.05 s of a 0.4 s interval) is met by the random steps.
    PacingSettings(requests=3, per=1.0, margin=0.2),
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
    seen: set[str] = set()
    try:
        run = chain = 0
        for _ in range(1000):
            if run == 0 and (chain or rng.random() < 0.08):
                # A run of successes after the pause, then a 429: short (a stray while the limit
                # held and the allowance lasts, else a cut) or after a held window; sometimes
                # several short ones in a row (they spend the stray allowance).
                if chain:
                    chain, run = chain - 1, 2
                else:
                    run = rng.choice((2, 3, 2 * settings.requests + 2))
                    chain = rng.choice((0, 6)) if run == 2 else 0
                if state is not None:
                    now = max(now, state.paused_until)
            if run:
                run -= 1
                now += 0.01
                op, sent_at = ("ok", now) if run else ("429", now)
            else:
                now += rng.choice(
                    (0.0, 0.01, 0.3, 1.0, 3.0, rng.uniform(0, 10), 700.0 * rng.random())
                )
                op = rng.choice(("permit", "permit", "permit", "ok", "ok", "429", "bind"))
                sent_at = rng.choice(permits) if permits else now
            retry = rng.choice((None, 0.5, 2.0, 30.0, 86_400.0))
            seen.add(_branch(state, settings, now, op, sent_at, retry))
            state, number = pacing.step(state, settings, now, op, sent_at, retry)  # type: ignore[arg-type]
            answer = await script(
                keys=["twin"], args=_lua.pace_args(settings, op, "twin:pause", sent_at, retry, now)
            )
            assert answer[0] == b"ok"
            assert float(answer[1]) == pytest.approx(number, abs=1e-6)
            assert float(answer[3]) == pytest.approx(max(0.0, state.paused_until - now), abs=1e-6)
            if op == "permit" and number == 0:
                permits = [*permits[-20:], now]
            await assert_stored(client, "twin", state)
    finally:
        await client.aclose()
    # The random walk went through the branches that differ between the twins' versions.
    if settings.margin:
        assert "caught up" in seen
    if settings.adaptive:
        assert "cut" in seen
    if settings.adaptive and settings.requests <= 10 and settings.start_burst == 1:
        assert "stray" in seen
        assert "stray allowance spent" in seen


async def assert_stored(client: Redis, key: str, state: PacingState) -> None:
    """Redis holds ``state`` under ``key``, field for field."""
    stored = await client.hgetall(key)  # type: ignore[misc]
    for field in _lua.FIELDS:
        assert float(stored[field.encode()]) == pytest.approx(getattr(state, field), abs=1e-6), (
            field
        )


def _branch(
    state: PacingState | None,
    settings: PacingSettings,
    now: float,
    op: str,
    sent_at: float,
    retry: float | None,
) -> str:
    """Name the path ``op`` is about to take (only those worth making sure of)."""
    if state is None:
        return "fresh"
    state = pacing.forget_if_idle(state, settings, now)
    if op == "permit" and state.paused_until <= now and state.burst == 1 and state.tat < now:
        return "caught up"
    if op == "429" and state.burst == 1 and sent_at >= state.cut_at and state.epoch_ok > 0:
        wait = pacing.interval(state, settings) if retry is None else retry
        if pacing._is_stray(state, settings, wait):
            return "stray"
        if state.clean >= state.limit and wait >= pacing.interval(state, settings):
            return "stray allowance spent"
        return "cut"
    return op


@pytest.mark.parametrize("seed", range(2))
async def test_successes_carried_by_a_call_count_as_separate_ones_before_it(
    redis_url: str, seed: int
) -> None:
    # A cut limit (probing back up) and a burst: carried successes change both.
    settings = PacingSettings(requests=10, per=1.0, burst=3, margin=0.0)
    rng = random.Random(seed)
    client = Redis.from_url(redis_url)
    script = client.register_script(_lua.PACE)
    state: PacingState | None = None
    now = 1_700_000_000.0
    cut = raised = False
    try:
        for _ in range(300):
            now += rng.choice((0.01, 0.1, 0.5))
            op = rng.choice(("permit", "permit", "429"))
            carried = [now - rng.choice((0.0, 0.05, 2.0)) for _ in range(rng.randrange(4))]
            for sent_at in carried:
                state, _ = pacing.step(state, settings, now, "ok", sent_at, None)
            state, number = pacing.step(state, settings, now, op, now, None)  # type: ignore[arg-type]
            args = _lua.pace_args(settings, op, "twin:pause", now, None, now, carried=carried)
            answer = await script(keys=["carried"], args=args)
            cut = cut or state.limit < settings.requests
            raised = raised or bool(state.raised)
            assert float(answer[1]) == pytest.approx(number, abs=1e-6)
            await assert_stored(client, "carried", state)
    finally:
        await client.aclose()
    # The walk cut the limit and probed it back up: carried successes moved both.
    assert cut
    assert raised


async def test_a_hash_stored_before_strays_and_held_were_kept_keeps_its_pause(
    redis_url: str,
) -> None:
    # An account paused by an older version's script (no "strays" or "held" field) stays
    # paused, and reads them as a fresh account's.
    settings = PacingSettings(requests=5, per=1.0)
    client = Redis.from_url(redis_url)
    script = client.register_script(_lua.PACE)
    now = 1_700_000_000.0
    try:
        args = _lua.pace_args(settings, "429", "old:pause", now, 1.5, now)
        await script(keys=["old"], args=args)
        await client.hdel("old", "strays", "held")
        answer = await script(
            keys=["old"], args=_lua.pace_args(settings, "permit", "old:pause", now=now + 1.0)
        )
        assert float(answer[1]) == pytest.approx(0.5)
        assert float(await client.hget("old", "strays")) == pacing.FRESH_STRAYS
        assert float(await client.hget("old", "held")) == 0.0
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        # Probed from 30 to 31 five successes ago: the probe failed.
        ("failed probe", {"limit": 31.0, "ceiling": 31.0, "raised": 1.0, "clean": 5.0}),
        # 40 held; climbed halfway to 50 five successes ago; refused 20 s into the epoch (short
        # of a window) with a long Retry-After: the cut is the pause's share of a window.
        (
            "short epoch",
            {"limit": 45.0, "ceiling": 50.0, "raised": 1.0, "clean": 5.0, "held": 40.0},
        ),
        # 45 held; climbed to 44 toward 46 and refused within a window: the ceiling comes down
        # to 44, and the held limit with it.
        (
            "failed climb",
            {"limit": 44.0, "ceiling": 46.0, "raised": 1.0, "clean": 5.0, "held": 45.0},
        ),
    ],
)
async def test_the_twins_agree_on_failed_probes_and_climbs_and_short_epochs(
    redis_url: str, name: str, changes: dict[str, float]
) -> None:
    # The random walk rarely probes (four clean windows first) or cuts after a held window and
    # a short epoch: these are set up directly.
    settings = PacingSettings()
    now = 1_700_000_000.0
    state = PacingState.fresh(settings, now - 20.0)
    state.epoch_ok, state.strays, state.touched = 5.0, 0.0, now
    for field, value in changes.items():
        setattr(state, field, value)
    client = Redis.from_url(redis_url)
    script = client.register_script(_lua.PACE)
    try:
        stored = {field: repr(getattr(state, field)) for field in _lua.FIELDS}
        await client.hset(name, mapping={"fp": settings.fingerprint(), **stored})
        before = (state.limit, state.ceiling)
        state, pause = pacing.step(state, settings, now, "429", now - 1.0, 6.0)
        answer = await script(
            keys=[name], args=_lua.pace_args(settings, "429", "p", now - 1.0, 6.0, now)
        )
        assert float(answer[1]) == pytest.approx(pause)
        await assert_stored(client, name, state)
        if name == "failed probe":
            assert (state.limit, state.ceiling) == (30.0, 31.0)
        elif name == "failed climb":
            assert (state.ceiling, state.held) == (44.0, 44.0)
        else:
            assert state.limit == pytest.approx(before[0] * (1 - 6.0 / 60))
            assert state.ceiling == 45.0
    finally:
        await client.aclose()
