"""What may be retried, and how one call retries: the policy, the shared budget, the rules.

Retried: connection errors and timeouts, 429 and ``RetryPolicy.retry_statuses``, within each
operation's lost-answer rules (``Recovery``). Never: other 4xx, validation, configuration and
token errors, an answer too large to read, and a call the SDK declined to send
(``RateLimitError(request_sent=False)``: a pause or a queue longer than the policy accepts).
A 2xx answer that cannot be read follows its operation's ``resend_after_unreadable``
(``_wire.endpoints.OPERATIONS``). Pure: :mod:`.retry` runs the attempts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import attrs

from .._config import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_CAP,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_RETRY_DEADLINE,
    RETRYABLE_STATUSES,
)
from .._exceptions import (
    APIConnectionError,
    APIResponseDecodeError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    InternalServerError,
    RateLimitError,
    ResponseTooLargeError,
)
from .._observe import log as observe
from .._wire.endpoints import OPERATIONS

# 500/502/504 may come after the upstream applied the write; 503 means it never started.
_AMBIGUOUS_STATUSES = frozenset({500, 502, 504})


def _config_error(owner: str, field: str, limit: str, value: object) -> ConfigurationError:
    return ConfigurationError(f"{owner}.{field} must be {limit}, got {value!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _to_statuses(value: Iterable[int]) -> frozenset[int]:
    return frozenset(value)


@attrs.frozen
class RetryPolicy:
    """How one call retries. Override per call with ``attrs.evolve(policy, ...)``."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    """Attempts per call, the first included; 1 never retries."""
    backoff_base: float = DEFAULT_BACKOFF_BASE
    """First backoff in seconds; it doubles per retry."""
    backoff_cap: float = DEFAULT_BACKOFF_CAP
    """Longest backoff in seconds."""
    jitter: bool = True
    """Randomise each backoff between half and all of it, so clients do not retry in step."""
    deadline: float | None = DEFAULT_RETRY_DEADLINE
    """Seconds for the whole call: the attempt in flight is cut when it passes (an
    :class:`APITimeoutError` with ``request_sent`` True: a write may have been applied), a
    token fetch too (:class:`TokenError`), and no backoff, Retry-After or account-pause wait
    may end past it. Its clock stops while the call waits for its account's turn (bound that
    with ``max_queue_wait``). None: no limit."""
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER
    """Longest server-directed wait honoured: a Retry-After on any retried answer fails the
    call at once with that answer's error when longer, and an account paused by a 429 for
    longer fails the call with :class:`RateLimitError` before sending. Both carry
    ``retry_after``. (A 429 pauses its whole account; other answers' delays are per call.)"""
    max_queue_wait: float | None = None
    """Longest wait for the account's turn (a concurrency slot and a rate permit) before each
    attempt; past it the call fails with :class:`RateLimitError` (``request_sent`` False,
    ``retry_after`` an estimate of when a turn would come). For web backends that would
    rather answer "try later" than queue. None: wait as long as pacing needs."""
    enabled: bool = True
    """False: exactly one attempt."""
    retry_statuses: frozenset[int] = attrs.field(default=RETRYABLE_STATUSES, converter=_to_statuses)
    """HTTP statuses worth another attempt (a RateLimitError is always one)."""

    def __attrs_post_init__(self) -> None:
        if not _is_int(self.max_attempts) or self.max_attempts < 1:
            raise _config_error("RetryPolicy", "max_attempts", "an int >= 1", self.max_attempts)
        if not (0 <= self.backoff_base < math.inf):
            raise _config_error("RetryPolicy", "backoff_base", "finite and >= 0", self.backoff_base)
        if not (self.backoff_base <= self.backoff_cap < math.inf):
            raise _config_error(
                "RetryPolicy", "backoff_cap", "finite and >= backoff_base", self.backoff_cap
            )
        if self.deadline is not None and not (0 < self.deadline < math.inf):
            raise _config_error("RetryPolicy", "deadline", "None or finite and > 0", self.deadline)
        if self.max_queue_wait is not None and not (0 <= self.max_queue_wait < math.inf):
            raise _config_error(
                "RetryPolicy", "max_queue_wait", "None or finite and >= 0", self.max_queue_wait
            )
        if not (0 <= self.max_retry_after < math.inf):
            raise _config_error(
                "RetryPolicy", "max_retry_after", "finite and >= 0", self.max_retry_after
            )
        bad = sorted(s for s in self.retry_statuses if not _is_int(s) or not 100 <= s <= 599)
        if bad:
            raise _config_error("RetryPolicy", "retry_statuses", "HTTP statuses 100-599", bad)

    @classmethod
    def none(cls) -> RetryPolicy:
        """Return a policy that never retries."""
        return cls(max_attempts=1, enabled=False)


@attrs.define(eq=False)
class RetryBudget:
    """A token bucket shared by a client's calls, so a failing server is not retried in a storm.

    Each retry spends ``retry_cost`` (``timeout_cost`` after a timeout); a refused spend
    fails the call fast. Successes put tokens back. Synchronous: safe within one event loop.
    """

    capacity: int = 500
    retry_cost: int = 5
    timeout_cost: int = 10
    success_refund: int = 1
    _available: int = attrs.field(init=False, default=0)
    _dry: bool = attrs.field(init=False, default=False)
    """A spend was refused since the bucket was last full (logged once per episode)."""

    def __attrs_post_init__(self) -> None:
        if not _is_int(self.capacity) or self.capacity < 1:
            raise _config_error("RetryBudget", "capacity", "an int >= 1", self.capacity)
        for name in ("retry_cost", "timeout_cost", "success_refund"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise _config_error("RetryBudget", name, "an int >= 0", value)
        self._available = self.capacity

    @property
    def available(self) -> int:
        """Tokens left."""
        return self._available

    def cost_of(self, error: BaseException) -> int:
        """Return what retrying after ``error`` costs."""
        return self.timeout_cost if isinstance(error, APITimeoutError) else self.retry_cost

    @property
    def dry(self) -> bool:
        """A spend was refused since the bucket was last full."""
        return self._dry

    def try_spend(self, error: BaseException) -> bool:
        """Take the cost of one retry after ``error``; False (and nothing taken) if too few left."""
        cost = self.cost_of(error)
        if cost > self._available:
            self._dry = True
            return False
        self._available -= cost
        return True

    def refund(self, amount: int | None = None) -> None:
        """Put back ``amount`` tokens (default ``success_refund``), up to ``capacity``."""
        if self._available >= self.capacity:
            return  # the usual case: a full bucket after a first-attempt success
        given = self.success_refund if amount is None else amount
        self._available = min(self.capacity, self._available + max(0, given))
        if self._dry and self._available >= self.capacity:
            self._dry = False
            observe.budget_refilled(self.capacity)


def is_retryable(error: BaseException, policy: RetryPolicy, operation: str = "") -> bool:
    """Return whether another attempt of ``operation`` may succeed where this one failed."""
    if isinstance(error, ResponseTooLargeError):
        return False  # the same request would get the same answer
    if isinstance(error, APIResponseDecodeError):
        spec = OPERATIONS.get(operation)  # type: ignore[call-overload]
        return spec is None or spec.resend_after_unreadable
    if isinstance(error, RateLimitError):
        return error.request_sent  # not sent: the SDK declined to wait, as the policy asked
    if isinstance(error, APIConnectionError):
        return True
    if isinstance(error, APIStatusError):
        return error.status in policy.retry_statuses
    # Validation, configuration, token and budget errors, cancellation, bugs: never.
    return False


def is_ambiguous(error: BaseException) -> bool:
    """Return whether the server may have applied the request despite the error."""
    if isinstance(error, (APIConnectionError, APIResponseDecodeError)):
        return error.request_sent
    if isinstance(error, RateLimitError):
        return False
    if isinstance(error, InternalServerError):
        return error.status in _AMBIGUOUS_STATUSES
    return False


def server_delay(error: BaseException) -> float | None:
    """Return the wait the server asked for with this error, if any."""
    if not isinstance(error, APIStatusError):
        return None
    delay = getattr(error, "retry_after", None)
    if isinstance(delay, (int, float)) and not isinstance(delay, bool):
        return max(0.0, float(delay))
    return None
