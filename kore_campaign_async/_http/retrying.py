"""A call's retries after its first attempt failed: tenacity's, as its :class:`RetryPolicy` says.

tenacity composes the stop and wait rules; a fresh ``AsyncRetrying`` per call, as it keeps the
call's state. Imported only once a first attempt fails (:mod:`.retry`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Awaitable, Callable
from typing import TypeVar

import tenacity
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from .._clock import Deadline, Sleep
from .._exceptions import RetryBudgetExhaustedError
from .._observe import log as observe
from .._observe.events import RetryEvent
from .._observe.observer import ObservedCall
from .policy import RetryBudget, RetryPolicy, is_retryable, server_delay

T = TypeVar("T")


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
        delay = server_delay(_failure(retry_state))
        return self._backoff(retry_state) if delay is None else delay


class _StopAtDeadline(stop_base):
    """Stop rather than start a wait that would end past the deadline."""

    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        # tenacity (>= 8.3) decides the wait before it asks whether to stop.
        return retry_state.upcoming_sleep > self._deadline.left()


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


class RetryRules:
    """One call's retries after its first attempt failed: tenacity's, under the policy."""

    def __init__(
        self,
        policy: RetryPolicy,
        budget: RetryBudget | None,
        operation: str,
        observed: ObservedCall | None,
        may_retry: Callable[[BaseException], bool] | None,
    ) -> None:
        self._policy = policy
        self._budget = budget
        self._operation = operation
        self._observed = observed
        self._may_retry = may_retry
        self._last_spent: int | None = None

    async def run(
        self,
        fn: Callable[[], Awaitable[T]],
        first_failure: Exception,
        *,
        sleep: Sleep,
        deadline: Deadline,
    ) -> T:
        """Retry ``fn`` as tenacity decides, ``first_failure`` being its attempt 1."""
        policy = self._policy
        stop: stop_base = tenacity.stop_after_attempt(policy.max_attempts if policy.enabled else 1)
        if deadline.seconds < math.inf:
            stop = stop | _StopAtDeadline(deadline)
        # A fresh AsyncRetrying per call: tenacity keeps per-call state on it.
        retrying = tenacity.AsyncRetrying(
            sleep=sleep,
            stop=stop,
            wait=_wait(policy),
            retry=tenacity.retry_if_exception(self._retry_if),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        failures = [first_failure]

        async def attempt() -> T:
            if failures:  # attempt 1 already ran: tenacity judges its failure
                raise failures.pop()
            return await fn()

        try:
            result: T = await retrying(attempt)
        finally:  # its pending actions are its own bound methods: a cycle the collector must break
            retrying.iter_state.reset()
        if self._budget is not None:
            self._budget.refund(self._last_spent)
        return result

    def _retry_if(self, error: BaseException) -> bool:
        if not is_retryable(error, self._policy, self._operation) or (
            self._may_retry is not None and not self._may_retry(error)
        ):
            return False
        delay = server_delay(error)
        return delay is None or delay <= self._policy.max_retry_after

    def _before_sleep(self, retry_state: tenacity.RetryCallState) -> None:
        error = _failure(retry_state)
        budget = self._budget
        if budget is not None:
            was_dry = budget.dry
            if not budget.try_spend(error):
                if not was_dry:  # said once, until the bucket is full again
                    observe.budget_ran_dry(budget.available, budget.capacity, self._observed)
                raise RetryBudgetExhaustedError(
                    f"retry budget exhausted after attempt {retry_state.attempt_number}"
                    f" of {self._operation or 'call'}: failing fast ({error})",
                    last_error=error,
                ) from error
            self._last_spent = budget.cost_of(error)
        # Handled: its traceback's frames hold this retry's state, a cycle the collector must
        # break. Errors that end the call keep theirs.
        error.__traceback__ = None
        if self._observed is not None:
            event = RetryEvent(
                attempt=retry_state.attempt_number,
                error=error,
                wait=retry_state.upcoming_sleep,
                operation=self._operation,
            )
            self._observed.retrying(event)
