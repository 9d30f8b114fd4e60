"""The FastAPI recipe under real uvicorn with three worker processes, sharing one account.

The fake Kore server runs in this test's process and counts what it refuses; the workers reach
it over loopback, and reach a real redis-server when ``KORE_REDIS_URL`` is set. Compressed time:
the account's limit is 60 requests a second, on the server and in every worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import attrs
import pytest

from kore_campaign_async.testing import FakeKoreServer, ServerRateLimit

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "acct-workers"
WORKERS = 3
REQUESTS = 100
#: Three spawned workers start in a few seconds; this bounds a hang on a loaded machine.
START_TIMEOUT = 90.0
STARTED = "Application startup complete."


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@attrs.frozen
class Uvicorn:
    url: str
    startup_log: list[str]


@pytest.fixture
async def kore() -> AsyncIterator[FakeKoreServer]:
    async with FakeKoreServer(rate_limit=ServerRateLimit(limit=60, window=1.0)) as server:
        yield server


@contextlib.asynccontextmanager
async def _serve(
    kore: FakeKoreServer, redis: str | None, per_second: int = 60
) -> AsyncIterator[Uvicorn]:
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("KORE_")}
    env.update(
        KORE_HOST=kore.url,
        KORE_CLIENT_ID=kore.client_id,
        KORE_CLIENT_SECRET=kore.client_secret,
        KORE_ACCOUNT_ID=ACCOUNT,
        KORE_IID="st-workers",
        KORE_RATE_LIMIT=str(per_second),
        KORE_RATE_PERIOD="1",  # a second, as the server counts
        **({} if redis is None else {"KORE_REDIS_URL": redis}),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "uvicorn", "examples.fastapi_app:app", "--workers", str(WORKERS)),
        *("--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    stderr = process.stderr
    assert stderr is not None
    log: list[str] = []

    async def started() -> None:
        while sum(STARTED in line for line in log) < WORKERS:
            line = (await stderr.readline()).decode()
            assert line, "uvicorn exited:\n" + "".join(log)
            log.append(line)

    try:
        await asyncio.wait_for(started(), START_TIMEOUT)
        yield Uvicorn(f"http://127.0.0.1:{port}", log)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)  # graceful: each lifespan closes its client
        _, rest = await asyncio.wait_for(process.communicate(), START_TIMEOUT)
    shutdown = rest.decode()
    assert "Traceback" not in shutdown, shutdown


async def _create_lists(url: str, requests: int = REQUESTS) -> list[int]:
    async with aiohttp.ClientSession(url) as http:

        async def create(n: int) -> int:
            async with http.post("/lists", json={"name": f"Store {n}"}) as answer:
                return answer.status

        return list(await asyncio.gather(*(create(n) for n in range(requests))))


async def test_three_workers_sharing_the_quota_through_redis_draw_no_429(
    kore: FakeKoreServer, redis_url: str
) -> None:
    async with _serve(kore, redis_url) as uvicorn:
        statuses = await _create_lists(uvicorn.url)
    mode = [line for line in uvicorn.startup_log if "Kore quota for account" in line]
    assert len(mode) == WORKERS
    assert all("shared through Redis (KORE_REDIS_URL) by every worker" in line for line in mode)
    assert statuses == [201] * REQUESTS  # no 503 to a caller either
    assert kore.count(operation="create", status=429) == 0
    assert kore.count(operation="create") == REQUESTS
    assert len(kore.lists(ACCOUNT)) == REQUESTS


async def test_without_redis_each_worker_paces_alone_and_the_server_refuses_some() -> None:
    # The control: the same app without KORE_REDIS_URL overshoots the account's limit. At 20 a
    # second, so that even a loaded machine offers the workers' sum (up to 60 a second): each
    # worker alone stops overshooting after its first 429, so a run draws a handful.
    async with (
        FakeKoreServer(rate_limit=ServerRateLimit(limit=20, window=1.0)) as kore,
        _serve(kore, None, per_second=20) as uvicorn,
    ):
        await _create_lists(uvicorn.url, requests=60)
    mode = [line for line in uvicorn.startup_log if "Kore quota for account" in line]
    assert len(mode) == WORKERS
    assert all("paced in this process only" in line for line in mode)
    assert kore.count(operation="create", status=429) > 0
