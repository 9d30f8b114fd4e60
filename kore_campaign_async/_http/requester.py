"""The one request path, a chain of steps with one job each (as httpx's send chain):

``call`` (the account's first turn, retries, and the recovery of a lost answer) -> ``send`` (a
token and a turn, the one send in it, its outcome reported to the :class:`Turn`, and the one
renewal after a 401: ``token_flow``) -> the transport, and ``_decode``.

A resource method builds its request (pure, by ``_wire.endpoints``) and hands it to
``Requester.call`` with how a success answer becomes its result (a :class:`Decoder`) and, if
it needs one, how it survives a lost answer (a :class:`Recovery`). tenacity runs around one
attempt, so a backoff sleep never holds a concurrency slot or a rate permit. One
:class:`~kore_campaign_async._clock.Deadline` bounds the call; its clock stops while the call
queues for its turn. Nothing goes round again without waiting or counting: tenacity counts
attempts, and ``send`` sends at most twice.

A call whose token is ready queues for its first turn before the rest of it is made, and no
step holds a context manager's bound exit or a closure: ten thousand accounts' queued calls are
what the garbage collector walks, so a queued call holds its request, its deadline and its
observation, and nothing more.
The error that ends a call leaves shaped by ``call_end``: no frames below this module.
"""

from __future__ import annotations

import functools
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from .._clock import Deadline
from .._config import Timeout
from .._exceptions import (
    AuthenticationError,
    KoreError,
    RateLimitError,
)
from .._observe import log as observe
from .._observe.events import AttemptEvent
from .._observe.hooks import Hooks, HookSubscriber
from .._observe.observer import ObservedCall, Observer, Subscriber
from .._quota.limiter import AccountLimiter
from .._quota.outcomes import Turn
from .._wire.endpoints import AccountRef, RequestSpec, headers
from .._wire.models import ResponseMeta
from . import token_flow
from .bounds import attempt_timeout
from .call_end import ended
from .calls import NO_RECOVERY, Attempt, CallState, CallTimeout, Decoder, Recovery, Secrets
from .client_calls import ClientCalls
from .policy import RetryBudget, RetryPolicy, is_ambiguous
from .responses import decode
from .retry import retry_failed
from .transport import HttpRequest, RawResponse

if TYPE_CHECKING:
    from .._observe import otel

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
U = TypeVar("U")


def call_observer(hooks: Hooks, recorder: otel.Telemetry | None) -> Observer:
    """The observer of a client's calls (one for all its accounts): logs, telemetry, hooks."""
    subscribers: list[Subscriber] = [observe.LOGS]
    if recorder is not None:
        subscribers.append(recorder)
    if hooks.on_attempt is not None or hooks.on_retry is not None:  # else nobody to ask per call
        subscribers.append(HookSubscriber(hooks))
    return Observer(subscribers)


class Requester:
    """Send operations for one account through its limiter and retry budget, and the
    client's transport, token source and retry policy (its :class:`ClientCalls`)."""

    __slots__ = ("account", "budget", "client", "limiter")

    def __init__(
        self,
        client: ClientCalls,
        account: AccountRef,
        limiter: AccountLimiter,
        budget: RetryBudget | None,
    ) -> None:
        self.client: ClientCalls = client
        self.account: AccountRef = account
        self.limiter: AccountLimiter = limiter
        self.budget: RetryBudget | None = budget

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
        Timeout, seconds in all, or None for no limit). Its error carries ``attempts``.
        The first attempt runs bare; only its failure builds the retries (``retry_failed``).
        No context managers: a call waiting for its turn holds as little as it can.
        """
        # The arguments become what they stand for: no second local for each in this frame,
        # which lasts as long as the call.
        retry = retry or self.client.policy
        deadline = Deadline(retry.deadline, self.client.clock)
        timeout = self.client.timeout if timeout == "default" else Timeout.coerce(timeout)
        # First: a call from another loop must not queue in the limiter's FIFO.
        self.client.gate.enter()
        observed = state = first_failure = None
        try:
            observed = self.client.observer.call(  # it keeps the URL: no local of its own
                request.operation,
                self.account.account_id,
                request.method,
                self.client.url(request.path),
            )
            try:
                turn = None
                if self.client.auth.ready_token() is not None:  # else fetched first: no slot held
                    # Queued for its first turn before the rest of the call is made.
                    turn = await self._turn(request, observed.url, retry, deadline, timeout)
                state = self._state(request, retry, deadline, timeout, observed, turn)
                try:  # the first attempt: nothing to recover before it (no _attempt frame)
                    result = await self.send(request, decode, state)
                except KoreError as error:
                    result = await self._instead_of(request, recovery, state, error)
            except Exception as error:  # a BaseException (cancellation) is never retried
                first_failure = error
            else:
                if self.budget is not None:
                    self.budget.refund()
            if first_failure is not None:  # retried outside the except block: no chaining
                if state is None:  # its first turn was refused
                    state = self._state(request, retry, deadline, timeout, observed)
                result = await self._retries(request, decode, recovery, state, first_failure)
        except BaseException as error:
            if observed is not None:
                observed.end(ended(error, state))
            raise
        else:
            observed.end(None)
        finally:
            self.client.gate.leave()
        return result

    def _state(
        self,
        request: RequestSpec,
        policy: RetryPolicy,
        deadline: Deadline,
        timeout: Timeout,
        observed: ObservedCall,
        first_turn: Turn | None = None,
    ) -> CallState:
        """What the call's attempts share, made once it has its first turn."""
        return CallState(self, timeout, policy, deadline, observed, request, first_turn)

    def _retries(
        self,
        request: RequestSpec,
        decode: Decoder[T],
        recovery: Recovery[T],
        state: CallState,
        first_failure: Exception,
    ) -> Coroutine[Any, Any, T]:
        """The call's attempts after its first failed: tenacity's, under its policy."""
        return retry_failed(
            functools.partial(self._attempt, request, decode, recovery, state),
            first_failure,
            policy=state.policy,
            budget=self.budget,
            sleep=self.client.sleep,
            deadline=state.deadline,
            operation=request.operation,
            observed=state.observed,
            may_retry=recovery.may_resend,
        )

    async def _attempt(
        self, request: RequestSpec, decode: Decoder[T], recovery: Recovery[T], state: CallState
    ) -> T:
        """One retry of the operation, with its recovery before and around the send."""
        if state.answer_lost:
            found = await recovery.before_resend(state)
            if found is not None:
                observe.recovered(self.account.account_id, request.operation, None)
                return found
        try:
            return await self.send(request, decode, state)
        except KoreError as error:
            return await self._instead_of(request, recovery, state, error)

    async def _instead_of(
        self, request: RequestSpec, recovery: Recovery[T], state: CallState, error: KoreError
    ) -> T:
        """After a failed attempt: the result the recovery finds instead, or ``error`` raised."""
        if is_ambiguous(error):
            state.lost = error
        found = await recovery.instead_of(error, state)
        if found is None:
            raise error
        observe.recovered(self.account.account_id, request.operation, error)
        return found

    async def send(self, spec: RequestSpec, decode: Decoder[T], state: CallState) -> T:
        """Send ``spec`` once in a turn of the account, with a token: waited for before the turn
        (a slow source holds no slot), read again in it (it may have expired while queued).
        Report the attempt, and its outcome to the turn. After a 401 send it once more with a
        renewed token, once per call (``state.renewed``): at most two sends. Nothing of the
        attempt is made while it waits for its turn, and one frame sends: a call in flight
        holds few."""
        url = state.url if spec is state.request else self.client.url(spec.path)
        turn, state.first_turn = state.first_turn, None
        if turn is None:
            turn = await self._next_turn(spec, url, state)
        # Started as its turn came (what follows is CPU), unless the token is fetched in it:
        # the turn's clock reading serves both, one float less per call in flight.
        attempt = Attempt(spec, url, turn.waited, started=turn.began)
        try:
            try:
                state.deadline.stop_for(turn.waited)  # queueing behind other calls is free
                token = self.client.auth.ready_token()
                if token is None:  # it expired while the call queued
                    token = await token_flow.fetch(
                        self.client.auth, state.deadline, self.client.sleep
                    )
                    attempt.started = self.client.clock()
                request = self._request(attempt, state, token)
                del token  # error reporters record every frame's locals
                attempt.answer = answer = await self.client.transport.send(request)
            finally:
                turn.end()
            result = self._decode(attempt, answer, decode)  # pure CPU: the slot is free
        except BaseException as error:
            if attempt.sent is not None:
                self._report(attempt, state, error)
                if isinstance(error, RateLimitError):
                    turn.rate_limited(error.retry_after)
            # Renewed once per call, and only a renewable source's token.
            if not isinstance(error, AuthenticationError) or not token_flow.renew(
                self.client.auth, attempt.sent, renewed=state.renewed
            ):
                raise
            state.renewed = True
        else:
            self._report(attempt, state, None)
            turn.succeeded()
            return result
        observe.token_renewed(self.account.account_id, spec.operation)
        return await self.send(spec, decode, state)

    async def _next_turn(self, spec: RequestSpec, url: str, state: CallState) -> Turn:
        """The turn of an attempt that has none yet (a retry, a lookup, a resend after a 401):
        a token first, so a slow source holds no slot. Its frame is gone once the turn came."""
        if self.client.auth.ready_token() is None:
            await token_flow.fetch(self.client.auth, state.deadline, self.client.sleep)
        return await self._turn(spec, url, state.policy, state.deadline, state.timeout)

    def _turn(
        self, spec: RequestSpec, url: str, policy: RetryPolicy, deadline: Deadline, timeout: Timeout
    ) -> Coroutine[Any, Any, Turn]:
        """Wait for the account's turn to send ``spec``: refused at once if the deadline has
        passed (every permit is sent), or if the turn will not come within the call's bounds."""
        if deadline.left() <= 0:
            attempt_timeout(timeout, deadline.left(), method=spec.method, url=url)
        return self.limiter.take_turn(
            max_pause=policy.max_retry_after,
            deadline_at=deadline.ends_at,
            max_wait=policy.max_queue_wait,
            method=spec.method,
            url=url,
        )

    def _request(self, attempt: Attempt, state: CallState, token: str) -> HttpRequest:
        """Build the attempt's request, counted as sent."""
        spec = attempt.spec
        timeout = self._timeout(attempt, state)  # after the token: fetching it may take time
        request = HttpRequest(
            spec.method,
            attempt.url,
            spec.params,
            headers(self.account, token),
            spec.json,
            timeout,
            self.client.max_response_bytes,
            cut_at_deadline=timeout is not state.timeout,
        )
        state.attempts += 1
        attempt.number, attempt.sent = state.attempts, request
        return request

    def _timeout(self, attempt: Attempt, state: CallState) -> Timeout:
        return attempt_timeout(
            state.timeout, state.deadline.left(), method=attempt.spec.method, url=attempt.url
        )

    def _decode(self, attempt: Attempt, raw: RawResponse, decode_result: Decoder[T]) -> T:
        """Return the answer's result, or raise the error it stands for."""
        spec, url = attempt.spec, attempt.url
        meta = ResponseMeta(
            attempts=attempt.number, status=raw.status, api_version=spec.api_version
        )
        payload = decode(raw, method=spec.method, url=url, secrets=Secrets(attempt))
        return decode_result(payload, method=spec.method, url=url, status=raw.status, meta=meta)

    def _report(self, attempt: Attempt, state: CallState, error: BaseException | None) -> None:
        """Tell the call's observers how one sent attempt ended."""
        spec, raw = attempt.spec, attempt.answer
        status = None if raw is None else raw.status
        if not state.observed.counted(attempt.number, status):
            return
        event = AttemptEvent(
            operation=spec.operation,
            method=spec.method,
            url=attempt.url,
            account_id=self.account.account_id,
            attempt=attempt.number,
            status=status,
            error=error,
            elapsed=self.client.clock() - attempt.started,
            waited=attempt.waited,
        )
        state.observed.attempt(event)
