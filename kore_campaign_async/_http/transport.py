"""The only module that touches aiohttp: one session per client, one attempt per call.

It maps aiohttp's exceptions onto ours and says whether the request may have reached the
server (``request_sent``), which decides whether a retried create must look before it leaps.
An aiohttp error is chained (``__cause__``) only when nothing in it holds the request's
headers: ``ClientResponseError.request_info`` carries our ``auth`` token, and a chained
exception ends up in every logged traceback and error report.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import aiohttp
import attrs
from multidict import CIMultiDict
from yarl import URL

from .._config import AUTH_HEADER, USER_AGENT, Timeout
from .._exceptions import APIConnectionError, APITimeoutError, ClientClosedError
from .responses import RawResponse

# Compact and UTF-8: names with accents travel as themselves, not \\u escapes. Built once:
# json.dumps() with any non-default option builds a new encoder on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _dumps(value: Any) -> bytes:
    return _ENCODER.encode(value).encode("utf-8")


#: Distinct (url, params) pairs whose parsed URL is kept; past this the cache starts over.
_URL_CACHE_SIZE = 1024


@attrs.frozen
class PreparedHeaders:
    """A request's headers in aiohttp's own form, built once (``Transport.prepare_headers``).

    aiohttp turns a header dict into a CIMultiDict on every request; a requester sends the
    same headers until its token changes, so it keeps these instead. Never shown: they
    hold the token.
    """

    source: Mapping[str, str] = attrs.field(repr=False)
    plain: CIMultiDict[str] = attrs.field(repr=False)
    """For a request without a body."""
    with_json: CIMultiDict[str] = attrs.field(repr=False)
    """The same plus ``Content-Type: application/json``."""


def _safe_cause(error: BaseException, secret: str) -> BaseException | None:
    """Return ``error`` to chain if nothing in it exposes a request header or ``secret``.

    What is chained loses its tracebacks (and those of the errors it chains): error reporters
    record the locals of every frame in them, and aiohttp's frames hold the request's headers.
    """
    chain: list[BaseException] = []
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if any(current is seen for seen in chain):
            continue
        # request_info (ClientResponseError and kin) holds every header we sent.
        if hasattr(current, "request_info") or (secret and secret in repr(current.args)):
            return None
        chain.append(current)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    for current in chain:
        current.__traceback__ = None
    return error


def _connection_failure(
    error: aiohttp.ClientError, method: str, url: str, headers: PreparedHeaders
) -> tuple[APIConnectionError, BaseException | None]:
    """Map an aiohttp error onto ours, and the cause that may safely be chained to it."""
    secret = headers.source.get(AUTH_HEADER, "")
    if isinstance(error, aiohttp.ClientConnectorError):
        failure = APIConnectionError(
            f"{method} {url}: cannot connect ({error.os_error.__class__.__name__})",
            method=method,
            url=url,
            request_sent=False,
        )
    else:
        failure = APIConnectionError(
            f"{method} {url}: connection failed ({_describe(error, secret)})",
            method=method,
            url=url,
        )
    return failure, _safe_cause(error, secret)


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


class Transport:
    """Send single HTTP attempts over one reused ``aiohttp.ClientSession``."""

    def __init__(self, session: aiohttp.ClientSession | None = None) -> None:
        self._session = session
        self._owns_session = session is None
        self._closed = False
        # The last Timeout seen and its aiohttp form: nearly every call uses the client's default.
        self._timeout: Timeout | None = None
        self._client_timeout = aiohttp.ClientTimeout()
        # aiohttp parses the URL string and merges the query on every request: a client sends
        # to the same few URLs again and again.
        self._urls: dict[tuple[str, tuple[tuple[str, str], ...]], URL] = {}

    @property
    def closed(self) -> bool:
        return self._closed

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosedError("the client is closed; create a new CampaignClient")
        if self._session is None:
            # Made lazily so the client can be built outside a running loop.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
                # Kore authenticates by header. One session serves every account, so a cookie
                # one account's answer set would ride along on another account's requests.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            # aiohttp silently resends GET/PUT/DELETE once when a kept-alive connection drops.
            # That second request escapes the account limiter, the attempt count and the
            # lost-answer bookkeeping (a resent DELETE answers 404 for a list it just deleted),
            # so our retry layer must be the only one. There is no public switch for it.
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        return self._session

    async def send(
        self,
        method: str,
        url: str,
        *,
        params: tuple[tuple[str, str], ...],
        headers: Mapping[str, str] | PreparedHeaders,
        json_body: Any,
        timeout: Timeout,
    ) -> RawResponse:
        """Send one request and read the whole answer; never retries."""
        session = self._get_session()
        target = self._url(url, params)
        data = None if json_body is None else _dumps(json_body)
        if not isinstance(headers, PreparedHeaders):
            headers = self.prepare_headers(headers)
        if timeout is not self._timeout:
            self._client_timeout = aiohttp.ClientTimeout(
                total=timeout.total, sock_connect=timeout.connect, connect=timeout.connect
            )
            self._timeout = timeout
        client_timeout = self._client_timeout
        # Raised after the except blocks, so an unsafe aiohttp error is not even __context__.
        # No local holds the headers or the token: error reporters record every frame's locals.
        failure: APIConnectionError
        cause: BaseException | None = None
        try:
            async with session.request(
                method,
                target,
                data=data,
                headers=headers.plain if data is None else headers.with_json,
                timeout=client_timeout,
                allow_redirects=False,
            ) as response:
                body = await response.read()
                return RawResponse(response.status, response.headers, body)
        except aiohttp.ConnectionTimeoutError:
            failure = APITimeoutError(
                f"{method} {url}: connect timed out", method=method, url=url, request_sent=False
            )
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
            failure = APITimeoutError(
                f"{method} {url}: timed out waiting for the answer", method=method, url=url
            )
        except aiohttp.ClientError as exc:
            failure, cause = _connection_failure(exc, method, url, headers)
        raise failure from cause

    def _url(self, url: str, params: tuple[tuple[str, str], ...]) -> URL:
        """Return ``url`` with ``params`` as aiohttp would build it, parsed once per pair."""
        key = (url, params)
        found = self._urls.get(key)
        if found is None:
            if len(self._urls) >= _URL_CACHE_SIZE:
                self._urls.clear()
            found = self._urls[key] = URL(url).extend_query(params) if params else URL(url)
        return found

    def prepare_headers(self, headers: Mapping[str, str]) -> PreparedHeaders:
        """Return ``headers`` ready to send (our User-Agent added on our own session)."""
        plain = CIMultiDict(headers)
        if self._owns_session:  # a caller's session keeps its own default User-Agent
            plain.setdefault("User-Agent", USER_AGENT)
        with_json = plain.copy()
        with_json["Content-Type"] = "application/json"
        return PreparedHeaders(headers, plain, with_json)

    async def aclose(self) -> None:
        """Close the session if we made it; a caller's session stays open."""
        if self._closed:
            return
        self._closed = True
        if self._session is not None and self._owns_session:
            await self._session.close()
