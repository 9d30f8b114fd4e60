"""Decide what may be retried, and run one call's attempts through tenacity.

Retried: connection errors and timeouts, 429 and ``RetryPolicy.retry_statuses``, within each
operation's lost-answer rules (``Recovery``). Never: other 4xx, validation, configuration and
token errors, an answer too large to read, and a call the SDK declined to send
(``RateLimitError(request_sent=False)``: a pause or a queue longer than the policy accepts).
A 2xx answer that cannot be read follows :data:`RESEND_AFTER_UNREADABLE`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TypeVar

import attrs
import tenacity
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from .._clock import Clock, Sleep
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
    RetryBudgetExhaustedError,
)
from .._observe import log as observe

T = TypeVar("T")

# 500/502/504 may come after the upstream applied the write; 503 means it never started.
_AMBIGUOUS_STATUSES = frozenset({500, 502, 504})

#: Whether an operation is attempted again after a 2xx answer it could not read
#: (:class:`APIResponseDecodeError`). The request reached the server, so a write was most
#: likely applied. An operation not named here (a bare ``run_with_retries``) is.
RESEND_AFTER_UNREADABLE: Mapping[str, bool] = MappingProxyType(
    {
        "get": True,  # reads: ask again
        "list": True,
        "contacts": True,
        "create": True,  # a lost answer: the next attempt looks the list up, adopts it
        "delete": True,  # a lost answer: a resend that finds no list counts as done
        # Sets fields to given values: a second one changes nothing more (Kore takes a
        # list's own name, as every v1 update sends it). Resent as after any lost answer.
        "update": True,
        "add_contacts": False,  # never resent: the contacts may be queued already
    }
)


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

    def try_spend(self, error: BaseException) -> bool:
        """Take the cost of one retry after ``error``; False (and nothing taken) if too few left."""
        cost = self.cost_of(error)
        if cost > self._available:
            if not self._dry:
                self._dry = True
                observe.budget_ran_dry(self._available, self.capacity)
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


@attrs.frozen
class RetryEvent:
    """One failed attempt that is about to be retried."""

    attempt: int
    """The attempt that failed, 1-based."""
    error: BaseException
    wait: float
    """Seconds before the next attempt."""
    operation: str = ""


def is_retryable(error: BaseException, policy: RetryPolicy, operation: str = "") -> bool:
    """Return whether another attempt of ``operation`` may succeed where this one failed."""
    if isinstance(error, ResponseTooLargeError):
        return False  # the same request would get the same answer
    if isinstance(error, APIResponseDecodeError):
        return RESEND_AFTER_UNREADABLE.get(operation, True)
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


def _server_delay(error: BaseException) -> float | None:
    """Return the wait the server asked for with this error, if any."""
    if not isinstance(error, APIStatusError):
        return None
    delay = getattr(error, "retry_after", None)
    if isinstance(delay, (int, float)) and not isinstance(delay, bool):
        return max(0.0, float(delay))
    return None


def _failure(retry_state: tenacity.RetryCallState) -> BaseException:
    outcome = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    if error is None:  # pragma: no cover - tenacity only waits or stops after a failure
        raise RuntimeError("no failed attempt to inspect")
    return error


class _WaitRetryAfter(wait_base):
    """Wait exactly what the server asked for; back off when it did not say."""

    def __init__(self, backoff: wait_base) -> None:
        self._backoff = backoff

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        delay = _server_delay(_failure(retry_state))
        return self._backoff(retry_state) if delay is None else delay


class _StopAtDeadline(stop_base):
    """Stop rather than start a wait that would end past the deadline (injected clock)."""

    def __init__(self, clock: Clock, deadline_at: Callable[[], float]) -> None:
        self._clock = clock
        self._deadline_at = deadline_at

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        # tenacity (>= 8.3) decides the wait before it asks whether to stop.
        return self._clock() + retry_state.upcoming_sleep > self._deadline_at()


@functools.lru_cache(maxsize=64)  # a policy's waits never change: built once per policy
def _wait(policy: RetryPolicy) -> _WaitRetryAfter:
    return _WaitRetryAfter(_backoff(policy))


def _backoff(policy: RetryPolicy) -> wait_base:
    if not policy.jitter:
        return tenacity.wait_exponential(multiplier=policy.backoff_base, max=policy.backoff_cap)
    # "Equal jitter": half of each step fixed, half random, so a retry never comes back
    # sooner than half its backoff nor later than the cap.
    half_base, half_cap = policy.backoff_base / 2, policy.backoff_cap / 2
    return tenacity.wait_exponential(
        multiplier=half_base, max=half_cap
    ) + tenacity.wait_random_exponential(multiplier=half_base, max=half_cap)


async def run_with_retries(
    fn: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    budget: RetryBudget | None,
    clock: Clock,
    sleep: Sleep,
    deadline_at: float | Callable[[], float] | None = None,
    operation: str = "",
    on_retry: Callable[[RetryEvent], None] | None = None,
    may_retry: Callable[[BaseException], bool] | None = None,
) -> T:
    """Await ``fn()`` until it succeeds or the policy gives up; return its result.

    ``deadline_at`` is the clock time no retry wait may end after, when the caller fixed it
    already (math.inf: none), or a function that reads it (the requester moves it while a
    call queues); by default it is ``policy.deadline`` from now. Beyond the policy,
    ``may_retry`` can refuse another attempt after a given error.

    The last error is raised itself. A server-directed wait longer than
    ``policy.max_retry_after`` raises at once. A refused budget spend raises
    :class:`RetryBudgetExhaustedError` from the last error. Cancellation always propagates.

    Budget refunds follow botocore's retry quota: a first-attempt success refunds
    ``success_refund``; a success after retries refunds what its last retry cost, so
    retries that end well cost nothing and only failing streaks drain the budget.

    The first attempt runs bare: tenacity inspects each of its callbacks on every attempt,
    which costs a third of a request's client CPU (see README, benchmarks), and most calls
    succeed at once. Only a failure builds the ``AsyncRetrying``, which takes that failure
    as its own attempt 1, so every decision (retry, stop, wait, budget, hooks) is tenacity's.
    """
    if deadline_at is None:  # fixed before the first attempt: the deadline covers the call
        deadline_at = math.inf if policy.deadline is None else clock() + policy.deadline
    read_deadline = deadline_at if callable(deadline_at) else functools.partial(float, deadline_at)
    first_failure: BaseException | None = None
    try:
        first = await fn()
    except Exception as exc:  # a BaseException (cancellation) is never retried
        first_failure = exc
    else:
        if budget is not None:
            budget.refund()
        return first
    last_spent: int | None = None

    def retry_if(error: BaseException) -> bool:
        if not is_retryable(error, policy, operation) or (
            may_retry is not None and not may_retry(error)
        ):
            return False
        delay = _server_delay(error)
        return delay is None or delay <= policy.max_retry_after

    def before_sleep(retry_state: tenacity.RetryCallState) -> None:
        nonlocal last_spent
        error = _failure(retry_state)
        if budget is not None:
            if not budget.try_spend(error):
                exhausted = RetryBudgetExhaustedError(
                    f"retry budget exhausted after attempt {retry_state.attempt_number}"
                    f" of {operation or 'call'}: failing fast ({error})",
                    last_error=error,
                )
                # The failed attempt's count, which a request path has set on its error.
                exhausted.attempts = getattr(error, "attempts", 0) or retry_state.attempt_number
                raise exhausted from error
            last_spent = budget.cost_of(error)
        event = RetryEvent(
            attempt=retry_state.attempt_number,
            error=error,
            wait=retry_state.upcoming_sleep,
            operation=operation,
        )
        observe.retrying(operation, event.attempt, event.wait, error)
        if on_retry is not None:
            on_retry(event)

    stop: stop_base = tenacity.stop_after_attempt(policy.max_attempts if policy.enabled else 1)
    if read_deadline() < math.inf:
        stop = stop | _StopAtDeadline(clock, read_deadline)
    # A fresh AsyncRetrying per call: tenacity keeps per-call state on it.
    retrying = tenacity.AsyncRetrying(
        sleep=sleep,
        stop=stop,
        wait=_wait(policy),
        retry=tenacity.retry_if_exception(retry_if),
        before_sleep=before_sleep,
        reraise=True,
    )

    async def attempt() -> T:
        nonlocal first_failure
        if first_failure is not None:  # attempt 1 already ran: tenacity judges its failure
            failure, first_failure = first_failure, None
            raise failure
        return await fn()

    result: T = await retrying(attempt)
    if budget is not None:
        budget.refund(last_spent)
    return result
