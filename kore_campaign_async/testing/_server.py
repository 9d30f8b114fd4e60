"""The fake Kore server: an aiohttp.web server on a real loopback socket.

Each request goes route -> identity headers -> JWT -> rate limit -> fault -> operation. Requests
refused before the rate limit do not count toward it; rate-limited requests see no fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import socket
import ssl
import struct
import time
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType, TracebackType
from typing import Any, ClassVar, Final

from aiohttp import web
from multidict import CIMultiDict

from .._clock import Sleep, asyncio_sleep
from .._config import ACCOUNT_HEADER, AUTH_HEADER, IID_HEADER, RATE_LIMIT_MESSAGE
from ._faults import Fault, FaultPlan
from ._jwt import TokenVerifier
from ._operations import AdmittedRequest, ContactListApi, Reply, errors_reply
from ._ratelimit import RateWindows, ServerRateLimit, retry_after_headers
from ._records import RequestLog, RequestRecord
from ._routes import Route, header_problem, resolve
from ._store import ContactListStore, compact_json

_WITH_BODY: Final = frozenset({"create", "update", "add_contacts"})
# Kore's 401 code for every credential problem.
_AUTH_CODE: Final = 4002
# In-flight handlers finish in microseconds; a delayed one is woken by stop() itself.
_SHUTDOWN_TIMEOUT: Final = 2.0
# SO_LINGER on, zero seconds: close() then sends RST instead of FIN.
_LINGER_RESET: Final = struct.pack("ii", 1, 0)


class FakeKoreServer:
    """A Kore Campaign Management contact-list API on ``http://127.0.0.1:<port>``.

    ``ssl_context`` (a server-side ``ssl.SSLContext``) makes it ``https://``.

    Lists are kept per account (the ``accountId`` header). Use ``async with server:`` or
    ``start()``/``stop()``; scripts of failures go in :attr:`faults`. ``clock`` counts rate
    windows and ``sleep`` waits out a "delay" fault: give both a virtual clock's (e.g. the
    client's ``ManualClock``) and a slow Kore costs no real time.
    """

    DEFAULT_CLIENT_ID: ClassVar[str] = "cs-fake-client"
    DEFAULT_CLIENT_SECRET: ClassVar[str] = "fake-secret-0123456789abcdef0123456789"

    def __init__(
        self,
        apps: Mapping[str, str] | None = None,
        rate_limit: ServerRateLimit | None = None,
        clock: Callable[[], float] = time.monotonic,
        seed: int = 0,
        require_jti: bool = False,
        host: str = "127.0.0.1",
        ssl_context: ssl.SSLContext | None = None,
        port: int = 0,
        wall_clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio_sleep,
    ) -> None:
        known = (
            dict(apps) if apps is not None else {self.DEFAULT_CLIENT_ID: self.DEFAULT_CLIENT_SECRET}
        )
        if not known:
            raise ValueError("apps must name at least one client id")
        if type(port) is not int or not 0 <= port <= 65535:
            raise ValueError(f"port must be an integer from 0 to 65535, got {port!r}")
        #: Client id -> client secret of every app whose tokens are accepted.
        self.apps: Mapping[str, str] = MappingProxyType(known)
        self.host = host
        #: Serve HTTPS with this server-side context (e.g. trustme's); None: plain HTTP.
        self.ssl_context = ssl_context
        #: The port to listen on; 0 (the default) picks a free one (see :attr:`url`).
        self.port = port
        #: The failure script; see :class:`Fault`.
        self.faults: FaultPlan = FaultPlan(seed)
        self._seed = seed
        self._clock = clock
        self._sleep = sleep
        # Tokens' exp, nbf and iat are Unix times: checked on this clock.
        self._verifier = TokenVerifier(known, require_jti=require_jti, wall_clock=wall_clock)
        self._store = ContactListStore()
        self._api = ContactListApi(self._store)
        self._log = RequestLog()
        self._windows = None if rate_limit is None else RateWindows(rate_limit)
        self._runner: web.ServerRunner | None = None
        self._url: str | None = None
        self._stopping = asyncio.Event()

    # -- configuration -------------------------------------------------------------------------

    @property
    def client_id(self) -> str:
        """Client id of the first app."""
        return next(iter(self.apps))

    @property
    def client_secret(self) -> str:
        """Client secret of the first app."""
        return self.apps[self.client_id]

    @property
    def rate_limit(self) -> ServerRateLimit | None:
        """The per-account limit, or None for unlimited; setting it starts fresh windows."""
        return None if self._windows is None else self._windows.policy

    @rate_limit.setter
    def rate_limit(self, policy: ServerRateLimit | None) -> None:
        self._windows = None if policy is None else RateWindows(policy)

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``."""
        if self._url is None:
            raise RuntimeError("the fake server is not running")
        return self._url

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind ``port`` (0: a free one) and start answering."""
        if self._runner is not None:
            raise RuntimeError("the fake server is already running")
        self._stopping = asyncio.Event()
        runner = web.ServerRunner(
            web.Server(self._handle, access_log=None), shutdown_timeout=_SHUTDOWN_TIMEOUT
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port, ssl_context=self.ssl_context)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        port = runner.addresses[0][1]
        self._runner = runner
        scheme = "http" if self.ssl_context is None else "https"
        self._url = f"{scheme}://{self.host}:{port}"

    async def stop(self) -> None:
        """Stop listening and close every connection; requests being delayed are dropped."""
        runner, self._runner, self._url = self._runner, None, None
        if runner is None:
            return
        self._stopping.set()
        await runner.cleanup()

    async def __aenter__(self) -> FakeKoreServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- state for tests -----------------------------------------------------------------------

    def lists(self, account_id: str) -> list[dict[str, Any]]:
        """Return copies of the account's lists (full v1 documents), in creation order."""
        return [copy.deepcopy(stored.doc) for stored in self._store.lists(account_id)]

    def contacts(self, account_id: str, list_id: str) -> list[dict[str, Any]]:
        """Return copies of a list's contacts; KeyError when there is no such list."""
        stored = self._store.get(account_id, list_id)
        if stored is None:
            raise KeyError(list_id)
        return copy.deepcopy(stored.contacts)

    def seed_list(
        self,
        account_id: str,
        iid: str,
        name: str,
        description: str = "",
        *,
        source: str = "passiveApi",
        status: str = "Ready",
        allow_duplicates: bool = False,
        campaign_in_use: Iterable[Mapping[str, Any]] = (),
        contacts: int = 0,
    ) -> dict[str, Any]:
        """Store a list directly (e.g. one uploaded in the UI) and return a copy of it.

        ``contacts`` adds that many contacts with distinct phone numbers. A list with
        ``campaign_in_use`` (``[{"id": ..., "name": ...}]``) is in use and cannot be deleted.
        """
        fields = {
            "name": name,
            "description": description,
            "source": source,
            "status": status,
            "allowDuplicates": allow_duplicates,
        }
        stored = self._store.create(account_id, iid, fields, campaign_in_use=campaign_in_use)
        if contacts:
            numbers = ({"phoneNumber": f"+1555{number:07d}"} for number in range(contacts))
            self._store.add_contacts(stored, numbers)
        return copy.deepcopy(stored.doc)

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request seen, oldest first."""
        return self._log.snapshot()

    def count(
        self,
        operation: str | None = None,
        account_id: str | None = None,
        status: int | None = None,
    ) -> int:
        """Count the requests seen that match every filter given."""
        return self._log.count(operation, account_id, status)

    def reset(self) -> None:
        """Forget lists, faults, records and rate windows; keep apps and the rate limit."""
        self._store.clear()
        self.faults.clear()
        self.faults.reseed(self._seed)
        self._log.clear()
        self.rate_limit = self.rate_limit

    # -- request handling ----------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        route = resolve(request.method, request.path)
        account_id = request.headers.get(ACCOUNT_HEADER)
        at = self._clock()
        ticket = self._log.open(
            RequestRecord(
                at=at,
                method=request.method,
                path=request.path,
                operation=None if route is None else route.operation,
                account_id=account_id,
                status=None,
                fault=None,
            )
        )
        fault: Fault | None = None
        response: web.StreamResponse | None
        if route is None:
            response = web.Response(status=404, text="404: Not Found")
        else:
            refusal = self._refusal(request, route, at)
            if refusal is not None:
                response = _encode(refusal)
            else:
                fault = self.faults.pick(route.operation, account_id) if self.faults else None
                response = await self._serve(request, route, fault)
        self._log.settle(
            ticket,
            status=None if response is None else response.status,
            fault=None if fault is None else fault.kind,
        )
        if response is None:
            return _drop(request, reset=fault is not None and fault.kind == "reset")
        return response

    def _refusal(self, request: web.BaseRequest, route: Route, at: float) -> Reply | None:
        """Return the answer to a request refused before any fault or operation, or None."""
        problem = header_problem(route, request.headers, request.query)
        if problem is not None:
            return errors_reply(400, problem, 412)
        problem = self._verifier.problem(request.headers[AUTH_HEADER])
        if problem is not None:
            return errors_reply(401, problem, _AUTH_CODE)
        windows = self._windows
        if windows is None:
            return None
        wait = windows.admit(request.headers[ACCOUNT_HEADER], at)
        if wait is None:
            return None
        policy = windows.policy
        refusal = errors_reply(policy.status, RATE_LIMIT_MESSAGE, 429)
        return Reply(refusal.status, refusal.body, retry_after_headers(policy, wait))

    async def _serve(
        self, request: web.BaseRequest, route: Route, fault: Fault | None
    ) -> web.StreamResponse | None:
        """Answer an admitted request under ``fault``; None means drop the connection."""
        kind = None if fault is None else fault.kind
        if fault is not None:
            if kind == "status":
                return _encode(Reply(fault.status, fault.error_body(), fault.headers))
            if kind == "echo_auth":
                return _encode(_echo_auth(fault, request.headers.get(AUTH_HEADER, "")))
            if kind == "reset" or (kind == "delay" and await self._stopped_during(fault.delay)):
                return None
        body = await request.read() if route.operation in _WITH_BODY else b""
        call = AdmittedRequest(
            route,
            account_id=request.headers[ACCOUNT_HEADER],
            iid=request.headers[IID_HEADER],
            query=request.query,
            body=body,
        )
        reply = self._api.answer(call)
        if kind == "commit_then_drop":
            return None
        if fault is not None and fault.kind == "commit_then_answer":
            return _encode(Reply(fault.status, fault.error_body(), fault.headers))
        if kind == "malformed_json":
            whole = _json_bytes(reply.body)
            return web.Response(body=whole[: len(whole) // 2], content_type="application/json")
        return _encode(reply)

    async def _stopped_during(self, seconds: float) -> bool:
        """Wait ``seconds``; return True early if the server is stopping meanwhile."""
        stopping = asyncio.ensure_future(self._stopping.wait())
        nap = asyncio.ensure_future(self._sleep(seconds))
        try:
            await asyncio.wait((stopping, nap), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in (stopping, nap):
                waiting.cancel()
            await asyncio.gather(stopping, nap, return_exceptions=True)
        return self._stopping.is_set()


def _json_bytes(body: Any) -> bytes:
    return body if isinstance(body, bytes) else compact_json(body)


def _echo_auth(fault: Fault, token: str) -> Reply:
    message = f"rejected auth header {token}"
    body = {"errors": [{"msg": message, "code": fault.status}], "request": {"auth": token}}
    return Reply(fault.status, body, {**fault.headers, "X-Echo-Auth": token})


def _encode(reply: Reply) -> web.Response:
    headers = CIMultiDict(reply.headers)
    if isinstance(reply.body, str):
        data = reply.body.encode()
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
    else:
        data = _json_bytes(reply.body)
        headers.setdefault("Content-Type", "application/json")
    return web.Response(status=reply.status, body=data, headers=headers)


def _drop(request: web.BaseRequest, *, reset: bool) -> web.StreamResponse:
    """Close the connection without answering.

    The response returned is never sent: writing to the aborted transport fails, and aiohttp
    treats that as a client disconnect (debug log only).
    """
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if reset and sock is not None:
            # Where the platform's linger struct differs (Windows), a plain close still drops.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        transport.abort()
    return web.Response(status=500)
