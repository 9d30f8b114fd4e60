"""The pacing of one account as a pure state machine of a few numbers (its Lua twin: _lua.py).

Chosen by the numbers of ``benchmarks/_shapes.py`` over fixed windows, sliding windows, token
buckets with a small burst and servers allowing less than configured:

- **GCRA pacing.** Permits are spaced ``interval`` apart (the learned limit over ``per``, plus a
  safety margin), so no window of any shape ever sees more than the limit. An idle account may
  start ``burst`` at once (default 1: the matrix showed any burst costs 429s on sliding and
  token-bucket servers). Unlike the old sliding log, pacing never replays a burst every window.
- **Catching up.** A permit taken late (its waiter woke after its time: a busy event loop, a
  store's round trip) keeps the schedule, as long as the schedule lags by at most a quarter of
  the margin's jitter budget (``CATCH_UP * margin * per``: 0.3 s of a 60 s window) and one
  interval. Before, every late wake-up was lost for good: the goodput benchmark, whose 60x
  compressed time makes 1-2 ms of lateness a tenth of an interval, paced at 88 % of the
  allowance (median; 97-98 % now). Any window still sees at most the limit with up to the other
  three quarters of the budget in latency jitter, and at most two requests ever start back to
  back. Half the budget did no better in that benchmark and drew 429s in more runs (a busy
  machine's 10 ms stalls are 0.6 s in compressed time).
- **A 429 pauses the account** for its Retry-After (at most ``max_pause``, default two windows),
  and the burst credit is gone afterwards: after a pause requests resume one interval apart.
- **Learning from the 429** (``adaptive``). The server admitted ``epoch_ok`` requests between the
  end of the last pause (``epoch_start``) and the end of this one: that is its rate, exactly so for
  a sliding or fixed window the epoch starts empty. A 429 while a burst is allowed sets the burst to
  1 (the burst alone may have been the trouble); otherwise the limit drops to that rate, and at
  least one request a window. One answer never cuts more than 30 %. 429s for requests sent before
  the last lesson (``cut_at``) only extend the pause: they describe the overload that lesson already
  answered. A 429 before anything got through since the last pause only pauses (a storm of refusals:
  five of them cut the pace to a sixth and took five windows to recover from, now 1.4).
- **Stray 429s** (``_is_stray``). A 429 the pace did not cause only pauses, while the
  account's stray allowance lasts: at most ``STRAY_ALLOWANCE`` at once, one more earned per
  window of successes (a fresh account starts with ``FRESH_STRAYS``; its configured limit
  counts as held). Kore refusing now and then for reasons of its own (1 % of answers, a tenth
  of a window each) then costs only the pauses it asks for: 89-95 % of the allowance over
  seeds, what honouring the pauses alone gets, against 45 % when each such 429 cut the pace and
  every climb back met the next one. A limit lower than the pace refuses at least once a window
  at the same pace (a fixed window exactly once, at 40 of 60), more often than one a window can
  earn: the allowance runs out within a few windows and the limit is learned as before. Within
  a window of a cut, a climb or a probe, where a lower limit shows itself, a stray costs
  ``CHANGED_STRAY_PRICE`` of the allowance: a limit the change overshot spends it within a
  window or two and is learned, while a stray of Kore's own no longer cuts a pace just found.
  429s asking for less than one interval are never strays (the window was only just full: the
  pace is a hair too fast). The pause itself is always honoured; what it costs
  cannot be caught up under a sliding window (any 60 s after the pause may hold only the
  limit), beyond the catch-up below.
- **Restoring.** A cut is not a verdict: 429s can be a passing storm (another client's burst on the
  account). After one window's worth of successes without a 429 the limit climbs halfway back to its
  ``ceiling`` (the highest limit not yet proven too high: the configured one until a climb meets a
  429, which lowers the ceiling to where that climb failed). A passing storm is thus recovered from
  in a few windows, and a server that really allows less is closed in on like a binary search.
- **Probing back.** Once within two requests of the ceiling, every ``PROBE_WINDOWS`` windows'
  worth of successes without a 429 win one request per window back, up to the configured limit:
  a server that allowed less for a while is caught up with, and a probe costs at most one 429.
- **Once a limit has held** (``held``: the highest learned limit that got a whole window's
  worth of successes with no 429 since it was set; a failed climb lowers it with the ceiling).
  A stray at or below it costs 1 of the allowance, a cut after an epoch more than an interval
  short of a window goes no further than the share of a window the 429's pause takes, and a
  probe refused within a window steps back only the request it added. Strays' pauses shorten
  epochs and drag the rate observed over them below the pace, so such cuts fell to about 0.7x
  and each climb back met the next stray: a lower limit with 1 % strays on top now meets its
  targets on 24 seeds in 24 (seed 1: 92 %), against 17 (76 %), with probes every four windows.
- **Forgetting.** An account idle for ``FORGET_WINDOWS`` windows starts afresh.

State and times are plain floats in one clock (the local monotonic clock, or Redis ``TIME`` for
a shared store): no two hosts' clocks are ever compared.
"""

from __future__ import annotations

import functools
import math
from typing import Final, Literal

import attrs

from .rate_limit import PacingSettings

#: Successes without a 429, in windows of the learned limit, before probing one request higher.
#: (Against a lower limit with 1 % stray 429s, at 2 the probes' own 429s passed 1 % of the
#: answers on 10 seeds in 24; 3 met the targets on 23 seeds, 4 on all 24.)
PROBE_WINDOWS: Final = 4
#: Successes without a 429, in windows of the learned limit, before climbing halfway back.
RESTORE_WINDOWS: Final = 1
#: Below this gap to the ceiling, climbing gives way to probing one request at a time.
RESTORE_GAP: Final = 2.0
#: Windows of idleness after which an account forgets what it learned.
FORGET_WINDOWS: Final = 10
#: A single 429 never cuts the limit below this share of what it was (as botocore's cut).
MAX_CUT: Final = 0.7
#: Share of the margin's jitter budget (``margin * per`` seconds) a late permit may catch up.
CATCH_UP: Final = 0.25
#: Stray 429s (after a held window) forgiven at most at once; one more is earned per window of
#: successes. 3 let a run of 1 % strays cut the pace now and then (and each cut drew more).
STRAY_ALLOWANCE: Final = 4.0
#: The allowance of a fresh account: one short of full, so a limit lower than configured from
#: the start costs at most three 429s more before it is learned.
FRESH_STRAYS: Final = 3.0
#: What a stray within a window of a change of the limit costs of the allowance: a limit the
#: change overshot refuses again soon and spends it twice as fast (1: fixed windows drew more
#: 429s; never a stray there: a stray after a probe or a climb cut the pace and its ceiling).
CHANGED_STRAY_PRICE: Final = 2.0
# Float slack: a sleep of exactly the computed wait may land a hair before the deadline.
EPSILON: Final = 1e-9
# float() of a configured number: one object for every fresh account paced with it, not one each.
_shared_float: Final = functools.lru_cache(maxsize=256)(float)


@attrs.define(weakref_slot=False)
class PacingState:
    """What a store keeps per account; every field a float, so it fits a Redis hash."""

    #: Theoretical arrival time of the next paced request (GCRA).
    tat: float
    paused_until: float
    #: The learned limit in requests per ``per`` (a float: probing moves it in steps of 1).
    limit: float
    burst: float
    #: When the current epoch began (the end of the last pause) and its successes since.
    epoch_start: float
    epoch_ok: float
    #: Successes since the last change of the limit (or of the burst).
    clean: float
    #: When the last cut happened: 429s for requests sent before it are stale.
    cut_at: float
    #: The last permit, success or 429: for forgetting an idle account.
    touched: float
    #: The highest limit not yet proven too high: what a cut climbs back toward.
    ceiling: float
    #: 1.0 when the limit was raised since the last lesson (a 429 then lowers the ceiling).
    raised: float
    #: Stray 429s that may still only pause (see ``_is_stray``).
    strays: float
    #: The highest limit that got a whole window's worth of successes, with no 429, since it
    #: was set (0.0: none yet; a failed climb lowers it with the ceiling). Defaults to 0.0 so
    #: that a state a custom store saved before it existed reads back.
    held: float = 0.0

    @classmethod
    def fresh(cls, settings: PacingSettings, now: float) -> PacingState:
        """The state of an account nothing is known about."""
        limit = _shared_float(settings.requests)  # for the three fields
        return cls(
            tat=now,
            paused_until=now,
            limit=limit,
            burst=_shared_float(settings.start_burst),
            epoch_start=now,
            epoch_ok=0.0,
            # The configured limit counts as held: a stray in the first window only pauses.
            clean=limit,
            cut_at=now - settings.per,
            touched=now,
            ceiling=limit,
            raised=0.0,
            strays=FRESH_STRAYS,
            held=0.0,
        )


Op = Literal["bind", "permit", "ok", "429"]
"""What a store does to an account: check its settings, take a permit, count a success or a 429."""


def step(
    state: PacingState | None,
    settings: PacingSettings,
    now: float,
    op: Op,
    sent_at: float = 0.0,
    retry_after: float | None = None,
) -> tuple[PacingState, float]:
    """Apply one operation as a store does (the Lua twin does exactly this); return the state.

    The number returned: for "permit" the wait (0.0 = granted at ``now``), for "429" the pause
    left, else 0.0. ``None`` is an account with nothing stored (new, or its keys expired).
    """
    state = PacingState.fresh(settings, now) if state is None else state
    state = forget_if_idle(state, settings, now)
    if op == "permit":
        return state, permit(state, settings, now)
    if op == "ok":
        succeeded(state, settings, now, sent_at)
    elif op == "429":
        return state, rate_limited(state, settings, now, retry_after, sent_at)
    return state, 0.0


def interval(state: PacingState, settings: PacingSettings) -> float:
    """The spacing of paced requests at the learned limit."""
    return settings.per / state.limit * (1 + settings.margin)


def forget_if_idle(state: PacingState, settings: PacingSettings, now: float) -> PacingState:
    """Return a fresh state when the account was idle ``FORGET_WINDOWS`` windows, else ``state``."""
    if now - state.touched > FORGET_WINDOWS * settings.per and now >= state.paused_until:
        return PacingState.fresh(settings, now)
    return state


def permit(
    state: PacingState, settings: PacingSettings, now: float, share: float = CATCH_UP
) -> float:
    """Take a permit at ``now`` (return 0.0) or return the seconds until one may be free.

    ``share``: of the margin's jitter budget a late permit may catch up (see ``catch_up``).
    """
    if now < state.paused_until - EPSILON:
        return state.paused_until - now
    step = interval(state, settings)
    allowed_at = state.tat - (state.burst - 1) * step
    if now < allowed_at - EPSILON:
        return allowed_at - now
    state.tat = max(state.tat, now - catch_up(step, settings, share)) + step
    state.touched = now
    return 0.0


def catch_up(step: float, settings: PacingSettings, share: float = CATCH_UP) -> float:
    """How far the schedule may lag ``now``: a permit taken that late loses no time.

    ``share`` of the margin's jitter budget (``margin * per``), at most one interval: any
    window of ``per`` still sees at most the limit with the rest of the budget in latency
    jitter, and at most two requests ever start one right after the other.
    """
    return min(step, share * settings.margin * settings.per)


def succeeded(state: PacingState, settings: PacingSettings, now: float, sent_at: float) -> None:
    """Count a success of a request permitted at ``sent_at``; climb back after a clean run."""
    state.touched = max(state.touched, now)
    if sent_at >= state.epoch_start:
        state.epoch_ok += 1
    state.clean += 1
    run = min(state.clean, state.epoch_ok)  # since the limit was set and since the last 429
    if run - 1 < state.limit <= run:  # this success completed a window's worth at the limit
        state.held = max(state.held, state.limit)
    state.strays = min(STRAY_ALLOWANCE, state.strays + 1 / settings.requests)
    if state.limit >= settings.requests:
        return
    if state.ceiling - state.limit >= RESTORE_GAP:
        if state.clean >= RESTORE_WINDOWS * state.limit:
            state.limit = (state.limit + state.ceiling) / 2
            state.raised, state.clean = 1.0, 0.0
    elif state.clean >= PROBE_WINDOWS * state.limit:
        state.limit = min(float(settings.requests), state.limit + 1)
        state.ceiling = max(state.ceiling, state.limit)
        state.raised, state.clean = 1.0, 0.0


def first_pause(settings: PacingSettings, retry_after: float | None) -> float:
    """The pause a 429 sets before its store has applied it: the Retry-After up to the cap,
    else one interval at the configured limit (``rate_limited`` may make it longer)."""
    if retry_after is None or not (0 <= retry_after < math.inf):
        return settings.per / settings.requests * (1 + settings.margin)
    return min(retry_after, settings.pause_cap)


def rate_limited(
    state: PacingState,
    settings: PacingSettings,
    now: float,
    retry_after: float | None,
    sent_at: float,
) -> float:
    """Pause after a 429 and learn from it; return the seconds the account stays paused."""
    state.touched = max(state.touched, now)
    if retry_after is None or not (0 <= retry_after < math.inf):
        wait = interval(state, settings)
    else:
        wait = retry_after
    pause_end = now + min(wait, settings.pause_cap)
    state.paused_until = max(state.paused_until, pause_end)
    if settings.adaptive and sent_at >= state.cut_at:
        _learn(state, settings, now, wait)
    # No burst after a pause: resume one interval apart.
    state.tat = max(state.tat, state.paused_until + (state.burst - 1) * interval(state, settings))
    return state.paused_until - now


def _learn(state: PacingState, settings: PacingSettings, now: float, wait: float) -> None:
    if state.burst > 1:
        # The burst alone may have been the trouble (its answers may not even be counted yet).
        state.burst = 1.0
        state.raised, state.clean = 0.0, 0.0
    elif _is_stray(state, settings, wait):
        state.strays -= stray_price(state)
    elif state.epoch_ok > 0 and _failed_probe(state):
        # The one request the probe added was too much: back to the limit below, which held.
        state.ceiling = state.limit
        state.limit = max(1.0, state.limit - 1)
        state.raised, state.clean = 0.0, 0.0
    elif state.epoch_ok > 0:  # (none: nothing got through since the pause, a storm: only pause)
        if state.raised and state.clean < state.limit:
            # The last climb was too much (within a window): never climb that high.
            state.ceiling = state.limit
            state.held = min(state.held, state.ceiling)
        state.limit = max(
            1.0, MAX_CUT * state.limit, min(state.limit - 1, _observed(state, settings, wait))
        )
        state.raised, state.clean = 0.0, 0.0
    state.epoch_start = state.paused_until
    state.epoch_ok = 0.0
    state.cut_at = now


def _failed_probe(state: PacingState) -> bool:
    """Whether a 429 came within a window of a probe: a probe ends less than one request
    short of the ceiling, a climb (halfway to a ceiling at least two away) at least one."""
    return bool(state.raised) and state.ceiling - state.limit < 1 and state.clean < state.limit


def _observed(state: PacingState, settings: PacingSettings, wait: float) -> float:
    """The rate the server admitted over the epoch, the pause of this 429 included.

    Once a learned limit has held a window, an epoch more than an interval short of one says
    little about a window's limit (a sliding window still holds requests from before it; a
    fixed window's epoch runs from one reset to the next): for a 429 asking at least an
    interval, the rate is then taken as no less than the pace less the share of a window the
    pause takes. Before, 429s in quick succession are the limit's own: the rate stands.
    """
    span = max(state.paused_until - state.epoch_start, EPSILON)
    observed = state.epoch_ok * settings.per / span
    step = interval(state, settings)
    if state.held and span + step < settings.per and wait >= step:
        pause = min(wait, settings.pause_cap)
        observed = max(observed, state.limit * (1 - pause / settings.per))
    return observed


def _is_stray(state: PacingState, settings: PacingSettings, wait: float) -> bool:
    """Whether a 429 only pauses: one the pace did not cause, while the allowance lasts.

    Something got through since the last pause, the account has the stray's price left (a
    lower limit refuses at least once a window, faster than strays are earned), and the 429
    asks for at least one interval (``wait``): a window that frees sooner was only just full,
    so the pace is a hair too fast (as a busy event loop's late wake-ups can make it).
    """
    return (
        state.epoch_ok > 0
        and state.strays >= stray_price(state)
        and wait >= interval(state, settings)
    )


def stray_price(state: PacingState) -> float:
    """What a stray costs of the allowance: 1 once the learned limit held a whole window's
    worth of successes since it last changed, or at or below the last limit that did (a climb
    back to it is no step into the unknown), else ``CHANGED_STRAY_PRICE``."""
    if state.clean >= state.limit or state.limit <= state.held:
        return 1.0
    return CHANGED_STRAY_PRICE
