"""The pure pacing state machine, step by step in made-up time."""

from __future__ import annotations

import random

import attrs
import pytest

from kore_campaign_async import ConfigurationError
from kore_campaign_async._quota import pacing
from kore_campaign_async._quota.pacing import PacingState
from kore_campaign_async._quota.rate_limit import DEFAULT_MARGIN, PacingSettings

SETTINGS = PacingSettings(requests=60, per=60.0, margin=0.0)


def fresh(settings: PacingSettings = SETTINGS, now: float = 1000.0) -> PacingState:
    return PacingState.fresh(settings, now)


def unheld(settings: PacingSettings = SETTINGS, now: float = 1000.0) -> PacingState:
    """A state whose limit has not held a window yet (as right after a cut), with no stray
    allowance left: 429s blame the pace."""
    state = fresh(settings, now)
    state.clean = 0.0
    state.strays = 0.0
    return state


def take_all(state: PacingState, now: float, settings: PacingSettings = SETTINGS) -> int:
    taken = 0
    while pacing.permit(state, settings, now) == 0:
        taken += 1
    return taken


def test_an_account_is_paced_from_its_first_request() -> None:
    state = fresh()
    assert take_all(state, 1000.0) == 1
    assert pacing.permit(state, SETTINGS, 1000.0) == pytest.approx(1.0)


def test_a_configured_burst_starts_at_once_then_paces() -> None:
    settings = PacingSettings(requests=60, per=60.0, burst=6, margin=0.0)
    state = fresh(settings)
    assert take_all(state, 1000.0, settings) == 6
    assert pacing.permit(state, settings, 1000.0) == pytest.approx(1.0)
    assert pacing.permit(state, settings, 1001.0) == 0
    assert pacing.permit(state, settings, 1001.0) == pytest.approx(1.0)


def test_the_default_burst_is_one() -> None:
    state = fresh()
    assert take_all(state, 1000.0) == 1
    assert pacing.permit(state, SETTINGS, 1000.0) == pytest.approx(1.0)
    assert pacing.permit(state, SETTINGS, 1001.0) == 0
    assert pacing.permit(state, SETTINGS, 1001.0) == pytest.approx(1.0)


def test_the_margin_paces_a_hair_slower() -> None:
    settings = PacingSettings(requests=60, per=60.0, burst=1)
    state = fresh(settings)
    assert pacing.permit(state, settings, 1000.0) == 0
    assert pacing.permit(state, settings, 1000.0) == pytest.approx(1.0 + DEFAULT_MARGIN)


def test_a_429_pauses_for_its_retry_after_and_removes_the_burst() -> None:
    settings = PacingSettings(requests=60, per=60.0, burst=6, margin=0.0)
    state = fresh(settings)
    assert take_all(state, 1000.0, settings) == 6
    pause = pacing.rate_limited(state, settings, 1000.5, 3.0, sent_at=1000.0)
    assert pause == pytest.approx(3.0)
    assert pacing.permit(state, settings, 1002.0) == pytest.approx(1.5)
    # The burst is still owed (six permits at 1000 pace until 1006), then one interval apart.
    assert pacing.permit(state, settings, 1003.5) == pytest.approx(2.5)
    assert take_all(state, 1006.0, settings) == 1
    assert pacing.permit(state, settings, 1006.0) == pytest.approx(1.0)
    assert state.burst == 1
    assert state.limit == 60  # the first 429 blames the burst only


def test_one_answer_pauses_for_at_most_two_windows() -> None:
    state = fresh()
    assert pacing.rate_limited(state, SETTINGS, 1000.0, 86_400.0, sent_at=1000.0) == 120.0
    capped = PacingSettings(requests=60, per=60.0, max_pause=5.0)
    state = fresh(capped)
    assert pacing.rate_limited(state, capped, 1000.0, 86_400.0, sent_at=1000.0) == 5.0


def test_without_retry_after_the_pause_is_one_interval() -> None:
    state = fresh()
    assert pacing.rate_limited(state, SETTINGS, 1000.0, None, sent_at=1000.0) == pytest.approx(1.0)


def test_a_paced_429_learns_the_rate_the_server_admitted() -> None:
    state = unheld()
    # 48 successes from the epoch's start (1000) to the end of the pause (1060): 48/60 s.
    for i in range(48):
        pacing.succeeded(state, SETTINGS, 1000.0 + i, sent_at=1000.0 + i)
    pause = pacing.rate_limited(state, SETTINGS, 1048.0, 12.0, sent_at=1048.0)
    assert pause == 12.0
    assert state.limit == pytest.approx(48.0)
    assert pacing.interval(state, SETTINGS) == pytest.approx(1.25)


def test_a_paced_429_cuts_at_least_one_and_at_most_thirty_percent() -> None:
    state = unheld()
    for i in range(50):
        pacing.succeeded(state, SETTINGS, 1000.0 + i, sent_at=1000.0 + i)
    pacing.rate_limited(state, SETTINGS, 1050.0, 0.5, sent_at=1050.0)
    assert state.limit == 59  # it admitted 50 in 50.5 s, above 59/min: still one lower
    # One admitted in the next epoch: never below 70 % of what it was.
    pacing.succeeded(state, SETTINGS, 1051.0, sent_at=1051.0)
    pacing.rate_limited(state, SETTINGS, 1052.0, 0.5, sent_at=1052.0)
    assert state.limit == pytest.approx(59 * 0.7)


def test_429s_before_anything_got_through_only_pause() -> None:
    # A storm of refusals (another client's burst on the account): the pace is not to blame.
    state = fresh()
    for at in (1000.0, 1007.0, 1014.0):
        assert pacing.rate_limited(state, SETTINGS, at, 6.0, sent_at=at) == 6.0
        assert pacing.permit(state, SETTINGS, at + 6.0) == 0
    assert (state.limit, state.ceiling) == (60, 60)


def stray_after(state: PacingState, successes: int, at: float) -> float:
    """``successes`` one a second from ``at``, then a 429 asking for 6 s; return its time."""
    for i in range(successes):
        pacing.succeeded(state, SETTINGS, at + i, sent_at=at + i)
    at += successes
    assert pacing.rate_limited(state, SETTINGS, at, 6.0, sent_at=at) == 6.0
    return at + 6.0


def test_stray_429s_after_a_held_window_only_pause_while_the_allowance_lasts() -> None:
    state = fresh()
    state.strays = 2.0
    at = stray_after(state, 10, 1000.0)  # a fresh account's configured limit counts as held
    at = stray_after(state, 10, at)  # a second within the window: still a stray
    assert (state.limit, state.ceiling) == (60, 60)
    assert state.strays == pytest.approx(20 / 60)  # two spent, a third of one earned
    assert pacing.permit(state, SETTINGS, at - 0.1) == pytest.approx(0.1)  # the pause holds
    # The allowance is spent: the next one blames the pace (10 admitted in 16 s).
    stray_after(state, 10, at)
    assert state.limit == pytest.approx(42.0)


def test_a_429_asking_for_less_than_an_interval_is_not_a_stray() -> None:
    # A window that frees within an interval was only just full: the pace is a hair too fast
    # (a busy event loop's late wake-ups), so it is cut, by one here, allowance or not.
    state = fresh()
    for i in range(30):
        pacing.succeeded(state, SETTINGS, 1000.0 + i, sent_at=1000.0 + i)
    pacing.rate_limited(state, SETTINGS, 1030.0, 0.5, sent_at=1030.0)
    assert state.limit == 59
    assert state.strays == pytest.approx(pacing.FRESH_STRAYS + 0.5)


def test_the_allowance_is_earned_back_one_a_window_up_to_its_cap() -> None:
    state = fresh()
    assert state.strays == pacing.FRESH_STRAYS
    for i in range(60):
        pacing.succeeded(state, SETTINGS, 1000.0 + i, sent_at=1000.0 + i)
    assert state.strays == pytest.approx(pacing.FRESH_STRAYS + 1)
    for i in range(600):
        pacing.succeeded(state, SETTINGS, 1060.0 + i, sent_at=1060.0 + i)
    assert state.strays == pacing.STRAY_ALLOWANCE


def test_a_stray_within_a_window_of_a_cut_costs_twice_the_allowance() -> None:
    # A limit lower than the pace refuses again soon after the cut, spending the allowance
    # fast; a stray there (Kore's own, at a pace it admits) only pauses while it lasts.
    state = unheld()
    state.strays = 3.0
    stray_after(state, 30, 1000.0)  # the limit never held a window: twice the price
    assert (state.limit, state.ceiling) == (60, 60)
    assert state.strays == pytest.approx(1.0 + 30 / 60)
    stray_after(state, 20, 1036.0)  # 1.83 left, less than the price: the pace is cut
    assert state.limit < 60
    assert state.strays == pytest.approx(1.0 + 50 / 60)  # none spent by the cut


def test_a_lower_limit_is_learned_once_the_allowance_is_spent() -> None:
    # A fixed window of 40 a minute refuses once a window at the configured pace, with a
    # Retry-After to the window's end: pause only while the allowance lasts (it earns 40/60 of
    # one a window), then the pace is cut to the 40 it admits.
    state = fresh()
    at, cuts = 1000.0, []
    for _ in range(12):
        for i in range(40):
            pacing.succeeded(state, SETTINGS, at + i, sent_at=at + i)
        pacing.rate_limited(state, SETTINGS, at + 40, 20.0, sent_at=at + 40)
        cuts.append(state.limit)
        at += 60.0
    assert cuts[0] == 60
    assert cuts[-1] == pytest.approx(40.0)
    assert cuts.index(40.0) <= 10


def test_a_429_after_a_climb_held_a_window_keeps_the_ceiling() -> None:
    state = unheld()
    state.limit, state.ceiling, state.raised = 50.0, 51.0, 1.0  # probed, and held a window
    for i in range(50):
        pacing.succeeded(state, SETTINGS, 1000.0 + i, sent_at=1000.0 + i)
    state.strays = 0.0  # no stray left: the 429 cuts
    pacing.rate_limited(state, SETTINGS, 1050.0, 6.0, sent_at=1050.0)
    assert state.limit < 50
    assert state.ceiling == 51  # the probe was not what failed


def test_a_late_permit_keeps_the_schedule_within_the_catch_up() -> None:
    settings = PacingSettings(requests=60, per=60.0)  # interval 1.02 s, catch-up 0.3 s
    assert pacing.catch_up(pacing.interval(fresh(settings), settings), settings) == 0.3
    state = fresh(settings)
    assert pacing.permit(state, settings, 1000.0) == 0
    assert pacing.permit(state, settings, 1000.5) == pytest.approx(0.52)
    assert pacing.permit(state, settings, 1001.3) == 0  # 0.28 s late: nothing lost
    assert pacing.permit(state, settings, 1002.0) == pytest.approx(0.04)
    assert pacing.permit(state, settings, 1003.9) == 0  # 1.86 s late: 0.3 s kept
    assert state.tat == pytest.approx(1003.9 - 0.3 + 1.02)


def late_permits(settings: PacingSettings, late: float) -> list[float]:
    """Permit times over 100 windows for a waiter woken up to ``late`` seconds late."""
    state = fresh(settings)
    rng = random.Random(7)
    now, taken = 1000.0, []
    while now < 1000.0 + 100 * settings.per:
        wait = pacing.permit(state, settings, now)
        if wait == 0:
            taken.append(now)
        else:
            now += wait + rng.uniform(0, late)
    return taken


def test_wake_ups_late_within_the_catch_up_lose_nothing() -> None:
    settings = PacingSettings(requests=60, per=60.0)
    # Without the catch-up, waking up to 0.3 s late paced at about 87 % of the limit.
    taken = late_permits(settings, late=0.3)
    assert len(taken) >= 0.99 * 100 * 60 / (1 + settings.margin)


def test_late_permits_never_put_more_than_the_limit_in_a_window() -> None:
    settings = PacingSettings(requests=60, per=60.0)
    taken = late_permits(settings, late=2.0)
    # The catch-up spends a quarter of the margin's jitter budget (1.2 s a window); the rest
    # still holds: even a window widened by 0.9 s of latency jitter sees at most the limit.
    most = max(
        sum(1 for t in taken if start <= t < start + settings.per + 0.9 - 1e-9) for start in taken
    )
    assert most <= 60


def test_without_adaptive_a_429_only_pauses() -> None:
    settings = PacingSettings(requests=60, per=60.0, adaptive=False)
    state = fresh(settings)
    assert pacing.rate_limited(state, settings, 1000.0, 2.0, sent_at=1000.0) == 2.0
    assert (state.limit, state.burst) == (60, 1)


def test_429s_for_requests_sent_before_the_cut_only_extend_the_pause() -> None:
    state = unheld()
    pacing.succeeded(state, SETTINGS, 1001.0, sent_at=1000.0)
    pacing.rate_limited(state, SETTINGS, 1002.0, 1.0, sent_at=1002.0)
    limit = state.limit
    assert limit < 60
    assert pacing.rate_limited(state, SETTINGS, 1002.5, 5.0, sent_at=1001.9) == 5.0
    assert state.limit == limit


def test_clean_successes_probe_one_request_higher() -> None:
    state = unheld()
    state.limit, state.ceiling = 30.0, 31.0  # within RESTORE_GAP of the ceiling: probing
    for i in range(pacing.PROBE_WINDOWS * 30 - 1):
        pacing.succeeded(state, SETTINGS, 1000.0 + i, sent_at=1000.0 + i)
    assert state.limit == 30
    pacing.succeeded(state, SETTINGS, 1100.0, sent_at=1100.0)
    assert (state.limit, state.ceiling, state.raised) == (31, 31, 1.0)
    state.limit = 60.0
    for i in range(200):
        pacing.succeeded(state, SETTINGS, 1200.0 + i, sent_at=1200.0 + i)
    assert state.limit == 60  # never above the configured limit


def test_a_failed_probe_steps_back_only_the_request_it_added() -> None:
    # Probed from 30 to 31; a stray's pause then shortened the epoch, so the rate observed
    # over it (5 in 10.5 s: 28.6 a minute) is below the 30 that held. The probe's 429 goes
    # back to 30, not to 28.6: its overshoot was one request.
    state = unheld()
    state.limit, state.ceiling = 30.0, 31.0
    for i in range(pacing.PROBE_WINDOWS * 30):
        pacing.succeeded(state, SETTINGS, 1000.0 + i, sent_at=1000.0 + i)
    assert (state.limit, state.raised) == (31.0, 1.0)
    state.strays = pacing.CHANGED_STRAY_PRICE
    pacing.rate_limited(state, SETTINGS, 1100.0, 6.0, sent_at=1100.0)  # a stray: pause only
    assert state.limit == 31.0
    for k in range(1, 6):
        pacing.succeeded(state, SETTINGS, 1106.0 + 1.94 * k, sent_at=1106.0 + 1.94 * k)
    pacing.rate_limited(state, SETTINGS, 1116.0, 0.5, sent_at=1116.0)
    assert (state.limit, state.ceiling, state.raised, state.clean) == (30.0, 31.0, 0.0, 0.0)


def short_epoch_cut(held: float) -> float:
    """The limit after a 429 asking 6 s, 20 s into an epoch of 13 successes at 40 a minute,
    with the allowance spent, for an account whose last held limit is ``held``."""
    state = unheld()
    state.limit, state.ceiling, state.epoch_start, state.held = 40.0, 41.0, 1000.0, held
    for k in range(13):
        pacing.succeeded(state, SETTINGS, 1000.0 + 1.5 * k, sent_at=1000.0 + 1.5 * k)
    pacing.rate_limited(state, SETTINGS, 1020.0, 6.0, sent_at=1020.0)
    return state.limit


def test_a_cut_after_an_epoch_short_of_a_window_is_the_pauses_share() -> None:
    # 13 admitted in 26 s (30 a minute) says nothing of a minute's limit; the 6 s pause does:
    # a learned 40 that held a window is cut by a tenth, not to 30.
    assert short_epoch_cut(held=40.0) == pytest.approx(36.0)
    # Before any learned limit held a window, 429s in quick succession are the limit's own.
    assert short_epoch_cut(held=0.0) == pytest.approx(30.0)
    # A whole window's epoch (a fixed window refuses at its end) is still the server's rate.
    state = unheld()
    state.limit, state.ceiling, state.epoch_start, state.held = 50.0, 60.0, 1000.0, 40.0
    for k in range(40):
        pacing.succeeded(state, SETTINGS, 1000.0 + k, sent_at=1000.0 + k)
    pacing.rate_limited(state, SETTINGS, 1040.0, 20.0, sent_at=1040.0)
    assert state.limit == pytest.approx(40.0)


def succeed(state: PacingState, successes: int, at: float) -> float:
    """``successes`` one a second from ``at``; return the time after the last."""
    for i in range(successes):
        pacing.succeeded(state, SETTINGS, at + i, sent_at=at + i)
    return at + successes


def test_a_limit_that_holds_a_window_is_kept_as_held() -> None:
    state = unheld()
    state.limit, state.ceiling = 38.5, 42.0
    at = succeed(state, 38, 1000.0)
    assert state.held == 0.0
    at = succeed(state, 1, at)  # the 39th completes a window's worth at 38.5
    assert state.held == 38.5
    assert state.limit == pytest.approx(40.25)  # and climbs halfway to the ceiling
    # The successes before the climb count for 38.5, not for 40.25.
    succeed(state, 40, at)
    assert state.held == 38.5
    # A fresh account's configured limit is no learned one.
    fresh_state = fresh()
    succeed(fresh_state, 1, 1000.0)
    assert fresh_state.held == 0.0


def test_a_window_with_a_429_in_it_is_not_held() -> None:
    # 20 successes, a stray's pause, 20 more: 40 since the limit was set, but the server
    # refused within them (a fixed window's refusals at the end of each window look so).
    state = unheld()
    state.limit, state.ceiling, state.strays = 30.0, 30.5, 2.0
    at = stray_after(state, 20, 1000.0)
    assert state.limit == 30.0  # a stray: paused only
    at = succeed(state, 20, at)
    assert state.held == 0.0
    succeed(state, 10, at)  # 30 since the 429
    assert state.held == 30.0


def test_the_held_limit_is_the_highest_and_falls_with_the_ceiling() -> None:
    state = unheld()
    state.limit, state.ceiling, state.held = 36.0, 37.0, 40.0
    succeed(state, 36, 1000.0)
    assert state.held == 40.0  # 36 held too, 40 stays
    # A climb that fails within a window lowers the ceiling, and the held limit with it.
    state = unheld()
    state.limit, state.ceiling, state.held, state.raised = 38.0, 44.0, 40.0, 1.0
    succeed(state, 5, 1000.0)
    pacing.rate_limited(state, SETTINGS, 1005.0, 0.5, sent_at=1005.0)
    assert state.ceiling == 38.0
    assert state.held == 38.0


def test_a_stray_at_or_below_the_held_limit_costs_one() -> None:
    # Cut from 40.2 (which held) to 36 and climbed back to 39: a stray within a window of that
    # climb pays 1, as after a held window; above the held limit it pays twice.
    state = unheld()
    state.limit, state.ceiling, state.held, state.raised = 39.0, 41.0, 40.2, 1.0
    state.strays = 1.5
    stray_after(state, 5, 1000.0)
    assert state.limit == 39.0
    assert state.strays == pytest.approx(0.5 + 5 / 60)
    state.limit, state.strays = 40.6, 1.5
    stray_after(state, 5, 1100.0)  # 1.58 left, under twice the price: the pace is cut
    assert state.limit < 40.6


def test_a_clean_window_climbs_halfway_back_to_the_ceiling() -> None:
    state = unheld()
    state.limit = 20.0  # cut by a storm of 429s; the ceiling is still the configured 60
    for i in range(19):
        pacing.succeeded(state, SETTINGS, 1000.0 + i, sent_at=1000.0 + i)
    assert state.limit == 20
    pacing.succeeded(state, SETTINGS, 1019.0, sent_at=1019.0)
    assert (state.limit, state.raised) == (40.0, 1.0)
    # That climb meets a 429: the ceiling comes down to where it failed.
    pacing.rate_limited(state, SETTINGS, 1020.0, 1.0, sent_at=1020.0)
    assert state.ceiling == 40.0
    assert state.limit < 40.0
    assert state.raised == 0.0


def test_an_account_idle_for_ten_windows_starts_afresh() -> None:
    state = fresh()
    pacing.rate_limited(state, SETTINGS, 1000.0, 1.0, sent_at=1000.0)
    assert pacing.forget_if_idle(state, SETTINGS, 1000.0 + 9 * 60) is state
    again = pacing.forget_if_idle(state, SETTINGS, 1001.0 + 10 * 60 + 1)
    assert again == fresh(now=1001.0 + 10 * 60 + 1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"requests": 0}, "requests"),
        ({"per": 0.0}, "per"),
        ({"burst": 0}, "burst"),
        ({"max_pause": float("inf")}, "max_pause"),
        ({"margin": 1.0}, "margin"),
    ],
)
def test_settings_reject_bad_values(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        PacingSettings(**kwargs)  # type: ignore[arg-type]


def test_fingerprints_tell_settings_apart() -> None:
    assert PacingSettings().fingerprint() == PacingSettings(burst=1).fingerprint()
    assert PacingSettings().fingerprint() != PacingSettings(adaptive=False).fingerprint()
    assert PacingSettings().fingerprint() != PacingSettings(requests=30).fingerprint()
    assert PacingSettings().fingerprint() != PacingSettings(max_pause=5).fingerprint()


def test_a_state_saved_before_held_existed_reads_back_with_none_held() -> None:
    # A custom LimitStore that saved a state's fields (every field but held) rebuilds it.
    saved = attrs.asdict(pacing.PacingState.fresh(SETTINGS, 1000.0))
    del saved["held"]
    state = pacing.PacingState(**saved)
    assert state.held == 0.0
    assert pacing.permit(state, SETTINGS, 1000.0) == 0.0
