"""What the SDK tells an operator: named loggers with structured fields, and optional tracing.

The request path calls in here at a few points (a call starts and ends, an attempt ends, a
retry waits, a token is renewed, a 429 pauses an account...); each logs on its logger and, when
OpenTelemetry is installed and a provider set, feeds :mod:`.otel`'s spans and metrics.

Loggers (children of ``kore_campaign_async``; configure that one to see them all):

==============================  =======  =====================================================
logger                          level    what
==============================  =======  =====================================================
``kore_campaign_async``         WARNING  listing items skipped as unreadable
``….http``                      DEBUG    every HTTP attempt
``….http``                      INFO     every retry and its wait ("retrying in 0.8 s
                                         after ..."); a call that failed for good;
                                         an answer lost, then recovered without resending
``….http``                      WARNING  the retry budget ran dry: retries fail fast until
                                         it is full again (then INFO)
``….quota``                     WARNING  an account paused by our 429, and for how long; a
                                         shared limit store unreachable (pacing falls back
                                         to this process), a lease lost, an outcome lost
``….quota``                     INFO     the learned rate cut after a 429, and back at the
                                         configured rate (probes up: DEBUG); the shared
                                         store answering again
``….auth``                      WARNING  a client secret shorter than HS256 wants
``….auth``                      INFO     a token refused (401), renewed, the request resent
``….bulk``                      INFO     a bulk job stops sending for an account (401/403)
==============================  =======  =====================================================

A call's final error is logged at INFO, not WARNING: it is raised to the caller too, who
decides how loud it is (the CLI prints it once).

The records logged here carry their facts as ``extra`` fields named ``kore_*``
(``kore_account_id``, ``kore_operation``, ``kore_method``, ``kore_url``, ``kore_attempt``,
``kore_status``, ``kore_error_type``, ``kore_elapsed``, ``kore_wait``, ``kore_retry_after``,
``kore_pause_seconds``, ``kore_limit``, ``kore_limit_max``, ``kore_budget_available``,
``kore_budget_capacity``, ``kore_item_name``), for structlog or JSON formatters. Secrets never:
URLs carry no token, and error messages are redacted before they are raised.
"""

from __future__ import annotations

import contextvars
import enum
import logging
import sys
from typing import Final, Literal

import attrs

from . import otel
from .events import AttemptEvent
from .otel import CallSpan, Telemetry

ROOT: Final = "kore_campaign_async"
http_log: Final = logging.getLogger(f"{ROOT}.http")
quota_log: Final = logging.getLogger(f"{ROOT}.quota")
auth_log: Final = logging.getLogger(f"{ROOT}.auth")
bulk_log: Final = logging.getLogger(f"{ROOT}.bulk")


class _Pending(enum.Enum):
    PENDING = "pending"


#: The telemetry: PENDING until a call finds OpenTelemetry imported (by the application, or by
#: a provider it set), then what :func:`.otel.load` made of it, None without OpenTelemetry.
#: Nothing can record before the application imports OpenTelemetry, so importing it up front
#: would only make every user pay for its import.
TELEMETRY: Telemetry | Literal[_Pending.PENDING] | None = _Pending.PENDING


def _telemetry() -> Telemetry | None:
    """Return the telemetry, loading it on the first call that finds OpenTelemetry imported."""
    global TELEMETRY
    telemetry = TELEMETRY
    if telemetry is _Pending.PENDING:
        if "opentelemetry" not in sys.modules:
            return None
        telemetry = TELEMETRY = otel.load()
    return telemetry


#: The public name of each operation: ``kore.<this>`` is its span's name.
QUALIFIED: Final = {
    "create": "contact_lists.create",
    "get": "contact_lists.get",
    "update": "contact_lists.update",
    "delete": "contact_lists.delete",
    "list": "contact_lists.list",
    "contacts": "contacts.list",
    "add_contacts": "contacts.add",
}


def qualified(operation: str) -> str:
    """Return the public name of ``operation`` (``create`` -> ``contact_lists.create``)."""
    return QUALIFIED.get(operation, operation)


@attrs.define(eq=False)
class call:  # lower case: read as a verb, ``with observe.call(...):``
    """Observe one SDK call while the block runs: its span, and its final error at INFO.

    While it runs it is the call's state, which its attempts report into. ``operation`` is
    the request path's name of it (``create``); ``name`` its public one
    (``contact_lists.create``), looked up on entering.
    """

    operation: str
    account_id: str
    method: str
    url: str
    name: str = attrs.field(default="", init=False)
    telemetry: Telemetry | None = attrs.field(default=None, init=False)
    """The telemetry, while an OpenTelemetry provider is installed (then it records)."""
    span: CallSpan | None = attrs.field(default=None, init=False)
    attempts: int = attrs.field(default=0, init=False)
    status: int | None = attrs.field(default=None, init=False)
    _token: contextvars.Token[call | None] = attrs.field(init=False)

    def __enter__(self) -> None:
        self.name = QUALIFIED.get(self.operation, self.operation)  # qualified(), in-line
        self._token = _CURRENT.set(self)
        telemetry = _telemetry()
        # Asked at each call's start, as an application may install its providers after
        # importing us: two reads of the API's globals (see Telemetry.meters). While none is
        # installed nothing records, and nothing here calls into the telemetry.
        if telemetry is not None and (
            telemetry.meters._METER_PROVIDER is not None
            or telemetry.traces._TRACER_PROVIDER is not None
        ):
            self.telemetry = telemetry
            self.span = telemetry.start_call(self.name, self.account_id, self.method, self.url)

    def __exit__(self, _type: object, error: BaseException | None, _tb: object) -> None:
        _CURRENT.reset(self._token)
        if self.telemetry is not None and self.span is not None:
            self.telemetry.end_call(self.span, self.attempts, self.status, error)
        if isinstance(error, Exception):
            _failed(self, error)


_CURRENT: Final[contextvars.ContextVar[call | None]] = contextvars.ContextVar(
    "kore_call", default=None
)


def _failed(state: call, error: Exception) -> None:
    status = getattr(error, "status", None)
    http_log.info(
        "%s for account %s failed after %d attempt(s): %s: %s",
        state.name,
        state.account_id,
        state.attempts,
        type(error).__name__,
        error,
        extra={
            "kore_account_id": state.account_id,
            "kore_operation": state.name,
            "kore_attempt": state.attempts,
            "kore_status": status if isinstance(status, int) else None,
            "kore_error_type": type(error).__name__,
        },
    )


def attempt(event: AttemptEvent) -> None:
    """Report one ended HTTP attempt: a DEBUG line; its span and metrics as part of a call."""
    state = _CURRENT.get()
    if state is not None:
        state.attempts, state.status = event.attempt, event.status
    if http_log.isEnabledFor(logging.DEBUG):
        error = None if event.error is None else type(event.error).__name__
        outcome = event.status if error is None else f"{event.status or '-'} {error}"
        http_log.debug(
            "%s %s attempt %d -> %s (%.3fs, waited %.3fs)",
            event.method,
            event.url,
            event.attempt,
            outcome,
            event.elapsed,
            event.waited,
            extra={
                "kore_account_id": event.account_id,
                "kore_operation": QUALIFIED.get(event.operation, event.operation),
                "kore_method": event.method,
                "kore_url": event.url,
                "kore_attempt": event.attempt,
                "kore_status": event.status,
                "kore_error_type": error,
                "kore_elapsed": event.elapsed,
                "kore_wait": event.waited,
            },
        )
    if state is not None and state.telemetry is not None:
        state.telemetry.attempt(event, state.name, traced=state.span is not None)


def retrying(operation: str, attempt: int, wait: float, error: BaseException) -> None:
    """Report a failed attempt about to be retried after ``wait`` seconds (INFO).

    INFO, as openai-python logs its retries: an operator should see a call waiting, not
    silence until it fails.
    """
    state = _CURRENT.get()
    name = qualified(operation) if operation else "call"
    http_log.info(
        "%s: retrying in %.1f s after attempt %d: %s: %s",
        name if state is None else f"{name} for account {state.account_id}",
        wait,
        attempt,
        type(error).__name__,
        error,
        extra={
            "kore_account_id": None if state is None else state.account_id,
            "kore_operation": name,
            "kore_attempt": attempt,
            "kore_wait": wait,
            "kore_error_type": type(error).__name__,
        },
    )
    if state is not None and state.telemetry is not None and state.span is not None:
        state.telemetry.retrying(state.span, attempt, wait)


def budget_ran_dry(available: int, capacity: int) -> None:
    """Report the retry budget refusing a retry for the first time since it was full."""
    state = _CURRENT.get()
    first = "" if state is None else f"; first refused: {state.name} for {state.account_id}"
    http_log.warning(
        "retry budget spent (%d of %d tokens left): failed calls fail fast until successes "
        "refill it%s",
        available,
        capacity,
        first,
        extra={
            "kore_account_id": None if state is None else state.account_id,
            "kore_operation": None if state is None else state.name,
            "kore_attempt": None if state is None else state.attempts,
            "kore_budget_available": available,
            "kore_budget_capacity": capacity,
        },
    )


def budget_refilled(capacity: int) -> None:
    """Report the retry budget full again after it ran dry."""
    http_log.info(
        "retry budget full again (%d tokens): failed calls are retried again",
        capacity,
        extra={"kore_budget_available": capacity, "kore_budget_capacity": capacity},
    )


def token_renewed(account_id: str, operation: str) -> None:
    """Report a 401 that made the SDK renew its token and resend at once."""
    auth_log.info(
        "%s for account %s: token refused (401); renewing it and resending once",
        qualified(operation),
        account_id,
        extra={
            "kore_account_id": account_id,
            "kore_operation": qualified(operation),
            "kore_status": 401,
        },
    )


def recovered(account_id: str, operation: str, error: BaseException | None) -> None:
    """Report a call that ended with a result found instead of resending after a lost answer."""
    http_log.info(
        "%s for account %s: answer lost%s; recovered without resending",
        qualified(operation),
        account_id,
        "" if error is None else f" ({type(error).__name__})",
        extra={
            "kore_account_id": account_id,
            "kore_operation": qualified(operation),
            "kore_error_type": None if error is None else type(error).__name__,
        },
    )


def account_paused(account_id: str, seconds: float, retry_after: float | None) -> None:
    """Report an account paused by a 429 for ``seconds`` (Retry-After said ``retry_after``)."""
    said = "no Retry-After" if retry_after is None else f"Retry-After {retry_after:g}s"
    quota_log.warning(
        "account %s paused by a 429 for %.3fs (%s)",
        account_id,
        seconds,
        said,
        extra={
            "kore_account_id": account_id,
            "kore_pause_seconds": seconds,
            "kore_retry_after": retry_after,
            "kore_status": 429,
        },
    )
    telemetry = _telemetry()
    if telemetry is not None:
        telemetry.paused(account_id, seconds)


def limit_changed(
    account_id: str, before: float, limit: float, limit_max: float, per: float
) -> None:
    """Report the learned rate of an account: a cut (INFO), a probe up (DEBUG), back (INFO)."""
    if limit < before:
        level, text = logging.INFO, "rate cut after a 429 to %g of %g requests per %gs"
    elif limit < limit_max:
        level, text = logging.DEBUG, "rate probed up to %g of %g requests per %gs"
    else:
        level, text = logging.INFO, "rate back to the configured %g of %g requests per %gs"
    quota_log.log(
        level,
        "account %s: " + text,
        account_id,
        limit,
        limit_max,
        per,
        extra={"kore_account_id": account_id, "kore_limit": limit, "kore_limit_max": limit_max},
    )


def bulk_halted(account_id: str, name: str, error: BaseException) -> None:
    """Report a bulk job that stops sending for an account after an account-wide refusal."""
    bulk_log.info(
        "bulk job stops sending for account %s: %r failed with %s (%s); the rest fail unsent",
        account_id,
        name,
        type(error).__name__,
        error,
        extra={
            "kore_account_id": account_id,
            "kore_item_name": name,
            "kore_status": getattr(error, "status", None),
            "kore_error_type": type(error).__name__,
        },
    )
