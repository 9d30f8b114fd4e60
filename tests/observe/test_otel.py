"""OpenTelemetry: a span per call, a CLIENT span per attempt, metrics; nothing without the API.

Checked with the SDK's in-memory exporter and metric reader, installed once as the global
providers (OpenTelemetry allows setting them once per process). Metrics accumulate across
tests, so each test uses an account of its own and reads only that account's points.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import kore_campaign_async as kca
from kore_campaign_async._observe import otel, otel_loader
from tests.helpers.clients import MakeClient
from tests.helpers.scripts import LIST, V2, Script, failed, ok, scripted

_EXPORTER = InMemorySpanExporter()
_READER = InMemoryMetricReader()
SECRET = "s" * 40


def _install() -> None:
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[_READER]))


@pytest.fixture
def spans() -> InMemorySpanExporter:
    _install()
    _EXPORTER.clear()
    return _EXPORTER


def points(name: str, account: str) -> list[Any]:
    """The data points of metric ``name`` for ``account``."""
    found: list[Any] = []
    data = _READER.get_metrics_data()
    for resource in data.resource_metrics if data is not None else ():
        for scope in resource.scope_metrics:
            if scope.scope.name != otel.SCOPE:
                continue
            for metric in scope.metrics:
                if metric.name == name:
                    found += [
                        p
                        for p in metric.data.data_points
                        if (p.attributes or {}).get("kore.account_id") == account
                    ]
    return found


def by_name(finished: tuple[ReadableSpan, ...]) -> tuple[ReadableSpan, list[ReadableSpan]]:
    [call] = [s for s in finished if s.kind is SpanKind.INTERNAL]
    return call, [s for s in finished if s.kind is SpanKind.CLIENT]


async def test_a_call_is_a_span_and_each_attempt_a_client_span(
    make_client: MakeClient, spans: InMemorySpanExporter
) -> None:
    await scripted(make_client, Script(failed(503), ok(LIST)), account="acct-span").create(
        "Renewal Due"
    )
    call, attempts = by_name(spans.get_finished_spans())
    assert call.name == "kore.contact_lists.create"
    assert dict(call.attributes or {}) == {
        "kore.account_id": "acct-span",
        "kore.operation": "contact_lists.create",
        "http.request.method": "POST",
        "url.full": f"{V2}/createContactList",
        "http.response.status_code": 200,
        "http.request.resend_count": 1,
    }
    assert call.status.status_code is StatusCode.UNSET
    [retry] = call.events
    assert (retry.name, dict(retry.attributes or {})) == (
        "kore.retry",
        {"kore.attempt": 1, "kore.retry.wait": 0.5},
    )
    first, second = attempts
    assert call.context is not None
    assert {s.parent.span_id for s in attempts if s.parent} == {call.context.span_id}
    assert (first.name, second.name) == ("POST", "POST")
    common = {
        "kore.account_id": "acct-span",
        "kore.operation": "contact_lists.create",
        "http.request.method": "POST",
        "url.full": f"{V2}/createContactList",
        "server.address": "kore.example",
        "server.port": 443,
    }
    assert dict(first.attributes or {}) == {
        **common,
        "http.response.status_code": 503,
        "error.type": "503",
    }
    assert first.status.status_code is StatusCode.ERROR
    assert dict(second.attributes or {}) == {
        **common,
        "http.response.status_code": 200,
        "http.request.resend_count": 1,
    }


async def test_a_failed_call_s_span_names_its_error(
    make_client: MakeClient, spans: InMemorySpanExporter
) -> None:
    with pytest.raises(kca.NotFoundError):
        await scripted(make_client, Script(failed(404, "no such list")), account="acct-404").get(
            "cl-9"
        )
    call, [attempt] = by_name(spans.get_finished_spans())
    assert call.name == "kore.contact_lists.get"
    assert call.attributes is not None
    assert call.attributes["error.type"] == "NotFoundError"
    assert call.attributes["http.response.status_code"] == 404
    assert call.status.status_code is StatusCode.ERROR
    assert "no such list" in (call.status.description or "")
    assert attempt.attributes is not None
    assert attempt.attributes["error.type"] == "404"


async def test_metrics_count_requests_429s_and_waits(
    make_client: MakeClient, spans: InMemorySpanExporter
) -> None:
    script = Script(failed(429), failed(503), ok(LIST))
    lists = scripted(make_client, script, account="acct-metrics")
    await lists.get("cl-1")
    requests = {
        p.attributes.get("http.response.status_code"): p.value
        for p in points("kore.client.requests", "acct-metrics")
    }
    assert requests == {429: 1, 503: 1, 200: 1}
    [limited] = points("kore.client.rate_limited", "acct-metrics")
    assert limited.value == 1
    assert dict(limited.attributes) == {
        "kore.account_id": "acct-metrics",
        "kore.operation": "contact_lists.get",
    }
    [queued] = points("kore.client.queue.wait_time", "acct-metrics")
    assert queued.count == 3
    assert queued.sum > 0  # the third attempt waited out the 429's pause of the account
    durations = points("kore.client.request.duration", "acct-metrics")
    assert sum(p.count for p in durations) == 3
    [paused] = points("kore.client.pause_time", "acct-metrics")  # no rate: a 1 s pause
    assert (paused.count, paused.sum) == (1, 1.0)


async def test_no_span_holds_a_secret(make_client: MakeClient, spans: InMemorySpanExporter) -> None:
    script = Script(failed(401), failed(401), failed(500), failed(500), failed(500))
    lists = scripted(
        make_client, script, account="acct-secret", client_id="app-1", client_secret=SECRET
    )
    for _ in range(2):
        with pytest.raises(kca.KoreError):
            await lists.create("Renewal Due")
    tokens = {dict(r.headers)["auth"] for r in script.sent}
    finished = spans.get_finished_spans()
    assert len(finished) == 2 + len(script.sent)
    for span in finished:
        text = repr(span.to_json())
        for secret in (*tokens, SECRET):
            assert secret not in text


def test_url_full_drops_query_and_credentials() -> None:
    assert otel.url_attributes("http://u:p@kore.test:8080/a/b?accountId=1") == {
        "url.full": "http://REDACTED:REDACTED@kore.test:8080/a/b",
        "server.address": "kore.test",
        "server.port": 8080,
    }


async def test_without_telemetry_a_call_makes_no_span(
    make_client: MakeClient, spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    assert otel_loader.load() is None
    monkeypatch.setattr(otel_loader, "_loaded", None)
    got = await scripted(make_client, Script(failed(503), ok(LIST)), account="acct-none").get(
        "cl-1"
    )
    assert got.id == "cl-1"
    assert spans.get_finished_spans() == ()


def test_the_sdk_works_without_opentelemetry_installed() -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys
        sys.modules["opentelemetry"] = None  # as if not installed: every import of it fails
        import kore_campaign_async as kca
        from kore_campaign_async._observe import otel_loader
        from kore_campaign_async.testing import MockTransport, json_response

        async def main():
            answer = {"status": "success", "data": {"_id": "cl-1", "name": "N"}}
            client = kca.CampaignClient(
                "https://kore.test", token="t",
                transport=MockTransport(lambda request: json_response(answer)),
            )
            got = await client.account("a", iid="st-1").contact_lists.get("cl-1")
            await client.aclose()
            print(otel_loader.telemetry(), got.id)

        asyncio.run(main())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "None cl-1\n", "")


#: Runs in a process of its own: OpenTelemetry's global providers can be set once per process,
#: and the rest of this module has set them.
_INSTALLED_LATER = """
import asyncio, json
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async._observe import otel
from kore_campaign_async.testing import MockTransport, json_response

entered = []
for name in ("start_call", "attempt", "retrying", "end_call", "paused"):
    def spy(self, *args, _real=getattr(otel.Telemetry, name), _name=name, **kwargs):
        entered.append(_name)
        return _real(self, *args, **kwargs)
    setattr(otel.Telemetry, name, spy)

answers = []
def answer(request):
    if answers.pop(0) == 503:
        return json_response({"errors": [{"msg": "busy"}]}, status=503)
    return json_response({"status": "success", "data": {"_id": "cl-1", "name": "N"}})

exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()

def requests():
    return {
        point.attributes["http.response.status_code"]: point.value
        for resource in reader.get_metrics_data().resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "kore.client.requests"
        for point in metric.data.data_points
    }

async def main():
    clock = ManualClock()
    client = kca.CampaignClient(
        "https://kore.test", token="t", rate_limit=None, clock=clock, sleep=clock.sleep,
        transport=MockTransport(answer), retry=kca.RetryPolicy(jitter=False),
    )
    lists = client.account("acct-later", iid="st-1").contact_lists
    phases = {}

    async def phase(name):
        answers[:] = [503, 200]
        await lists.get("cl-1")
        phases[name] = {
            "entered": entered[:],
            "spans": sorted(span.name for span in exporter.get_finished_spans()),
            "requests": requests() if metrics_set else {},
        }
        entered.clear()
        exporter.clear()

    metrics_set = False
    await phase("none")
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    metrics_set = True
    await phase("meters")
    tracing = TracerProvider()
    tracing.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(tracing)
    await phase("both")
    await client.aclose()
    print(json.dumps(phases))

asyncio.run(main())
"""


def test_providers_installed_after_import_are_used_and_none_costs_nothing() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _INSTALLED_LATER],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
    none, meters, both = json.loads(done.stdout).values()
    assert none == {"entered": [], "spans": [], "requests": {}}  # the telemetry not entered
    # Instruments made at import (the API's proxies) forward to the provider set later.
    assert meters == {
        "entered": ["start_call", "attempt", "attempt"],
        "spans": [],
        "requests": {"503": 1, "200": 1},
    }
    assert both == {
        "entered": ["start_call", "attempt", "retrying", "attempt", "end_call"],
        "spans": ["GET", "GET", "kore.contact_lists.get"],
        "requests": {"503": 2, "200": 2},
    }
