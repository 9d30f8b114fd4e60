"""Every fault kind, scripts and seeded probability, as a plain aiohttp client sees them."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import aiohttp
import pytest

from kore_campaign_async.testing import FakeKoreServer, Fault
from tests.helpers.fake_server import ACCOUNT, Kore, settle


@pytest.fixture(autouse=True)
def no_server_complaints(caplog: pytest.LogCaptureFixture) -> object:
    """Dropped connections must not make aiohttp or asyncio log warnings or errors."""
    caplog.set_level(logging.DEBUG)
    yield None
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert loud == []


async def test_status_fault_answers_instead_of_doing_the_operation(
    kore: Kore, server: FakeKoreServer
) -> None:
    server.faults.add(Fault("status", operation="create"))
    answer = await kore.create("Skipped")
    assert (answer.status, answer.body) == (
        503,
        {"errors": [{"msg": "Service Unavailable", "code": 503}]},
    )
    assert server.lists(ACCOUNT) == []
    (record,) = server.requests
    assert (record.operation, record.status, record.fault) == ("create", 503, "status")
    assert (await kore.create("Stored")).status == 200


async def test_status_fault_with_text_body_and_headers(kore: Kore, server: FakeKoreServer) -> None:
    server.faults.add(
        Fault("status", status=502, body="<html>bad gateway</html>", headers={"X-Proxy": "lb-1"})
    )
    answer = await kore.list_all()
    assert (answer.status, answer.body) == (502, "<html>bad gateway</html>")
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert answer.headers["X-Proxy"] == "lb-1"


async def test_status_fault_with_json_body(kore: Kore, server: FakeKoreServer) -> None:
    body = {"status": "failure", "message": "busy"}
    server.faults.add(Fault("status", status=500, body=body))
    answer = await kore.list_all()
    assert (answer.status, answer.body) == (500, body)


async def test_reset_drops_the_connection_before_the_operation(
    kore: Kore, server: FakeKoreServer
) -> None:
    server.faults.add(Fault("reset", operation="create"))
    with pytest.raises(aiohttp.ClientConnectionError):
        await kore.create("Lost")
    assert server.lists(ACCOUNT) == []
    (record,) = server.requests
    assert (record.status, record.fault) == (None, "reset")
    assert (await kore.create("Next")).status == 200


async def test_commit_then_drop_stores_then_drops(kore: Kore, server: FakeKoreServer) -> None:
    server.faults.add(Fault("commit_then_drop", operation="create"))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await kore.create("Ghost")
    assert [item["name"] for item in server.lists(ACCOUNT)] == ["Ghost"]
    assert server.requests[0].status is None
    # A retry by the client now meets the committed list.
    assert (await kore.create("Ghost")).status == 409


async def test_malformed_json_does_the_operation_and_truncates_the_answer(
    kore: Kore, server: FakeKoreServer
) -> None:
    server.faults.add(Fault("malformed_json"))
    answer = await kore.create("Half")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert isinstance(answer.body, str)
    assert answer.body.startswith('{"status":"success"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.body)
    assert len(server.lists(ACCOUNT)) == 1
    assert server.requests[0].fault == "malformed_json"


async def test_malformed_json_truncates_a_listing_too(kore: Kore, server: FakeKoreServer) -> None:
    await kore.create("Listed")
    whole = (await kore.list_all()).body
    server.faults.add(Fault("malformed_json", operation="list"))
    answer = await kore.list_all()
    assert isinstance(answer.body, str)
    assert json.dumps(whole, separators=(",", ":")).startswith(answer.body)
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.body)


async def test_delay_answers_normally_after_the_wait(kore: Kore, server: FakeKoreServer) -> None:
    server.faults.add(Fault("delay", delay=0.05))
    started = time.perf_counter()
    answer = await kore.create("Slow")
    assert time.perf_counter() - started >= 0.05
    assert answer.status == 200
    assert server.requests[0].fault == "delay"


async def test_a_delay_trips_a_client_timeout(kore: Kore, server: FakeKoreServer) -> None:
    server.faults.add(Fault("delay", delay=5.0))
    started = time.perf_counter()
    with pytest.raises(asyncio.TimeoutError):
        async with kore.session.post(
            server.url + "/campaign/api/v2/public/x/campaign/contactList/getAllListDetails",
            params={"accountId": ACCOUNT, "type": "call"},
            headers=kore.headers(),
            timeout=aiohttp.ClientTimeout(total=0.05),
        ):
            pass
    assert time.perf_counter() - started < 1.0


async def test_stop_drops_delayed_requests_at_once(session: aiohttp.ClientSession) -> None:
    server = FakeKoreServer()
    await server.start()
    kore = Kore(session, server)
    server.faults.add(Fault("delay", delay=30.0))
    pending = asyncio.ensure_future(kore.list_all())
    await settle(lambda: not server.faults.pending)  # the request arrived and took the fault
    started = time.perf_counter()
    await server.stop()
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await pending
    assert time.perf_counter() - started < 1.0
    assert server.requests[0].status is None


async def test_pass_consumes_a_slot_of_a_script(kore: Kore, server: FakeKoreServer) -> None:
    server.faults.add_many(
        [Fault("status"), Fault("pass"), Fault("status", status=500), Fault("pass")]
    )
    statuses = [(await kore.list_all()).status for _ in range(5)]
    assert statuses == [503, 200, 500, 200, 200]
    assert [r.fault for r in server.requests] == ["status", "pass", "status", "pass", None]


async def test_faults_match_operation_and_account(kore: Kore, server: FakeKoreServer) -> None:
    server.faults.add(Fault("status", operation="create", account_id="acc-2", times=None))
    assert (await kore.list_all(account="acc-2")).status == 200
    assert (await kore.create("Mine")).status == 200
    assert (await kore.create("Theirs", account="acc-2")).status == 503
    assert (await kore.create("Theirs", account="acc-2")).status == 503
    assert server.count(status=503) == 2


async def test_refused_requests_do_not_use_up_faults(kore: Kore, server: FakeKoreServer) -> None:
    server.faults.add(Fault("status"))
    kore.token = "garbage"
    assert (await kore.list_all()).status == 401
    assert len(server.faults) == 1


async def statuses_with_seed(session: aiohttp.ClientSession, seed: int) -> list[int]:
    async with FakeKoreServer(seed=seed) as server:
        server.faults.add(Fault("status", probability=0.5, times=None))
        kore = Kore(session, server)
        return [(await kore.list_all()).status for _ in range(40)]


async def test_probability_is_reproducible_with_a_seed(session: aiohttp.ClientSession) -> None:
    first = await statuses_with_seed(session, 11)
    assert first == await statuses_with_seed(session, 11)
    assert first != await statuses_with_seed(session, 12)
    assert 8 < first.count(503) < 32
