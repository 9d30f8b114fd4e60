"""Starting, stopping and inspecting the fake server."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from kore_campaign_async.testing import FakeKoreServer, Fault, RequestRecord
from tests.helpers.clock import FakeClock
from tests.helpers.fake_server import ACCOUNT, IID, V2, Kore, settle


async def test_start_binds_an_ephemeral_loopback_port() -> None:
    server = FakeKoreServer()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
    await server.start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        assert int(server.url.rsplit(":", 1)[1]) > 0
        with pytest.raises(RuntimeError, match="already running"):
            await server.start()
    finally:
        await server.stop()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
    await server.stop()  # stopping twice is harmless


async def test_port_picks_the_port_and_a_restart_keeps_it() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = FakeKoreServer(port=port)
    for _ in range(2):
        async with server:
            assert server.url == f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("port", [-1, 65536, 80.0, "80"])
def test_a_port_out_of_range_is_refused(port: object) -> None:
    with pytest.raises(ValueError, match=f"port must be an integer from 0 to 65535, got {port!r}"):
        FakeKoreServer(port=port)  # type: ignore[arg-type]


async def test_stop_leaves_nothing_open(session: aiohttp.ClientSession) -> None:
    async with FakeKoreServer() as server:
        kore = Kore(session, server)
        await kore.create("Kept alive")  # leaves a pooled keep-alive connection
        url = server.url
    assert asyncio.all_tasks() == {asyncio.current_task()}
    with pytest.raises(aiohttp.ClientConnectionError):
        await session.get(url + "/")


async def test_a_stopped_server_can_start_again_and_keeps_its_lists(
    session: aiohttp.ClientSession,
) -> None:
    server = FakeKoreServer()
    async with server:
        await Kore(session, server).create("Survivor")
    async with server:
        answer = await Kore(session, server).list_all()
        assert [item["name"] for item in answer.body["data"]] == ["Survivor"]


async def test_requests_are_recorded_in_order(
    kore: Kore, server: FakeKoreServer, server_clock: FakeClock
) -> None:
    server_clock.now = 5.0
    list_id = (await kore.create("Recorded")).body["data"]["_id"]
    server_clock.now = 6.5
    await kore.op("GET", "v2", f"/{list_id}", account="acc-2")
    server.faults.add(Fault("status", status=500))
    await kore.list_all()
    assert server.requests == [
        RequestRecord(5.0, "POST", f"{V2}/createContactList", "create", ACCOUNT, 200, None),
        RequestRecord(6.5, "GET", f"{V2}/{list_id}", "get", "acc-2", 404, None),
        RequestRecord(6.5, "POST", f"{V2}/getAllListDetails", "list", ACCOUNT, 500, "status"),
    ]
    assert server.count() == 3
    assert server.count(operation="create") == 1
    assert server.count(account_id=ACCOUNT) == 2
    assert server.count(status=404) == 1
    assert server.count(operation="list", account_id=ACCOUNT, status=500) == 1
    assert server.count(operation="list", status=200) == 0


async def test_lists_and_contacts_are_copies(server: FakeKoreServer) -> None:
    seeded = server.seed_list(ACCOUNT, IID, "Seeded", "about", contacts=2, allow_duplicates=True)
    assert seeded["description"] == "about"
    assert seeded["allowDuplicates"] is True
    assert seeded["totalRecordCount"] == 2
    server.lists(ACCOUNT)[0]["name"] = "changed"
    server.contacts(ACCOUNT, seeded["_id"])[0]["phoneNumber"] = "changed"
    seeded["mapping"]["phoneNumber"] = "changed"
    (stored,) = server.lists(ACCOUNT)
    assert stored["name"] == "Seeded"
    assert stored["mapping"]["phoneNumber"] == "phoneNumber"
    phones = [c["phoneNumber"] for c in server.contacts(ACCOUNT, seeded["_id"])]
    assert len(set(phones)) == 2
    assert "changed" not in phones
    with pytest.raises(KeyError):
        server.contacts(ACCOUNT, "cl-missing")
    assert server.lists("nobody") == []


def test_seed_list_refuses_a_taken_name() -> None:
    server = FakeKoreServer()
    server.seed_list(ACCOUNT, IID, "Twice")
    with pytest.raises(ValueError, match="already exists"):
        server.seed_list(ACCOUNT, IID, "TWICE")


async def test_reset_forgets_lists_faults_and_records(kore: Kore, server: FakeKoreServer) -> None:
    await kore.create("Forgotten")
    server.faults.add(Fault("status"))
    server.reset()
    assert server.lists(ACCOUNT) == []
    assert server.requests == []
    assert len(server.faults) == 0
    assert (await kore.create("Forgotten")).status == 200


async def test_records_keep_arrival_order_when_answers_overtake(
    kore: Kore, server: FakeKoreServer, server_clock: FakeClock
) -> None:
    server.faults.add(Fault("delay", operation="create", delay=0.05))
    slow = asyncio.ensure_future(kore.create("Slow"))
    await settle(lambda: server.count() == 1)
    server_clock.advance(1.0)
    assert (await kore.list_all()).status == 200
    assert [(r.operation, r.status) for r in server.requests] == [("create", None), ("list", 200)]
    assert (await slow).status == 200
    assert [(r.operation, r.at, r.status, r.fault) for r in server.requests] == [
        ("create", 1_000.0, 200, "delay"),
        ("list", 1_001.0, 200, None),
    ]


async def test_a_request_in_flight_during_reset_does_not_reappear(
    kore: Kore, server: FakeKoreServer
) -> None:
    server.faults.add(Fault("delay", operation="create", delay=0.05))
    slow = asyncio.ensure_future(kore.create("Slow"))
    await settle(lambda: server.count() == 1)
    server.reset()
    assert (await slow).status == 200
    assert server.requests == []
