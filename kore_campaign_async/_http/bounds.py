"""How long one attempt may wait and run: for a token, and in flight.

``RetryPolicy`` sets the bounds and the requester applies them here, on its injected clock and
sleep. A token is awaited within what is left of the call's deadline; the attempt in flight
gets what is left of the deadline as its total timeout, which the transport enforces. (The
turn, a concurrency slot and a rate permit, is bounded by ``max_queue_wait`` in the account's
limiter: ``AccountLimiter.slot(max_wait=)``.)
"""

from __future__ import annotations

import math

from .._clock import Expired, Sleep, within
from .._config import Timeout
from .._exceptions import APITimeoutError, TokenError
from .auth import TokenSource


async def await_token(auth: TokenSource, *, left: float, sleep: Sleep, deadline: float) -> None:
    """Wait until ``auth`` has a token ready, for at most ``left`` seconds."""
    try:
        await within(left, sleep, auth.token())
    except Expired:
        raise TokenError(
            f"no token within the call's deadline ({deadline:g}s); nothing sent"
        ) from None


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
