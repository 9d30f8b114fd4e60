"""The request chain for one account: retry( limit -> authenticate -> send ) -> decode.

The first attempt runs bare; tenacity (via ``run_with_retries``) runs any later ones, so a
backoff sleep never holds a concurrency slot or a rate permit. Each attempt reports to the
account limiter (429s pause the whole account) and to the caller's hooks.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import attrs

from .._clock import Clock, Sleep
from .._config import AUTH_HEADER, Timeout
from .._exceptions import AuthenticationError, KoreError, RateLimitError
from .._wire.endpoints import AccountRef, RequestSpec, headers
from .auth import TokenSource
from .limits import AccountLimiter
from .responses import decode
from .retry import RetryBudget, RetryEvent, RetryPolicy, run_with_retries
from .transport import PreparedHeaders, Transport

logger = logging.getLogger("kore_campaign_async")
T = TypeVar("T")


@attrs.frozen(kw_only=True)
class AttemptEvent:
    """One HTTP attempt, reported after it ends (answered or failed)."""

    operation: str
    method: str
    url: str
    account_id: str
    attempt: int
    """1-based number of this attempt within its call."""
    status: int | None
    """HTTP status, or None when no answer came."""
    error: BaseException | None
    elapsed: float
    """Seconds from sending to the end of the answer (limiter waits excluded)."""


@attrs.frozen(kw_only=True)
class Hooks:
    """Callbacks to observe every attempt and every retry. They must not block."""

    on_attempt: Callable[[AttemptEvent], None] | None = None
    on_retry: Callable[[RetryEvent], None] | None = None


class StopRetrying(Exception):
    """Raised by an attempt to end its call at once with ``error`` (not retried)."""

    def __init__(self, error: KoreError) -> None:
        super().__init__(str(error))
        self.error = error


@attrs.define
class CallState:
    """Per-call bookkeeping shared by its attempts."""

    attempts: int = 0
    token_renewed: bool = False
    token: str = attrs.field(default="", repr=False)
    max_pause: float = math.inf
    """Longest account pause (after a 429) an attempt waits for: the policy's max_retry_after."""
    deadline_at: float = math.inf
    """Clock time no account-pause wait may end after: the policy's deadline."""


@attrs.frozen
class Answer:
    """A decoded success answer and how it was obtained."""

    payload: Any
    status: int
    attempts: int


class Requester:
    """Send requests for one account through its limiter, auth and retry policy."""

    def __init__(
        self,
        *,
        base_url: str,
        account: AccountRef,
        transport: Transport,
        auth: TokenSource,
        limiter: AccountLimiter,
        policy: RetryPolicy,
        budget: RetryBudget | None,
        timeout: Timeout,
        hooks: Hooks,
        clock: Clock,
        sleep: Sleep,
    ) -> None:
        self.base_url = base_url
        self.account = account
        self.transport = transport
        self.auth = auth
        self.limiter = limiter
        self.policy = policy
        self.budget = budget
        self.timeout = timeout
        self.hooks = hooks
        self.clock = clock
        self.sleep = sleep
        self._prepared: PreparedHeaders | None = None

    async def attempt(
        self, spec: RequestSpec, state: CallState, timeout: Timeout | None = None
    ) -> tuple[Any, int]:
        """Make one attempt (plus one immediate resend after renewing a rejected token).

        Its outcome feeds the account limiter (a 429 pauses the account) and token renewal.
        One coroutine on purpose: every await below it is resumed through each frame above.
        """
        url = self.base_url + spec.path
        limiter = self.limiter
        while True:
            try:
                sent_at = limiter.try_acquire()
                if sent_at is None:
                    sent_at = await limiter.acquire(state.max_pause, state.deadline_at)
                try:
                    # Fetched inside the slot: a long limiter wait must not age the token.
                    # Kept on the state (never shown), not in a local: error reporters record
                    # the locals of every frame an error passes through.
                    state.token = self.auth.ready_token() or await self.auth.token()
                    state.attempts += 1
                    started = self.clock()
                    try:
                        raw = await self.transport.send(
                            spec.method,
                            url,
                            params=spec.params,
                            headers=self._headers(state.token),
                            json_body=spec.json,
                            timeout=timeout or self.timeout,
                        )
                    except BaseException as exc:
                        self._report(spec, url, state.attempts, None, exc, started)
                        raise
                finally:
                    limiter.release(sent_at)
                # Decoding is pure CPU: done after the slot is free.
                try:
                    payload = decode(raw, method=spec.method, url=url)
                except BaseException as exc:
                    self._report(spec, url, state.attempts, raw.status, exc, started)
                    raise
                self._report(spec, url, state.attempts, raw.status, None, started)
            except RateLimitError as exc:
                if exc.request_sent:
                    limiter.on_rate_limited(exc.retry_after)
                else:
                    # The limiter refused to wait out the account's pause: nothing was sent,
                    # and this is no new 429 for the limiter to learn from.
                    exc.method, exc.url = spec.method, url
                raise
            except AuthenticationError:
                # A 401 renews the token once per call and resends at once.
                if self.auth.renewable and not state.token_renewed:
                    state.token_renewed = True
                    self.auth.invalidate(state.token)
                    continue
                raise
            limiter.on_success()
            return payload, raw.status

    def _headers(self, token: str) -> PreparedHeaders:
        # Built once per token, not per request; the old token's go with the old token.
        prepared = self._prepared
        if prepared is None or prepared.source[AUTH_HEADER] != token:
            prepared = self._prepared = self.transport.prepare_headers(headers(self.account, token))
        return prepared

    async def run(
        self,
        operation: str,
        fn: Callable[[CallState], Awaitable[T]],
        *,
        policy: RetryPolicy | None = None,
    ) -> tuple[T, int]:
        """Run ``fn`` (one attempt's work) under the retry policy; return (result, attempts)."""
        policy = policy or self.policy
        # The deadline bounds retry waits and account-pause waits alike, from the same start.
        deadline_at = math.inf if policy.deadline is None else self.clock() + policy.deadline
        state = CallState(max_pause=policy.max_retry_after, deadline_at=deadline_at)
        try:
            result, _ = await run_with_retries(
                # A plain lambda, not a coroutine wrapper: one frame less on every resume.
                lambda _attempt: fn(state),
                policy=policy,
                deadline_at=deadline_at,
                budget=self.budget,
                clock=self.clock,
                sleep=self.sleep,
                operation=operation,
                on_retry=self.hooks.on_retry,
            )
        except StopRetrying as stop:
            stop.error.attempts = state.attempts
            raise stop.error from stop.error.__cause__
        except KoreError as exc:
            exc.attempts = state.attempts
            raise
        return result, state.attempts

    async def call(
        self,
        spec: RequestSpec,
        *,
        policy: RetryPolicy | None = None,
        timeout: Timeout | None = None,
    ) -> Answer:
        """Send ``spec`` with retries; return the decoded answer."""
        (payload, status), attempts = await self.run(
            spec.operation,
            lambda state: self.attempt(spec, state, timeout),
            policy=policy,
        )
        return Answer(payload, status, attempts)

    def _report(
        self,
        spec: RequestSpec,
        url: str,
        attempt: int,
        status: int | None,
        error: BaseException | None,
        started: float,
    ) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            outcome = status if error is None else f"{status or '-'} {type(error).__name__}"
            logger.debug("%s %s attempt %d -> %s", spec.method, url, attempt, outcome)
        on_attempt = self.hooks.on_attempt
        if on_attempt is not None:
            on_attempt(
                AttemptEvent(
                    operation=spec.operation,
                    method=spec.method,
                    url=url,
                    account_id=self.account.account_id,
                    attempt=attempt,
                    status=status,
                    error=error,
                    elapsed=self.clock() - started,
                )
            )
