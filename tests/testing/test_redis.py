"""The throwaway redis-server the shared-quota tests and the demo start."""

from __future__ import annotations

from pathlib import Path

from kore_campaign_async.testing._redis import RedisServer


def test_a_first_start_moves_off_a_port_another_server_took_and_a_restart_keeps_it(
    redis_server: RedisServer,
    tmp_path: Path,
) -> None:
    taker = redis_server
    mine = RedisServer(taker.binary, tmp_path)
    mine.port = taker.port  # picked while free; taken by the time it starts
    try:
        mine.start()
        assert mine.port != taker.port  # not fooled by the other server's answers
        assert mine.running
        assert taker.running
        port = mine.port
        mine.restart()
        assert mine.port == port
        assert mine.running
    finally:
        mine.kill()
