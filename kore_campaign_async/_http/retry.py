"""Run one call's attempts, the first bare, the retries through tenacity, as its policy says.

Most calls succeed at once: tenacity (:mod:`.retrying`) is imported only when a first attempt fails.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from .._clock import Clock, Deadline, Sleep
from .._observe.observer import ObservedCall
from .policy import RetryBudget, RetryPolicy

T = TypeVar("T")


async def run_with_retries(
    fn: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    budget: RetryBudget | None,
    clock: Clock,
    sleep: Sleep,
    deadline: Deadline | None = None,
    operation: str = "",
    observed: ObservedCall | None = None,
    may_retry: Callable[[BaseException], bool] | None = None,
) -> T:
    """Await ``fn()`` until it succeeds or the policy gives up; return its result.

    No retry wait may end past ``deadline`` (by default ``policy.deadline`` from now).
    Beyond the policy, ``may_retry`` can refuse another attempt after a given error. Each
    retry is reported to ``observed``, the call's observation.

    The last error is raised itself. A server-directed wait longer than
    ``policy.max_retry_after`` raises at once. A refused budget spend raises
    :class:`RetryBudgetExhaustedError` from the last error. Cancellation always propagates.

    Budget refunds follow botocore's retry quota: a first-attempt success refunds
    ``success_refund``; a success after retries refunds what its last retry cost, so
    retries that end well cost nothing and only failing streaks drain the budget.

    The first attempt runs bare, as most calls succeed at once and tenacity's machinery costs
    (see the README's benchmarks); a failure builds the ``AsyncRetrying``, which takes it as its
    own attempt 1, so every decision (retry, stop, wait, budget, hooks) is tenacity's.
    """
    if deadline is None:  # fixed before the first attempt: the deadline covers the call
        deadline = Deadline(policy.deadline, clock)
    try:
        first = await fn()
    except Exception as failure:  # a BaseException (cancellation) is never retried
        first_failure = failure
    else:
        if budget is not None:
            budget.refund()
        return first
    from .retrying import RetryRules  # lazy: tenacity costs ~4 ms to import; most calls never retry

    # Retried outside the except block: a later error must not chain the first as its context.
    rules = RetryRules(policy, budget, operation, observed, may_retry)
    return await rules.run(fn, first_failure, sleep=sleep, deadline=deadline)
