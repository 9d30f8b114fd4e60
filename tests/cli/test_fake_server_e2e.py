"""``kore-campaign fake-server``: another process (here the CLI itself) works against it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket

import kore_campaign_async as kca
from tests.helpers.cli import RUN_TIMEOUT, run_cli, start_cli


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_it_prints_how_to_reach_it_serves_other_processes_and_stops_on_ctrl_c() -> None:
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("KORE_")}
    server = await start_cli("fake-server", "--port", str(port), env=env)
    try:
        assert server.stdout is not None
        lines = [
            (await asyncio.wait_for(server.stdout.readline(), RUN_TIMEOUT)).decode().strip()
            for _ in range(5)
        ]
        assert lines[0] == (
            f"Fake Kore server on http://127.0.0.1:{port} (no rate limit); Ctrl-C stops it."
        )
        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in lines[1:4]
            if line.startswith("export ")
        )
        assert exports["KORE_HOST"] == f"http://127.0.0.1:{port}"
        user = {**env, **exports, "KORE_ACCOUNT_ID": "acct-1", "KORE_IID": "st-app-1"}
        created = await run_cli("create", "From another process", env=user)
        assert created.code == 0, created.err
        async with kca.CampaignClient.from_env(env=user) as client:
            [made] = await client.account("acct-1", iid="st-app-1").contact_lists.list()
        assert made.name == "From another process"
        server.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(server.communicate(), RUN_TIMEOUT)
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
    assert server.returncode == 0, err.decode()
    assert out.decode().strip() == "Fake Kore server stopped."


async def test_a_bad_port_is_a_usage_error() -> None:
    run = await run_cli("fake-server", "--port", "70000", env=dict(os.environ))
    assert run.code == 2
    assert "--port: must be from 0 to 65535, got 70000" in run.err
