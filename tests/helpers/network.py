"""A real TLS fake Kore server with a CA of its own (trustme), and a real CONNECT proxy."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import AsyncIterator

import pytest
import trustme

from kore_campaign_async.testing import FakeKoreServer

#: The name the client asks for: only the proxy knows where it is (no DNS lookup is made).
KORE_NAME = "kore.test"
KORE_HOST = f"https://{KORE_NAME}"


class ConnectProxy:
    """An HTTP proxy on loopback that tunnels CONNECT to one upstream, whatever host is asked.

    It records every CONNECT line and every byte it carries both ways, so a test can check
    what the proxy could read. With ``credentials`` it answers 407 to a CONNECT without them.
    """

    def __init__(self, upstream: tuple[str, int], credentials: str | None = None) -> None:
        self.upstream = upstream
        self.credentials = credentials
        self.connects: list[str] = []
        self.seen = bytearray()
        self.refused = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.seen += head
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            if method != "CONNECT":
                writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            self.connects.append(target)
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in header_lines if line)
            }
            if self.credentials is not None:
                wanted = "Basic " + base64.b64encode(self.credentials.encode()).decode()
                if headers.get("proxy-authorization") != wanted:
                    self.refused += 1
                    writer.write(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                        b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n'
                    )
                    return
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            self._writers.add(up_writer)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)
            self._tasks.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while block := await reader.read(65536):
                self.seen += block
                writer.write(block)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                writer.write_eof()
            writer.close()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """The private CA that signed the TLS server's certificate (and the client's, for mTLS)."""
    return trustme.CA()


@pytest.fixture
def trusting(ca: trustme.CA) -> ssl.SSLContext:
    """A client context that trusts ``ca``: what ``ssl.create_default_context(cafile=...)``
    makes of a company's CA bundle."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def server_context(ca: trustme.CA, *, client_certs: bool = False) -> ssl.SSLContext:
    """The TLS server's context: a certificate for ``KORE_NAME``; optionally mTLS."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(KORE_NAME, "127.0.0.1").configure_cert(context)
    if client_certs:
        context.verify_mode = ssl.CERT_REQUIRED
        ca.configure_trust(context)
    return context


@pytest.fixture
async def tls_server(ca: trustme.CA) -> AsyncIterator[FakeKoreServer]:
    """The fake Kore server behind TLS, with a certificate from ``ca``."""
    async with FakeKoreServer(ssl_context=server_context(ca)) as fake:
        yield fake


def upstream(server: FakeKoreServer) -> tuple[str, int]:
    host, port = server.url.removeprefix("https://").rsplit(":", 1)
    return host, int(port)


@pytest.fixture
async def proxy(tls_server: FakeKoreServer) -> AsyncIterator[ConnectProxy]:
    """A CONNECT proxy in front of ``tls_server``."""
    running = ConnectProxy(upstream(tls_server))
    await running.start()
    yield running
    await running.stop()
