"""How long one attempt may run: what is left of its call's deadline, at most.

``RetryPolicy`` sets the bounds; the transport enforces the attempt's total timeout. (A token
is awaited within the deadline by ``token_flow.fetch``; the turn, a concurrency slot and a rate
permit, is bounded by ``max_queue_wait`` in the account's limiter.)
"""

from __future__ import annotations

import math

from .._config import Timeout
from .._exceptions import APITimeoutError


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
