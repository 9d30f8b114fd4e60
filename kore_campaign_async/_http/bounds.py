"""How long one attempt may wait and run: for a token, for its account's turn, in flight.

``RetryPolicy`` sets the bounds and the requester applies them here, on its injected clock and
sleep. A token is awaited within what is left of the call's deadline; the turn (a concurrency
slot and a rate permit) within ``max_queue_wait``; the attempt in flight gets what is left of
the deadline as its total timeout, which the transport enforces.
"""

from __future__ import annotations

import contextlib
import math

from .._clock import Clock, Expired, Sleep, within
from .._config import Timeout
from .._exceptions import APITimeoutError, RateLimitError, TokenError
from .auth import TokenSource
from .limits import AccountLimiter
from .retry import RetryPolicy


async def await_token(auth: TokenSource, *, left: float, sleep: Sleep, deadline: float) -> None:
    """Wait until ``auth`` has a token ready, for at most ``left`` seconds."""
    try:
        await within(left, sleep, auth.token())
    except Expired:
        raise TokenError(
            f"no token within the call's deadline ({deadline:g}s); nothing sent"
        ) from None


async def take_turn(
    turn: contextlib.AsyncExitStack,
    limiter: AccountLimiter,
    policy: RetryPolicy,
    *,
    deadline_at: float,
    clock: Clock,
    sleep: Sleep,
    method: str,
    url: str,
) -> float:
    """Wait for the account's turn and hold it in ``turn``, within ``policy.max_queue_wait``.

    Return the clock time the turn's rate permit began (what the limiter learns from).

    The limiter refuses (``RateLimitError``, not sent) an account pause longer than
    ``policy.max_retry_after`` or ending past ``deadline_at``.
    """
    slot = limiter.slot(max_pause=policy.max_retry_after, deadline_at=deadline_at)
    bound = math.inf if policy.max_queue_wait is None else policy.max_queue_wait
    try:
        return await within(bound, sleep, turn.enter_async_context(slot))
    except Expired:
        raise queue_refusal(limiter, bound, clock(), method=method, url=url) from None


def queue_refusal(
    limiter: AccountLimiter, waited: float, now: float, *, method: str, url: str
) -> RateLimitError:
    """Return the error of a call that gave up on its turn, with when a turn would come.

    The estimate: the account's pause, or every call queued now served first at the current
    pace, whichever ends later; None without a rate limit or a pause.
    """
    paused_until = limiter.paused_until
    estimate = 0.0 if paused_until is None else paused_until - now
    rate = limiter.rate_limit
    if rate is not None:
        per_request = rate.per / (limiter.effective_limit or rate.requests)
        estimate = max(estimate, (limiter.waiting + 1) * per_request)
    return RateLimitError(
        f"{method} {url}: no turn within max_queue_wait ({waited:g}s), "
        f"{limiter.waiting} other calls queued: not sent",
        retry_after=estimate or None,
        request_sent=False,
        status=429,
        method=method,
        url=url,
    )


def attempt_timeout(timeout: Timeout, left: float, *, method: str, url: str) -> Timeout:
    """Return ``timeout`` with its total cut to ``left``, what is left of the deadline."""
    if left == math.inf or (timeout.total is not None and timeout.total <= left):
        return timeout
    if left <= 0:
        raise APITimeoutError(
            f"{method} {url}: the call's deadline passed before sending",
            method=method,
            url=url,
            request_sent=False,
        )
    connect = left if timeout.connect is None else min(timeout.connect, left)
    return Timeout(total=left, connect=connect)
