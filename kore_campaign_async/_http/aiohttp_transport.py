"""The one module of the SDK that touches aiohttp: one session per client, one attempt per send.

It maps aiohttp's exceptions onto ours and says whether the request may have reached the
server (``request_sent``), which decides whether a retried create must look before it leaps.
An aiohttp error is chained (``__cause__``) only when nothing in it holds the request's
headers: ``ClientResponseError.request_info`` carries our ``auth`` token, and a chained
exception ends up in every logged traceback and error report.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Mapping

import aiohttp
from aiohttp import hdrs

from .._config import USER_AGENT
from .._exceptions import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    KoreError,
    ResponseTooLargeError,
)
from .gate import loop_mismatch
from .network import Network
from .transport import HttpRequest, RawResponse, sent_token

# Compact and UTF-8: names with accents travel as themselves, not \\u escapes. Built once:
# json.dumps() with any non-default option builds a new encoder on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_JSON = {"Content-Type": "application/json"}


def _safe_cause(error: BaseException, *secrets: str | None) -> BaseException | None:
    """Return ``error`` to chain if nothing in it exposes a request header or a secret.

    What is chained loses its tracebacks (and those of the errors it chains): error reporters
    record the locals of every frame in them, and aiohttp's frames hold the request's headers.
    """
    chain: list[BaseException] = []
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if any(current is seen for seen in chain):
            continue
        # request_info (ClientResponseError and kin) holds every header we sent; a connector
        # error's connection key holds the proxy's credentials.
        shown = repr(current.args) + repr(getattr(current, "_conn_key", None))
        if hasattr(current, "request_info") or any(s and s in shown for s in secrets):
            return None
        chain.append(current)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    for current in chain:
        current.__traceback__ = None
    return error


def _connection_failure(
    error: Exception, request: HttpRequest, proxy_password: str | None
) -> tuple[APIConnectionError, BaseException | None]:
    """Map an aiohttp (or any other) error onto ours, and the cause that may safely be chained.

    Whatever aiohttp, asyncio or the stdlib raise below us (a ``UnicodeError`` from the IDNA
    codec, a ``ValueError`` from a header check) becomes an ``APIConnectionError``: only a
    ``KoreError`` leaves the transport. Nobody knows whether such a request got out, so it says
    it may have (``request_sent``), and a create looks before it leaps.
    """
    method, url = request.method, request.url
    reason = _unsent_reason(error)
    if reason is not None:
        failure = APIConnectionError(
            f"{method} {url}: {reason}", method=method, url=url, request_sent=False
        )
    else:
        failure = APIConnectionError(
            f"{method} {url}: connection failed ({_describe(error, sent_token(request))})",
            method=method,
            url=url,
        )
    return failure, _safe_cause(error, sent_token(request), proxy_password)


def _unsent_reason(error: Exception) -> str | None:
    """Say why no request reached Kore, or None when it may have."""
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        problem = _certificate_problem(error.certificate_error)
        return (
            f"TLS certificate verification failed ({problem}); trust the server's CA with "
            "ssl=ssl.create_default_context(cafile=...)"
        )
    if isinstance(error, aiohttp.ClientProxyConnectionError):
        return f"cannot connect to the proxy ({error.os_error.__class__.__name__})"
    if isinstance(error, aiohttp.ClientHttpProxyError):
        # The proxy refused the tunnel (407, 403, 502...): nothing reached Kore.
        return f"the proxy refused the connection ({error.status})"
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"cannot connect ({error.os_error.__class__.__name__})"
    return None


def _certificate_problem(error: BaseException) -> str:
    """Say what was wrong with the certificate, as OpenSSL put it."""
    return getattr(error, "verify_message", None) or type(error).__name__


def _describe(error: BaseException, secret: str) -> str:
    """Name an aiohttp error for our message, with the status and text a response error has."""
    text = type(error).__name__
    if isinstance(error, aiohttp.ClientResponseError):
        # Withhold the whole message rather than splice it: a short token would otherwise
        # mangle ordinary words, and a partial message is no help to anyone.
        message = error.message
        if secret and secret in message:
            message = "<message withheld: it contained the auth token>"
        text = f"{text}: {error.status} {message}"
    return text


def _too_large(request: HttpRequest, status: int, size: str) -> ResponseTooLargeError:
    limit = request.max_response_bytes or 0
    bound = f"max_response_bytes ({limit})" if limit else "what can be read"
    return ResponseTooLargeError(
        f"{status} {request.method} {request.url}: {size} is larger than {bound}; not read",
        limit=limit,
        method=request.method,
        url=request.url,
        status=status,
    )


async def _read_body(response: aiohttp.ClientResponse, request: HttpRequest) -> bytes:
    """Read the whole answer, or refuse one longer than ``request.max_response_bytes``.

    Content-Length refuses before reading; the count of bytes read catches what it does not
    announce (chunked answers, and compressed ones, counted as aiohttp inflates them). A
    compression bomb that inflates past aiohttp's own cap is refused the same way, not taken
    for a broken connection (which would be retried, the bomb downloaded again).
    """
    limit = request.max_response_bytes
    declared = response.content_length
    if limit is not None and declared is not None and declared > limit:
        raise _too_large(request, response.status, f"answer of {declared} bytes")
    try:
        if limit is None or (
            declared is not None and hdrs.CONTENT_ENCODING not in response.headers
        ):
            return await response.read()  # aiohttp reads no more than the length declared
        blocks: list[bytes] = []
        size = 0
        while block := await response.content.readany():
            size += len(block)
            if size > limit:
                raise _too_large(request, response.status, f"answer of more than {limit} bytes")
            blocks.append(block)
        return b"".join(blocks)
    except aiohttp.ClientPayloadError as exc:
        if not _inflated_too_far(exc):
            raise
    # aiohttp inflates each piece read up to a fixed cap (32 MiB) before we may count it.
    raise _too_large(request, response.status, "compressed answer inflating past aiohttp's cap")


def _inflated_too_far(error: BaseException) -> bool:
    """Whether aiohttp refused to inflate an answer further (aiohttp >= 3.12.14 caps it)."""
    refused = getattr(aiohttp.http_exceptions, "DecompressSizeError", None)
    pending: list[BaseException] = [error]
    for _ in range(8):  # a cause chain is short; a cycle must not spin
        if not pending:
            return False
        current = pending.pop()
        if refused is not None and isinstance(current, refused):
            return True
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return False


def _scrub(cancelled: asyncio.CancelledError) -> asyncio.CancelledError:
    """Return the cancellation with no frames below ours and nothing chained.

    It propagates to whoever cancelled the call (``asyncio.timeout`` makes it the context of
    its TimeoutError), and aiohttp's frames below keep the request's headers as locals.
    """
    cancelled.__traceback__ = None
    cancelled.__context__ = cancelled.__cause__ = None
    return cancelled


def _no_silent_resend(session: aiohttp.ClientSession) -> None:
    """Switch off aiohttp's own resend of a request on a dropped kept-alive connection."""
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False


class AiohttpTransport:
    """Send single HTTP attempts over one reused ``aiohttp.ClientSession``."""

    def __init__(
        self, session: aiohttp.ClientSession | None = None, network: Network | None = None
    ) -> None:
        """Send over ``session``, or over a session of our own that reaches Kore by ``network``.

        aiohttp silently resends GET/PUT/DELETE once when a kept-alive connection drops. That
        second request escapes the account limiter, the attempt count and the lost-answer
        bookkeeping (a resent DELETE answers 404 for a list it just deleted), so our retry
        layer must be the only one: it is switched off on a caller's session too (for every
        request sent through it). There is no public switch for it.
        """
        if session is not None:
            _no_silent_resend(session)
        self._session = session
        self._owns_session = session is None
        self._network = network or Network()
        proxy = self._network.proxy
        self._proxy = None if proxy is None else proxy.url
        # Sent as a header: aiohttp 3.14.5 deprecates its proxy_auth (and BasicAuth).
        self._proxy_headers: dict[str, str] | None = None
        self._proxy_password = None if proxy is None else proxy.password
        if proxy is not None and proxy.login is not None:
            self._proxy_headers = {"Proxy-Authorization": _basic(proxy.login, proxy.password)}
        self._closed = False
        # A session belongs to the loop it was made on: the caller's, or ours at first use.
        self._loop: asyncio.AbstractEventLoop | None = getattr(session, "_loop", None)

    @property
    def connection_limit(self) -> int | None:
        """The most requests this transport has on the wire at once: the connection pool of
        the caller's session (its connector's ``limit``, or ``limit_per_host`` if lower: every
        request goes to one host). None when unbounded, as the session of our own is."""
        connector = None if self._session is None else self._session.connector
        if connector is None:
            return None
        bounds = [limit for limit in (connector.limit, connector.limit_per_host) if limit > 0]
        return min(bounds, default=None)

    def _open_session(self) -> aiohttp.ClientSession:
        """Return the session to send with, made now if need be, or raise why there is none."""
        if self._closed:
            raise ClientClosedError("the client is closed; create a new CampaignClient")
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise loop_mismatch()
        if self._session is not None and self._session.closed:
            raise ClientClosedError(
                "the aiohttp session given as session= is closed; keep it open while the "
                "client is in use"
            )
        if self._session is None:
            # Made lazily so the client can be built outside a running loop.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, ssl=self._network.ssl),
                # A caller's session keeps its own default User-Agent.
                headers={"User-Agent": USER_AGENT},
                # Kore authenticates by header. One session serves every account, so a cookie
                # one account's answer set would ride along on another account's requests.
                cookie_jar=aiohttp.DummyCookieJar(),
                # Proxies come from the Network (which read the environment if asked), and
                # .netrc is never read: its password would ride along to Kore.
                trust_env=False,
            )
            _no_silent_resend(self._session)
        return self._session

    async def send(self, request: HttpRequest) -> RawResponse:
        """Send one request and read the whole answer (up to its limit); never retries."""
        session = self._session
        if (
            session is None
            or session.closed
            or self._closed
            or self._loop is not asyncio.get_running_loop()
        ):
            session = self._open_session()
        data = None if request.json is None else _ENCODER.encode(request.json).encode()
        timeout = request.timeout
        # Raised after the except blocks, so an unsafe aiohttp error is not even __context__.
        # No local holds the headers or the token: error reporters record every frame's locals.
        failure: APIConnectionError
        cause: BaseException | None = None
        try:
            # Awaited, then entered: the same release as ``async with session.request()``
            # (ClientResponse.__aexit__), without its wrapper and coroutine kept alive for
            # as long as the request waits for a socket.
            response = await session.request(
                request.method,
                request.url,
                params=request.params,
                data=data,
                headers=_headers(request, data is not None, self._proxy_headers),
                timeout=aiohttp.ClientTimeout(
                    total=timeout.total, sock_connect=timeout.connect, connect=timeout.connect
                ),
                allow_redirects=False,
                proxy=self._proxy,
                proxy_headers=self._proxy_headers,
            )
            async with response:
                body = await _read_body(response, request)
                return RawResponse(response.status, response.headers, body)
        except asyncio.CancelledError as cancelled:
            raise _scrub(cancelled) from None
        except aiohttp.ConnectionTimeoutError:
            failure = APITimeoutError(
                f"{request.method} {request.url}: connect timed out",
                method=request.method,
                url=request.url,
                request_sent=False,
            )
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
            cut = " (cut at the call's deadline)" if request.cut_at_deadline else ""
            failure = APITimeoutError(
                f"{request.method} {request.url}: timed out waiting for the answer{cut}",
                method=request.method,
                url=request.url,
            )
        except KoreError:  # ours, e.g. ResponseTooLargeError
            raise
        except Exception as exc:  # aiohttp's, and anything below it: see _connection_failure
            failure, cause = _connection_failure(exc, request, self._proxy_password)
        raise failure from cause

    async def aclose(self) -> None:
        """Close the session if we made it; a caller's session stays open."""
        if self._closed:
            return
        self._closed = True
        if self._session is not None and self._owns_session:
            await self._session.close()


def _basic(login: str, password: str | None) -> str:
    """Return the ``Proxy-Authorization`` value of Basic credentials (RFC 7617, UTF-8)."""
    return "Basic " + base64.b64encode(f"{login}:{password or ''}".encode()).decode("ascii")


def _headers(
    request: HttpRequest, json_body: bool, proxy_headers: dict[str, str] | None
) -> Mapping[str, str]:
    """Return the headers to send: the request's, its JSON content type, and for a plain-http
    URL the proxy's credentials (aiohttp sends ``proxy_headers`` only on a CONNECT, and a
    plain-http request goes to the proxy as it is)."""
    headers = {**request.headers, **_JSON} if json_body else request.headers
    if proxy_headers is not None and request.url.startswith("http:"):
        headers = {**headers, **proxy_headers}
    return headers
