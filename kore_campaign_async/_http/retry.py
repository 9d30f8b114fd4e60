"""A call's retries, after its first attempt failed: tenacity's, as the call's policy says.

The request path runs a call's first attempt bare, as most calls succeed at once and tenacity's
machinery costs (see the README's benchmarks); only a failure comes here and builds the
``AsyncRetrying``, which takes it as its own attempt 1, so every decision (retry, stop, wait,
budget, hooks) is tenacity's. tenacity (:mod:`.retrying`) is imported only then.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from .._clock import Deadline, Sleep
from .._observe.observer import ObservedCall
from .policy import RetryBudget, RetryPolicy

T = TypeVar("T")


async def retry_failed(
    fn: Callable[[], Awaitable[T]],
    first_failure: Exception,
    *,
    policy: RetryPolicy,
    budget: RetryBudget | None,
    sleep: Sleep,
    deadline: Deadline,
    operation: str = "",
    observed: ObservedCall | None = None,
    may_retry: Callable[[BaseException], bool] | None = None,
) -> T:
    """Await ``fn()`` again until it succeeds or the policy gives up, ``first_failure`` being
    the error of its first attempt; return its result.

    No retry wait may end past ``deadline``. Beyond the policy, ``may_retry`` can refuse
    another attempt after a given error. Each retry is reported to ``observed``, the call's
    observation.

    The last error is raised itself. A server-directed wait longer than
    ``policy.max_retry_after`` raises at once. A refused budget spend raises
    :class:`RetryBudgetExhaustedError` from the last error. Cancellation always propagates.

    Budget refunds follow botocore's retry quota: a success after retries refunds what its
    last retry cost, so retries that end well cost nothing and only failing streaks drain the
    budget (a first-attempt success refunds ``success_refund``: the caller's part).
    """
    from .retrying import RetryRules  # lazy: tenacity costs ~4 ms to import; most calls never retry

    rules = RetryRules(policy, budget, operation, observed, may_retry)
    return await rules.run(fn, first_failure, sleep=sleep, deadline=deadline)
