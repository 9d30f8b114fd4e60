"""What the SDK tells an operator: named loggers with structured fields, and optional tracing.

A call's attempts, retries and failure reach :data:`LOGS`, one subscriber of the request
path's :class:`~.observer.Observer` (beside :mod:`.otel`'s telemetry and the caller's hooks);
the account's events (a token renewed, a 429 pausing an account, the learned rate, the retry
budget, a bulk job stopping) are logged by the functions below, where they happen.

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

import logging
from typing import Final

from .events import AttemptEvent, RetryEvent
from .observer import CallFacts, ObservedCall, qualified
from .otel_loader import telemetry

ROOT: Final = "kore_campaign_async"
http_log: Final = logging.getLogger(f"{ROOT}.http")
quota_log: Final = logging.getLogger(f"{ROOT}.quota")
auth_log: Final = logging.getLogger(f"{ROOT}.auth")
bulk_log: Final = logging.getLogger(f"{ROOT}.bulk")


class _LoggedCall:
    """One call's lines: each attempt at DEBUG, each retry and a failure for good at INFO."""

    __slots__ = ("_call",)

    def __init__(self, call: CallFacts) -> None:
        self._call = call

    def attempt(self, event: AttemptEvent) -> None:
        if not http_log.isEnabledFor(logging.DEBUG):
            return
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
                "kore_operation": self._call.name,
                "kore_method": event.method,
                "kore_url": event.url,
                "kore_attempt": event.attempt,
                "kore_status": event.status,
                "kore_error_type": error,
                "kore_elapsed": event.elapsed,
                "kore_wait": event.waited,
            },
        )

    def retrying(self, event: RetryEvent) -> None:
        # INFO, as openai-python logs its retries: an operator should see a call waiting, not
        # silence until it fails.
        call = self._call
        http_log.info(
            "%s for account %s: retrying in %.1f s after attempt %d: %s: %s",
            call.name,
            call.account_id,
            event.wait,
            event.attempt,
            type(event.error).__name__,
            event.error,
            extra={
                "kore_account_id": call.account_id,
                "kore_operation": call.name,
                "kore_attempt": event.attempt,
                "kore_wait": event.wait,
                "kore_error_type": type(event.error).__name__,
            },
        )

    def ended(self, attempts: int, status: int | None, error: Exception | None) -> None:
        if error is None:
            return
        call = self._call
        status = getattr(error, "status", None)
        http_log.info(
            "%s for account %s failed after %d attempt(s): %s: %s",
            call.name,
            call.account_id,
            attempts,
            type(error).__name__,
            error,
            extra={
                "kore_account_id": call.account_id,
                "kore_operation": call.name,
                "kore_attempt": attempts,
                "kore_status": status if isinstance(status, int) else None,
                "kore_error_type": type(error).__name__,
            },
        )


class _Logs:
    """The logs, as a subscriber of every call."""

    def watch(self, call: CallFacts) -> _LoggedCall | None:
        """Watch ``call`` while ``….http`` logs INFO (its lines are INFO and DEBUG), else hear
        nothing of it."""
        return _LoggedCall(call) if http_log.isEnabledFor(logging.INFO) else None


LOGS: Final = _Logs()


def budget_ran_dry(available: int, capacity: int, state: ObservedCall | None) -> None:
    """Report the retry budget refusing a retry (of call ``state``) for the first time since
    it was full."""
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
    recorder = telemetry()
    if recorder is not None:
        recorder.paused(account_id, seconds)


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
