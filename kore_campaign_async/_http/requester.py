"""The one request path: retry( attempt: token -> turn -> send -> decode ) -> the model.

A resource method builds its request (pure, by ``_wire.endpoints``) and hands it to
``Requester.call`` with how a success answer becomes its result (a :class:`Decoder`) and, if
it needs one, how it survives a lost answer (a :class:`Recovery`): together an
:class:`Operation`. ``Requester.call`` runs tenacity around one attempt, so a backoff sleep
never holds a concurrency slot or a rate permit, and every operation counts attempts, retries
and fails the same way. Each attempt reports to the account limiter (429s pause the whole account)
and to the caller's hooks.

Time is bounded (``_http.bounds``): the token is awaited before the account's turn, so a slow
token source holds no slot; the deadline's clock stops while the call queues for its turn.

No error leaves with frames below this module or a context its raiser suppressed: those
frames hold answers (which may echo the token) and requests, and error reporters record the
locals of every frame of a raised error and of what it chains.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from typing import Any, Final, Generic, Literal, Protocol, TypeVar

import attrs

from .._clock import Clock, Sleep
from .._config import AUTH_HEADER, Timeout
from .._exceptions import APITimeoutError, AuthenticationError, KoreError, RateLimitError
from .._observe import log as observe
from .._observe.events import AttemptEvent
from .._quota.limiter import AccountLimiter
from .._wire.endpoints import AccountRef, RequestSpec, headers
from .._wire.models import ResponseMeta
from .auth import TokenSource
from .bounds import attempt_timeout, await_token
from .responses import decode
from .retry import RetryBudget, RetryEvent, RetryPolicy, is_ambiguous, run_with_retries
from .transport import HttpRequest, RawResponse, Transport

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
U = TypeVar("U")


@attrs.frozen(kw_only=True)
class Hooks:
    """Callbacks to observe every attempt and every retry. They must not block."""

    on_attempt: Callable[[AttemptEvent], None] | None = None
    on_retry: Callable[[RetryEvent], None] | None = None


class Decoder(Protocol[T_co]):
    """How a success answer becomes an operation's result (``decode_result`` is one, with
    its ``cls`` given): ``payload`` is the answer's JSON, Kore's envelope already checked."""

    def __call__(
        self, payload: Any, /, *, method: str, url: str, status: int, meta: ResponseMeta
    ) -> T_co: ...


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
    decode: Decoder[T]
    recovery: Recovery[T] = attrs.field(factory=Recovery)


#: The recovery of an operation with nothing special to do after a lost answer.
NO_RECOVERY: Final[Recovery[Any]] = Recovery()
CallTimeout = Timeout | float | Literal["default"] | None


@attrs.define(eq=False)
class Call:
    """One call to ``Requester.call``: the state its attempts share."""

    requester: Requester
    timeout: Timeout
    policy: RetryPolicy
    deadline_at: float
    """Clock time the call must end by: the policy's deadline, moved on by time queued."""
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


@attrs.define(eq=False, repr=False)
class _Secrets:
    """The token an attempt sent, as the ``secrets`` a decoder redacts; never shown.

    Not a tuple: error reporters open containers among a frame's locals.
    """

    _request: HttpRequest

    def __iter__(self) -> Iterator[str]:
        yield self._request.headers.get(AUTH_HEADER, "")

    def __repr__(self) -> str:
        return "<secrets hidden>"


def _bare(error: KoreError) -> KoreError:
    """Drop ``error``'s frames below the request path and a context its raiser suppressed."""
    error.__traceback__ = None
    if error.__suppress_context__:
        error.__context__ = None
    return error


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
        max_response_bytes: int | None = None,
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
        self.max_response_bytes = max_response_bytes

    async def call(
        self,
        request: RequestSpec,
        decode: Decoder[T],
        *,
        retry: RetryPolicy | None = None,
        timeout: CallTimeout = "default",
        recovery: Recovery[T] = NO_RECOVERY,
    ) -> T:
        """Run one operation under the retry policy; return its decoded result.

        ``retry`` and ``timeout`` override the client's for this call (``timeout``: a
        Timeout, seconds in all, or None for no limit).
        """
        operation = Operation(request, decode, recovery)
        policy = retry or self.policy
        call_timeout = self.timeout if timeout == "default" else Timeout.coerce(timeout)
        # The deadline bounds attempts, retry waits and account-pause waits, from one start.
        deadline_at = math.inf if policy.deadline is None else self.clock() + policy.deadline
        call = Call(self, call_timeout, policy, deadline_at)
        url = self.base_url + request.path
        with observe.call(request.operation, self.account.account_id, request.method, url):
            return await run_with_retries(
                functools.partial(self._attempt, operation, call),
                policy=policy,
                budget=self.budget,
                clock=self.clock,
                sleep=self.sleep,
                deadline_at=lambda: call.deadline_at,  # it moves while the call queues
                operation=request.operation,
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
                error.attempts = call.attempts  # a recovery's lookup counts too
                raise
            observe.recovered(self.account.account_id, operation.request.operation, error)
            return found

    async def send(self, operation: Operation[T], call: Call) -> T:
        """Token, turn, send, decode: one attempt (plus one resend after a 401).

        A 401 renews the token once per call and resends at once. Every error leaves here
        complete: method, url and the call's attempts so far.
        """
        spec = operation.request
        url = self.base_url + spec.path
        while True:
            started: float | None = None
            sent_at: float | None = None
            request: HttpRequest | None = None
            raw: RawResponse | None = None
            waited = 0.0
            try:
                if self.auth.ready_token() is None:  # before the turn: it holds no slot
                    await await_token(
                        self.auth,
                        left=call.deadline_at - self.clock(),
                        sleep=self.sleep,
                        deadline=call.policy.deadline or math.inf,
                    )
                queued_at = self.clock()
                async with self.limiter.slot(
                    max_pause=call.policy.max_retry_after,
                    deadline_at=call.deadline_at,
                    max_wait=call.policy.max_queue_wait,
                ) as sent_at:
                    waited = self.clock() - queued_at
                    call.deadline_at += waited  # its clock stops meanwhile
                    left = call.deadline_at - self.clock()
                    timeout = attempt_timeout(call.timeout, left, method=spec.method, url=url)
                    token = self.auth.ready_token()
                    if token is None:
                        continue  # the token went stale while queued: renew it out of the slot
                    request = HttpRequest(
                        spec.method,
                        url,
                        spec.params,
                        headers(self.account, token),
                        spec.json,
                        timeout,
                        self.max_response_bytes,
                    )
                    del token  # error reporters record every frame's locals
                    call.attempts += 1
                    started = self.clock()
                    raw = await self.transport.send(request)
                # Decoding is pure CPU: done after the slot is free.
                meta = ResponseMeta(
                    attempts=call.attempts, status=raw.status, api_version=spec.api_version
                )
                payload = decode(raw, method=spec.method, url=url, secrets=_Secrets(request))
                result = operation.decode(
                    payload, method=spec.method, url=url, status=raw.status, meta=meta
                )
                failure: BaseException | None = None
            except BaseException as exc:  # reported first, then raised outside this block
                failure = exc
            if started is not None:
                event = AttemptEvent(
                    operation=spec.operation,
                    method=spec.method,
                    url=url,
                    account_id=self.account.account_id,
                    attempt=call.attempts,
                    status=None if raw is None else raw.status,
                    error=failure,
                    elapsed=self.clock() - started,
                    waited=waited,
                )
                observe.attempt(event)
                if self.hooks.on_attempt is not None:
                    self.hooks.on_attempt(event)
            if failure is None:
                self.limiter.on_success(sent_at=sent_at)
                return result
            if not isinstance(failure, KoreError):
                raise failure
            if isinstance(failure, RateLimitError):
                if failure.request_sent:
                    self.limiter.on_rate_limited(failure.retry_after, sent_at=sent_at)
                else:  # the limiter refused to wait out the account's pause: not sent
                    failure.method, failure.url = spec.method, url
            elif (
                isinstance(failure, AuthenticationError)
                and request is not None
                and self.auth.renewable
                and not call.token_renewed
            ):
                call.token_renewed = True
                self.auth.invalidate(request.headers[AUTH_HEADER])
                observe.token_renewed(self.account.account_id, spec.operation)
                continue
            elif (
                isinstance(failure, APITimeoutError)
                and request is not None
                and request.timeout is not call.timeout
            ):
                failure.args = (f"{failure} (cut at the call's deadline)",)
            failure.attempts = call.attempts
            raise _bare(failure)
