"""The fake Kore server in a child process, driven by JSON lines over its stdin and stdout.

A child process, not a task in the benchmark's own loop: on two cores the server then has a
core of its own, ``time.process_time()`` in the parent counts client CPU alone, and a busy
server never delays the client's pacing timers. ``time.monotonic`` is system-wide, so the
arrival times the server records compare directly with the parent's clock.

Protocol (one JSON object per line, one answer per command): the child first prints
``{"url", "client_id", "client_secret"}``; then ``configure`` (forget everything, set the rate
limit and faults), ``summary`` (list names per account and every request record) and ``stop``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import attrs

from kore_campaign_async.testing import FakeKoreServer, Fault, ServerRateLimit

# The child is started from the repository root, so `benchmarks` imports from any cwd.
_ROOT = Path(__file__).resolve().parent.parent
# A server that does not answer a control command within this long is stuck.
_CONTROL_TIMEOUT = 120.0


@attrs.frozen
class Record:
    """One request as the server saw it (a compact RequestRecord)."""

    at: float
    operation: str | None
    account_id: str | None
    status: int | None
    fault: str | None


@attrs.frozen
class Summary:
    """What the server holds and saw since the last ``configure``."""

    lists: dict[str, list[str]]
    """Account id -> names of its lists, in creation order."""
    records: list[Record]


class ServerProcess:
    """Start, configure, inspect and stop a FakeKoreServer running in a child process."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._server"],
            cwd=_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._own_cpus = _affinity()
        self.pinned = self._pin()
        hello = self._read()
        self.url: str = hello["url"]
        self.client_id: str = hello["client_id"]
        self.client_secret: str = hello["client_secret"]

    def _pin(self) -> bool:
        """Give the server the last CPU and the client the others, where the OS allows it.

        Two processes that the scheduler moves between the same two cores measure each
        other's cache misses and migrations; pinned, each has a core of its own.
        """
        cpus = self._own_cpus
        if cpus is None or len(cpus) < 2:
            return False
        server_cpu = max(cpus)
        try:
            os.sched_setaffinity(self._proc.pid, {server_cpu})
            os.sched_setaffinity(0, cpus - {server_cpu})
        except OSError:
            return False
        return True

    def configure(
        self,
        rate_limit: ServerRateLimit | None = None,
        faults: Sequence[Mapping[str, Any]] = (),
        *,
        forget: bool = True,
    ) -> None:
        """Set the rate limit and the fault rules; first forget lists, records and windows.

        ``faults`` are keyword arguments of ``Fault`` (plain data, so they travel as JSON).
        With ``forget=False`` the lists and records stay and only the old faults go.
        """
        limit = None if rate_limit is None else attrs.asdict(rate_limit)
        command = {"cmd": "configure", "rate_limit": limit, "faults": list(faults)}
        self._call({**command, "forget": forget})

    def summary(self, accounts: Sequence[str]) -> Summary:
        """Return the lists of ``accounts`` and every request record."""
        answer = self._call({"cmd": "summary", "accounts": list(accounts)})
        records = [Record(*row) for row in answer["records"]]
        return Summary(lists=answer["lists"], records=records)

    def cpu(self) -> float:
        """Return the CPU seconds the server process has used so far."""
        seconds: float = self._call({"cmd": "cpu"})["cpu"]
        return seconds

    def stop(self) -> None:
        """Stop the server and wait for the child to exit (killing it if it hangs)."""
        if self.pinned and self._own_cpus is not None:
            os.sched_setaffinity(0, self._own_cpus)  # give the caller its CPUs back
            self.pinned = False
        if self._proc.poll() is not None:
            return
        try:
            self._call({"cmd": "stop"})
            self._proc.wait(timeout=10)
        except (OSError, ValueError, subprocess.TimeoutExpired, RuntimeError):
            self._proc.kill()
            self._proc.wait()
        finally:
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    stream.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _call(self, command: dict[str, Any]) -> dict[str, Any]:
        stdin = self._stream(self._proc.stdin)
        stdin.write(json.dumps(command) + "\n")
        stdin.flush()
        return self._read()

    def _read(self) -> dict[str, Any]:
        line = self._stream(self._proc.stdout).readline()
        if not line:
            raise RuntimeError(f"the benchmark server exited (code {self._proc.poll()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    @staticmethod
    def _stream(stream: IO[str] | None) -> IO[str]:
        if stream is None:  # pragma: no cover - both pipes are always requested
            raise RuntimeError("the benchmark server has no control pipe")
        return stream


def _affinity() -> set[int] | None:
    """The CPUs this process may run on, or None where the OS does not say (not Linux)."""
    getter = getattr(os, "sched_getaffinity", None)
    return None if getter is None else set(getter(0))


# -- the child ---------------------------------------------------------------------------------


def _apply(server: FakeKoreServer, command: Mapping[str, Any]) -> dict[str, Any]:
    name = command["cmd"]
    if name == "configure":
        if command["forget"]:
            server.reset()
        server.faults.clear()
        limit = command["rate_limit"]
        server.rate_limit = None if limit is None else ServerRateLimit(**limit)
        server.faults.add_many(Fault(**spec) for spec in command["faults"])
        return {"ok": True}
    if name == "summary":
        lists = {
            account: [doc["name"] for doc in server.lists(account)]
            for account in command["accounts"]
        }
        records = [(r.at, r.operation, r.account_id, r.status, r.fault) for r in server.requests]
        return {"lists": lists, "records": records}
    if name == "cpu":
        return {"cpu": time.process_time()}
    raise ValueError(f"unknown command {name!r}")


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    async with FakeKoreServer() as server:
        _send(
            {
                "url": server.url,
                "client_id": server.client_id,
                "client_secret": server.client_secret,
            }
        )
        while True:
            # A thread reads the pipe so the server keeps answering while we wait.
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            command = json.loads(line)
            if command["cmd"] == "stop":
                _send({"ok": True})
                return
            _send(_apply(server, command))


def _send(answer: Mapping[str, Any]) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(_serve())
