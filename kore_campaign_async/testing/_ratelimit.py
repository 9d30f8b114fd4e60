"""Per-account request windows (fixed, sliding or a token bucket) and the Retry-After they send."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from email.utils import formatdate
from typing import Literal

import attrs

from .._config import DEFAULT_RATE_LIMIT_PERIOD, DEFAULT_RATE_LIMIT_REQUESTS

RateMode = Literal["fixed", "sliding", "token_bucket"]
RetryAfterFormat = Literal["seconds", "ms", "http-date"]


@attrs.frozen
class ServerRateLimit:
    """How many requests one account may make per window, and how refusals are answered."""

    #: Requests allowed per account in one window.
    limit: int = attrs.field(default=DEFAULT_RATE_LIMIT_REQUESTS, validator=attrs.validators.ge(1))
    #: Window length in seconds of the server clock.
    window: float = attrs.field(default=DEFAULT_RATE_LIMIT_PERIOD, validator=attrs.validators.gt(0))
    #: "fixed": windows aligned to multiples of ``window``; "sliding": the last ``window`` seconds;
    #: "token_bucket": ``limit`` tokens per ``window`` refill a bucket of ``burst`` tokens.
    mode: RateMode = attrs.field(
        default="sliding", validator=attrs.validators.in_(("fixed", "sliding", "token_bucket"))
    )
    #: The bucket's size in "token_bucket" mode (default ``limit``); unused otherwise.
    burst: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.ge(1))
    )
    #: How the wait is told: ``Retry-After`` in seconds, ``retry-after-ms``, ``Retry-After`` as an
    #: HTTP-date, or not at all (None).
    retry_after: RetryAfterFormat | None = attrs.field(
        default="seconds",
        validator=attrs.validators.in_(("seconds", "ms", "http-date", None)),
    )
    #: Status of a refused request (Kore documents the message, not the status).
    status: int = attrs.field(
        default=429, validator=[attrs.validators.ge(100), attrs.validators.le(599)]
    )


class RateWindows:
    """Count admitted requests per account under one :class:`ServerRateLimit`."""

    def __init__(self, policy: ServerRateLimit) -> None:
        self.policy = policy
        # fixed: account -> [window index, requests admitted in it]
        self._fixed: dict[str, list[int]] = {}
        # sliding: account -> times of the requests admitted in the last window, oldest first
        self._sliding: dict[str, deque[float]] = {}
        # token_bucket: account -> [tokens, when they were counted]
        self._buckets: dict[str, list[float]] = {}

    def admit(self, account_id: str, now: float) -> float | None:
        """Admit one request at ``now`` (None), or return the seconds until one would be admitted.

        Refused requests are not counted.
        """
        if self.policy.mode == "fixed":
            return self._admit_fixed(account_id, now)
        if self.policy.mode == "token_bucket":
            return self._admit_bucket(account_id, now)
        return self._admit_sliding(account_id, now)

    def _admit_fixed(self, account_id: str, now: float) -> float | None:
        window = self.policy.window
        index = math.floor(now / window)
        state = self._fixed.get(account_id)
        if state is None or state[0] != index:
            self._fixed[account_id] = [index, 1]
            return None
        if state[1] < self.policy.limit:
            state[1] += 1
            return None
        return _at_least_a_tick((index + 1) * window - now)

    def _admit_sliding(self, account_id: str, now: float) -> float | None:
        log = self._sliding.get(account_id)
        if log is None:
            log = self._sliding[account_id] = deque()
        horizon = now - self.policy.window
        while log and log[0] <= horizon:
            log.popleft()
        if len(log) < self.policy.limit:
            log.append(now)
            return None
        return _at_least_a_tick(log[0] - horizon)

    def _admit_bucket(self, account_id: str, now: float) -> float | None:
        size = float(self.policy.burst if self.policy.burst is not None else self.policy.limit)
        rate = self.policy.limit / self.policy.window
        bucket = self._buckets.setdefault(account_id, [size, now])
        tokens = min(size, bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if tokens >= 1:
            bucket[0] = tokens - 1
            return None
        bucket[0] = tokens
        return _at_least_a_tick((1 - tokens) / rate)


def _at_least_a_tick(wait: float) -> float:
    # Float rounding must never turn a needed wait into "retry now".
    return max(wait, 0.001)


def retry_after_headers(
    policy: ServerRateLimit, wait: float, wall_clock: Callable[[], float] = time.time
) -> dict[str, str]:
    """Return the headers that tell a refused client to wait ``wait`` seconds."""
    if policy.retry_after == "seconds":
        # Whole milliseconds, rounded up, without trailing zeros: "0.25", "1", "59.999".
        millis = math.ceil(wait * 1000)
        seconds, fraction = divmod(millis, 1000)
        text = str(seconds) if not fraction else f"{seconds}.{fraction:03d}".rstrip("0")
        return {"Retry-After": text}
    if policy.retry_after == "ms":
        return {"retry-after-ms": str(math.ceil(wait * 1000))}
    if policy.retry_after == "http-date":
        # Round the moment up so a client waiting until the date waits long enough.
        return {"Retry-After": formatdate(math.ceil(wall_clock() + wait), usegmt=True)}
    return {}
