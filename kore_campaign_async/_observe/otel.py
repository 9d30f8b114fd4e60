"""OpenTelemetry spans and metrics for the request path, when ``opentelemetry-api`` is installed.

This module is loaded by :mod:`.otel_loader` on the first SDK call that finds OpenTelemetry
imported (importing the package imports neither OpenTelemetry nor this module). Without
OpenTelemetry the request path makes no call into this module at all; nor while the API
is installed and no provider is set, which :meth:`Telemetry.watch` asks the API's getters at
each call's start, so that an application may set its providers after importing us. Spans and
instruments come from the global providers (``trace.set_tracer_provider``,
``metrics.set_meter_provider``), under the instrumentation scope ``kore_campaign_async``; the
instruments, made when the telemetry loads, are the API's proxies until a meter provider is
set, then forward to it.

Spans
    ``kore.<resource>.<operation>`` (INTERNAL, e.g. ``kore.contact_lists.create``): one per SDK
    call, from its first wait for the account's turn to its result or final error.
    ``<METHOD>`` (CLIENT, e.g. ``POST``): one per HTTP attempt, a child of its call's span,
    with the HTTP semantic conventions' attributes (``http.request.method``, ``url.full``
    without query or credentials, ``server.address``, ``server.port``,
    ``http.response.status_code``, ``error.type``, ``http.request.resend_count``). Both carry
    ``kore.account_id`` and ``kore.operation``. A retry wait is an event ``kore.retry`` on the
    call's span (attribute ``kore.retry.wait``, seconds).

Metrics (attributes ``kore.account_id`` and ``kore.operation``; requests and their duration
also ``http.request.method``, ``http.response.status_code`` and ``error.type``)
    ``kore.client.requests`` (counter): HTTP attempts sent.
    ``kore.client.rate_limited`` (counter): 429 answers.
    ``kore.client.request.duration`` (histogram, s): one attempt, sending to its answer's end.
    ``kore.client.queue.wait_time`` (histogram, s): one attempt's wait for its account's turn
    (concurrency slot, rate permit, a 429's pause).
    ``kore.client.pause_time`` (histogram, s): how long each 429 paused its account
    (``kore.account_id`` only).
"""

from __future__ import annotations

import functools
import time
from types import ModuleType
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

import attrs

from .._version import __version__
from .events import AttemptEvent, RetryEvent
from .observer import CallFacts

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

SCOPE: Final = "kore_campaign_async"


@functools.lru_cache(maxsize=256)
def url_attributes(url: str) -> dict[str, str | int]:
    """Return ``url.full`` (no query, no credentials), ``server.address`` and ``server.port``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    if parts.username is not None or parts.password is not None:
        netloc = f"REDACTED:REDACTED@{netloc}"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return {
        "url.full": f"{parts.scheme}://{netloc}{parts.path}",
        "server.address": host,
        "server.port": port,
    }


@attrs.frozen
class CallSpan:
    """The span of one SDK call, and the context token that made it current."""

    span: Span
    token: object


class Telemetry:
    """The tracer and the instruments, made once from the OpenTelemetry API's modules."""

    def __init__(self, trace: ModuleType, context: ModuleType, metrics: ModuleType) -> None:
        self._trace = trace
        self._metrics = metrics
        self._context = context
        self._version = __version__
        self._provider: object = None
        self._tracer: Tracer | None = None
        # Instruments made before an SDK is installed are the API's proxies: they forward to
        # the real ones once ``metrics.set_meter_provider`` runs.
        meter = metrics.get_meter(SCOPE, self._version)
        self.requests = meter.create_counter(
            "kore.client.requests", unit="{request}", description="HTTP attempts sent"
        )
        self.rate_limited = meter.create_counter(
            "kore.client.rate_limited", unit="{response}", description="429 answers"
        )
        self.duration = meter.create_histogram(
            "kore.client.request.duration",
            unit="s",
            description="One HTTP attempt, from sending to the end of its answer",
        )
        self.queue_wait = meter.create_histogram(
            "kore.client.queue.wait_time",
            unit="s",
            description="One attempt's wait for its account's turn (slot, permit, pause)",
        )
        self.pause = meter.create_histogram(
            "kore.client.pause_time", unit="s", description="How long a 429 paused its account"
        )

    def watch(self, call: CallFacts) -> _TracedCall | None:
        """Watch ``call`` while a tracer or a meter provider is installed, else hear nothing."""
        if _api_own(self._trace.get_tracer_provider()) and _api_own(
            self._metrics.get_meter_provider()
        ):
            return None
        span = self.start_call(call.name, call.account_id, call.method, call.url)
        return _TracedCall(self, call.name, span)

    def start_call(self, operation: str, account_id: str, method: str, url: str) -> CallSpan | None:
        """Open the span of one SDK call and make it current; None while nothing records.

        Nothing records while no tracer provider is installed: asked at each call's start,
        cheaply, as an application may install its provider after importing us.
        """
        provider = self._trace.get_tracer_provider()
        if provider is not self._provider:
            self._provider = provider
            idle = (self._trace.ProxyTracerProvider, self._trace.NoOpTracerProvider)
            self._tracer = (
                None if isinstance(provider, idle) else provider.get_tracer(SCOPE, self._version)
            )
        tracer = self._tracer
        if tracer is None:
            return None
        attributes = {
            "kore.account_id": account_id,
            "kore.operation": operation,
            "http.request.method": method,
            "url.full": url_attributes(url)["url.full"],
        }
        span = tracer.start_span(
            f"kore.{operation}", kind=self._trace.SpanKind.INTERNAL, attributes=attributes
        )
        return CallSpan(span, self._context.attach(self._trace.set_span_in_context(span)))

    def end_call(
        self, call: CallSpan, attempts: int, status: int | None, error: BaseException | None
    ) -> None:
        """Put the call's outcome on its span (last status, resends, final error); end it."""
        span = call.span
        self._context.detach(call.token)
        if status is not None:
            span.set_attribute("http.response.status_code", status)
        if attempts > 1:
            span.set_attribute("http.request.resend_count", attempts - 1)
        if error is not None:
            span.set_attribute("error.type", type(error).__qualname__)
            span.set_status(self._trace.StatusCode.ERROR, str(error))
        span.end()

    def retrying(self, call: CallSpan, attempt: int, wait: float) -> None:
        """Note a retry wait on the call's span."""
        call.span.add_event("kore.retry", {"kore.attempt": attempt, "kore.retry.wait": wait})

    def attempt(self, event: AttemptEvent, operation: str, *, traced: bool) -> None:
        """Record one ended HTTP attempt: its CLIENT span (back-dated) and the metrics.

        ``operation`` is the event's operation by its public name (``contact_lists.create``);
        ``traced``: its call has a span (then the attempt's span is its child).
        """
        account = {"kore.account_id": event.account_id, "kore.operation": operation}
        outcome: dict[str, str | int] = {**account, "http.request.method": event.method}
        if event.status is not None:
            outcome["http.response.status_code"] = event.status
        # error.type as the HTTP conventions say: the status from 400 on, else the class.
        if event.status is not None and event.status >= 400:
            error_kind: str | None = str(event.status)
        else:
            error_kind = None if event.error is None else type(event.error).__qualname__
        if error_kind is not None:
            outcome["error.type"] = error_kind
        tracer = self._tracer
        if traced and tracer is not None:
            end = time.time_ns()
            span = tracer.start_span(
                event.method,
                kind=self._trace.SpanKind.CLIENT,
                start_time=end - int(event.elapsed * 1e9),
                attributes={**outcome, **url_attributes(event.url)},
            )
            if event.attempt > 1:
                span.set_attribute("http.request.resend_count", event.attempt - 1)
            if error_kind is not None:
                span.set_status(self._trace.StatusCode.ERROR, error_kind)
            span.end(end_time=end)
        self.requests.add(1, outcome)
        self.duration.record(event.elapsed, outcome)
        self.queue_wait.record(event.waited, account)
        if event.status == 429:
            self.rate_limited.add(1, account)

    def paused(self, account_id: str, seconds: float) -> None:
        """Record how long a 429 paused an account."""
        self.pause.record(seconds, {"kore.account_id": account_id})


def _api_own(provider: object) -> bool:
    """Whether ``provider`` is the API's own stand-in (proxy or no-op): nothing records."""
    return type(provider).__module__.startswith(("opentelemetry.trace", "opentelemetry.metrics"))


class _TracedCall:
    """One call's span (None: no tracer installed) and metrics."""

    __slots__ = ("_name", "_span", "_telemetry")

    def __init__(self, telemetry: Telemetry, name: str, span: CallSpan | None) -> None:
        self._telemetry = telemetry
        self._name = name
        self._span = span

    def attempt(self, event: AttemptEvent) -> None:
        self._telemetry.attempt(event, self._name, traced=self._span is not None)

    def retrying(self, event: RetryEvent) -> None:
        if self._span is not None:
            self._telemetry.retrying(self._span, event.attempt, event.wait)

    def ended(self, attempts: int, status: int | None, error: Exception | None) -> None:
        if self._span is not None:
            self._telemetry.end_call(self._span, attempts, status, error)
