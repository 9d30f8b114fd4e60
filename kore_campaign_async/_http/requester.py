"""The one request path: retry( attempt: pace -> token -> send -> decode ) -> the model.

Every operation is an :class:`Operation`: its request (built pure, by ``_wire.endpoints``), how
a success answer becomes its result, and how it survives a lost answer (:class:`Recovery`).
``Requester.call`` runs tenacity around one attempt, so a backoff sleep never holds a
concurrency slot or a rate permit, and every operation counts attempts, retries and fails
the same way. Each attempt reports to the account limiter (429s pause the whole account)
and to the caller's hooks.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import attrs

from .._clock import Clock, Sleep
from .._config import AUTH_HEADER, Timeout
from .._exceptions import AuthenticationError, KoreError, RateLimitError
from .._wire.endpoints import AccountRef, RequestSpec, headers
from .._wire.models import ResponseMeta
from . import observe
from .auth import TokenSource
from .events import AttemptEvent
from .limits import AccountLimiter
from .responses import decode
from .retry import RetryBudget, RetryEvent, RetryPolicy, is_ambiguous, run_with_retries
from .transport import HttpRequest, RawResponse, Transport

T = TypeVar("T")
U = TypeVar("U")


@attrs.frozen(kw_only=True)
class Hooks:
    """Callbacks to observe every attempt and every retry. They must not block."""

    on_attempt: Callable[[AttemptEvent], None] | None = None
    on_retry: Callable[[RetryEvent], None] | None = None


@attrs.frozen
class Reply:
    """A success answer, as an operation's decoder sees it."""

    payload: Any
    """The answer's JSON, Kore's envelope already checked."""
    method: str
    url: str
    meta: ResponseMeta


class Recovery(Generic[T]):
    """How an operation survives an answer lost after the server may have applied it.

    The default does nothing special: the policy alone decides about resending.
    """

    def may_resend(self, error: BaseException) -> bool:
        """Return whether the operation may be sent again after ``error``."""
        return True

    async def before_resend(self, call: Call) -> T | None:
        """Before resending after a lost answer: a result ends the call without resending."""
        return None

    async def instead_of(self, error: KoreError, call: Call) -> T | None:
        """After a failed attempt: a result that stands for ``error``, or None to raise it."""
        return None


@attrs.frozen
class Operation(Generic[T]):
    """One API operation: the request, how its answer becomes ``T``, lost-answer handling."""

    request: RequestSpec
    decode: Callable[[Reply], T]
    recovery: Recovery[T] = attrs.field(factory=Recovery)


@attrs.define(eq=False)
class Call:
    """One call to ``Requester.call``: the state its attempts share."""

    requester: Requester
    timeout: Timeout
    max_pause: float
    """Longest account pause (after a 429) an attempt waits for: the policy's max_retry_after."""
    deadline_at: float
    """Clock time no wait may end after: the policy's deadline."""
    attempts: int = 0
    """HTTP attempts sent so far (token renewals and lookups included)."""
    answer_lost: bool = False
    """An earlier attempt failed in a way the server may have applied it anyway."""
    token_renewed: bool = False

    async def send(self, operation: Operation[U]) -> U:
        """Make one attempt of ``operation`` within this call (a lookup, say); never retried."""
        return await self.requester.send(operation, self)

    def meta(self, api_version: Any, *, adopted: bool = False) -> ResponseMeta:
        """Return the meta of a result this call made without an answer of its own."""
        return ResponseMeta(attempts=self.attempts, api_version=api_version, adopted=adopted)


class Requester:
    """Send operations for one account through its limiter, auth and retry policy."""

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

    async def call(
        self,
        operation: Operation[T],
        *,
        policy: RetryPolicy | None = None,
        timeout: Timeout | None = None,
    ) -> T:
        """Run ``operation`` under the retry policy; return its decoded result."""
        policy = policy or self.policy
        # The deadline bounds retry waits and account-pause waits alike, from the same start.
        deadline_at = math.inf if policy.deadline is None else self.clock() + policy.deadline
        call = Call(self, timeout or self.timeout, policy.max_retry_after, deadline_at)
        spec, account_id = operation.request, self.account.account_id
        with observe.call(spec.operation, account_id, spec.method, self.base_url + spec.path):
            return await run_with_retries(
                functools.partial(self._attempt, operation, call),
                policy=policy,
                budget=self.budget,
                clock=self.clock,
                sleep=self.sleep,
                deadline_at=deadline_at,
                operation=spec.operation,
                on_retry=self.hooks.on_retry,
                may_retry=operation.recovery.may_resend,
            )

    async def _attempt(self, operation: Operation[T], call: Call) -> T:
        """One try of the operation, with its recovery around the send."""
        recovery = operation.recovery
        if call.answer_lost:
            found = await recovery.before_resend(call)
            if found is not None:
                observe.recovered(self.account.account_id, operation.request.operation, None)
                return found
        try:
            return await self.send(operation, call)
        except KoreError as error:
            call.answer_lost = call.answer_lost or is_ambiguous(error)
            found = await recovery.instead_of(error, call)
            if found is None:
                raise
            observe.recovered(self.account.account_id, operation.request.operation, error)
            return found

    async def send(self, operation: Operation[T], call: Call) -> T:
        """Pace, authenticate, send, decode: one attempt (plus one resend after a 401).

        A 401 renews the token once per call and resends at once. Every error leaves here
        complete: method, url and the call's attempts so far.
        """
        spec = operation.request
        url = self.base_url + spec.path
        while True:
            started: float | None = None
            sent_at: float | None = None
            raw: RawResponse | None = None
            queued = self.clock()
            try:
                async with self.limiter.slot(
                    max_pause=call.max_pause, deadline_at=call.deadline_at
                ) as sent_at:
                    waited = self.clock() - queued
                    # The token is fetched inside the slot (a long wait must not age it) and
                    # never held in a local: error reporters record every frame's locals.
                    request = HttpRequest(
                        spec.method,
                        url,
                        spec.params,
                        headers(self.account, await self.auth.token()),
                        spec.json,
                        call.timeout,
                    )
                    call.attempts += 1
                    started = self.clock()
                    raw = await self.transport.send(request)
                # Decoding is pure CPU: done after the slot is free.
                meta = ResponseMeta(
                    attempts=call.attempts, status=raw.status, api_version=spec.api_version
                )
                result = operation.decode(
                    Reply(decode(raw, method=spec.method, url=url), spec.method, url, meta)
                )
            except BaseException as exc:
                if started is not None:
                    status = None if raw is None else raw.status
                    self._report(spec, url, call.attempts, status, exc, started, waited)
                if not isinstance(exc, KoreError):
                    raise
                if isinstance(exc, RateLimitError):
                    if exc.request_sent:
                        self.limiter.on_rate_limited(exc.retry_after, sent_at=sent_at)
                    else:  # the limiter refused to wait out the account's pause: not sent
                        exc.method, exc.url = spec.method, url
                elif (
                    isinstance(exc, AuthenticationError)
                    and self.auth.renewable
                    and not call.token_renewed
                ):
                    call.token_renewed = True
                    self.auth.invalidate(request.headers[AUTH_HEADER])
                    observe.token_renewed(self.account.account_id, spec.operation)
                    continue
                exc.attempts = call.attempts
                raise
            self._report(spec, url, call.attempts, raw.status, None, started, waited)
            self.limiter.on_success(sent_at=sent_at)
            return result

    def _report(
        self,
        spec: RequestSpec,
        url: str,
        attempt: int,
        status: int | None,
        error: BaseException | None,
        started: float,
        waited: float,
    ) -> None:
        event = AttemptEvent(
            operation=spec.operation,
            method=spec.method,
            url=url,
            account_id=self.account.account_id,
            attempt=attempt,
            status=status,
            error=error,
            elapsed=self.clock() - started,
            waited=waited,
        )
        observe.attempt(event)
        on_attempt = self.hooks.on_attempt
        if on_attempt is not None:
            on_attempt(event)
