"""No error we raise, nor anything it chains, stores or keeps in its frames, holds a secret."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

import aiohttp
import jwt
import pytest
from aioresponses import aioresponses
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

import kore_campaign_async as kca
from kore_campaign_async._http.aiohttp_transport import AiohttpTransport, _describe
from kore_campaign_async._http.auth import JwtSigner
from kore_campaign_async._http.transport import HttpRequest
from kore_campaign_async.testing import FakeKoreServer, Fault, MockTransport, json_response
from tests.helpers.clients import MakeClient

TOKEN = "eyJhbGciOiJIUzI1NiJ9.secret-payload-never-logged.c2lnbmF0dXJl"
_SCALARS = (int, float, bool, bytes, type(None))


def reachable(root: object, depth: int = 8) -> Iterator[object]:
    """Yield every object reachable from ``root`` through exception links and attributes."""
    seen: set[int] = set()
    pending: list[tuple[object, int]] = [(root, 0)]
    while pending:
        obj, level = pending.pop()
        if id(obj) in seen or level > depth or isinstance(obj, _SCALARS):
            continue
        seen.add(id(obj))
        yield obj
        if isinstance(obj, str):
            continue
        children: list[Any] = []
        if isinstance(obj, BaseException):
            children += [obj.__cause__, obj.__context__, *obj.args]
        if isinstance(obj, Mapping):
            children += [*obj.keys(), *obj.values()]
        elif isinstance(obj, (tuple, list, set, frozenset)):
            children += list(obj)
        children += list(getattr(obj, "__dict__", {}).values())
        for klass in type(obj).__mro__:
            for name in getattr(klass, "__slots__", ()):
                children.append(getattr(obj, name, None))
        pending.extend((child, level + 1) for child in children)


def assert_no_token(error: BaseException) -> None:
    for obj in reachable(error):
        text = obj if isinstance(obj, str) else repr(obj) if isinstance(obj, URL) else ""
        assert TOKEN not in text, f"token reachable via {type(obj).__name__}"
    assert TOKEN not in str(error)
    assert TOKEN not in repr(error)


def test_the_walk_finds_a_token_in_request_info() -> None:
    # The check itself must see what it looks for, or the tests below prove nothing.
    leaky = aiohttp.ClientResponseError(request_info(), (), status=400, message="Bad status")
    for link in ("__cause__", "__context__"):
        wrapper = kca.APIConnectionError("wrapped")
        setattr(wrapper, link, leaky)
        with pytest.raises(AssertionError, match="token reachable"):
            assert_no_token(wrapper)


def request_info() -> aiohttp.RequestInfo:
    url = URL("http://127.0.0.1/api/public/contactlist")
    headers = CIMultiDictProxy(CIMultiDict({"auth": TOKEN, "accountId": "acct-1"}))
    return aiohttp.RequestInfo(url, "POST", headers, url)


@pytest.fixture
async def garbage_server() -> AsyncIterator[str]:
    """A loopback server whose answer is not HTTP: aiohttp raises ClientResponseError."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 OOPS not-a-status\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


async def test_a_malformed_answer_does_not_carry_the_token(
    garbage_server: str, make_client: MakeClient
) -> None:
    async with make_client(
        host=garbage_server, token=TOKEN, retry=kca.RetryPolicy.none()
    ) as client:
        with pytest.raises(kca.APIConnectionError) as caught:
            await client.account("acct-1", iid="st").contact_lists.list()
    assert "ClientResponseError" in str(caught.value)
    assert_no_token(caught.value)
    assert_no_secret_in_locals(caught.value, TOKEN)  # see "frame locals" below


async def send_failing_with(raised: Exception) -> kca.APIConnectionError:
    """Send one request whose aiohttp call raises ``raised``; return the error we raise."""
    transport = AiohttpTransport()
    url = "http://kore.test/api/x"
    try:
        with aioresponses() as mocked:
            mocked.post(url, exception=raised)
            with pytest.raises(kca.APIConnectionError) as caught:
                await transport.send(
                    HttpRequest("POST", url, headers={"auth": TOKEN}, json={"a": 1})
                )
    finally:
        await transport.aclose()
    return caught.value


@pytest.mark.parametrize(
    "raised",
    [
        aiohttp.ClientResponseError(request_info(), (), status=400, message="Invalid header"),
        aiohttp.ContentTypeError(request_info(), (), message="unexpected mimetype"),
        aiohttp.ClientPayloadError(f"echoed {TOKEN}"),
        aiohttp.ServerDisconnectedError(),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_no_aiohttp_error_leaks_the_token(raised: Exception) -> None:
    error = await send_failing_with(raised)
    assert_no_token(error)
    assert type(raised).__name__ in str(error)


async def test_a_safe_aiohttp_error_stays_chained() -> None:
    error = await send_failing_with(aiohttp.ServerDisconnectedError())
    assert isinstance(error.__cause__, aiohttp.ServerDisconnectedError)


def test_a_message_holding_the_token_is_withheld_whole_never_spliced() -> None:
    leaky = aiohttp.ClientResponseError(request_info(), (), status=400, message=f"bad {TOKEN}")
    withheld = "ClientResponseError: 400 <message withheld: it contained the auth token>"
    assert _describe(leaky, TOKEN) == withheld
    # A short static token must not mangle the words around it.
    plain = aiohttp.ClientResponseError(request_info(), (), status=502, message="Bad Gateway")
    assert _describe(plain, "t").startswith("ClientResponseError: 502 ")
    assert _describe(plain, "zz") == "ClientResponseError: 502 Bad Gateway"
    assert _describe(aiohttp.ServerDisconnectedError(), "t") == "ServerDisconnectedError"


# -- frame locals ---------------------------------------------------------------------------
# Error reporters (Sentry's default include_local_variables, for one) record the locals of
# every frame in a raised error's traceback, and of every error it chains: strings as they
# are, containers opened, any other object by its repr.


_TESTS = str(Path(__file__).resolve().parent.parent)


def shown(value: object, depth: int = 4) -> Iterator[str]:
    """Yield what an error reporter shows of one local."""
    if isinstance(value, str):
        yield value
    elif depth and isinstance(value, Mapping):
        for key, item in value.items():
            yield from shown(key, depth - 1)
            yield from shown(item, depth - 1)
    elif depth and isinstance(value, (tuple, list, set, frozenset)):
        for item in value:
            yield from shown(item, depth - 1)
    else:
        yield repr(value)


def frames(error: BaseException) -> Iterator[FrameType]:
    """Yield every frame in the tracebacks of ``error`` and of the errors it chains."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            yield tb.tb_frame
            tb = tb.tb_next
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def assert_no_secret_in_locals(
    error: BaseException, *secrets: str, skip: str | None = _TESTS
) -> None:
    """Fail if a frame (but those of files under ``skip``) holds one of ``secrets`` in a local."""
    for frame in frames(error):
        if skip is not None and frame.f_code.co_filename.startswith(skip):
            continue  # the tests' own frames hold what the tests put there
        for name, value in frame.f_locals.items():
            for text in shown(value):
                for secret in secrets:
                    assert secret not in text, (
                        f"secret in a local: {name!r} of {frame.f_code.co_name}"
                    )


def test_the_frame_walk_finds_a_token_in_a_local() -> None:
    def leaky() -> None:
        headers = CIMultiDict({"auth": TOKEN})
        raise ValueError(f"{len(headers)} header")

    with pytest.raises(ValueError, match="1 header") as caught:
        leaky()
    with pytest.raises(AssertionError, match="secret in a local: 'headers'"):
        assert_no_secret_in_locals(caught.value, TOKEN, skip=None)


@pytest.mark.parametrize(
    ("fault", "raised"),
    [
        (Fault("status", status=500, times=None), kca.InternalServerError),
        (Fault("reset", times=None), kca.APIConnectionError),
        (None, kca.AuthenticationError),
    ],
    ids=["500", "reset", "401"],
)
async def test_no_frame_of_a_failed_call_holds_the_token_or_secret(
    server: FakeKoreServer,
    make_client: MakeClient,
    fault: Fault | None,
    raised: type[kca.KoreError],
) -> None:
    signer = JwtSigner(server.client_id, server.client_secret)
    token = signer.ready_token() if fault is not None else TOKEN  # TOKEN is refused: 401
    if fault is not None:
        server.faults.add(fault)
    async with make_client(server, token=token, retry=kca.RetryPolicy.none()) as client:
        with pytest.raises(raised) as caught:
            await client.account("acct-1", iid="st").contact_lists.list()
    assert_no_secret_in_locals(caught.value, token, server.client_secret)


async def test_no_frame_of_a_refused_connection_holds_the_token_or_secret(
    make_client: MakeClient,
) -> None:
    secret = "client-secret-" + "s" * 32
    listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()  # the port is now closed: connecting is refused
    async with make_client(
        host=f"http://127.0.0.1:{port}",
        client_id="cs-app",
        client_secret=secret,
        retry=kca.RetryPolicy.none(),
    ) as client:
        account = client.account("acct-1", iid="st")
        with pytest.raises(kca.APIConnectionError) as caught:
            await account.contact_lists.list()
    assert "cannot connect" in str(caught.value)
    # The token was signed here and never seen: every JWT starts with the base64 of '{"'.
    assert_no_secret_in_locals(caught.value, secret, "eyJ")


# -- cancellation and echoes -----------------------------------------------------------------
# A caller that bounds a call itself (asyncio.wait_for, asyncio.timeout) gets a TimeoutError
# whose cause and context are the CancelledError that unwound the call: through aiohttp's
# frames, whose locals hold the request's headers.


async def _bounded(bound: str, call: Awaitable[object]) -> None:
    if bound == "wait_for":
        await asyncio.wait_for(call, 0.05)
    else:
        async with asyncio.timeout(0.05):  # type: ignore[attr-defined, unused-ignore]
            await call


@pytest.mark.parametrize(
    "bound",
    [
        "wait_for",
        pytest.param(
            "timeout",
            marks=pytest.mark.skipif(not hasattr(asyncio, "timeout"), reason="Python 3.11+"),
        ),
    ],
)
async def test_a_call_the_caller_cuts_short_leaves_no_secret_in_any_frame(
    server: FakeKoreServer, bound: str
) -> None:
    server.faults.add(Fault("delay", delay=5.0, times=None))
    async with kca.CampaignClient(
        server.url,
        client_id=server.client_id,
        client_secret=server.client_secret,
        rate_limit=None,
    ) as client:
        lists = client.account("acct-1", iid="st").contact_lists
        with pytest.raises(asyncio.TimeoutError) as caught:
            await _bounded(bound, lists.create("Cut Short"))
    assert any(isinstance(e, asyncio.CancelledError) for e in chain(caught.value))
    # The token was signed inside the call: every JWT starts with the base64 of '{"'.
    assert_no_secret_in_locals(caught.value, server.client_secret, "eyJ")


async def test_an_answer_echoing_the_token_leaves_it_in_no_frame(server: FakeKoreServer) -> None:
    server.faults.add(Fault("echo_auth", status=400))
    token = JwtSigner(server.client_id, server.client_secret).ready_token()
    async with kca.CampaignClient(server.url, token=token, rate_limit=None) as client:
        with pytest.raises(kca.BadRequestError) as caught:
            await client.account("acct-1", iid="st").contact_lists.list()
    assert_no_token_anywhere(caught.value, token)


async def test_an_opaque_token_echoed_leaves_it_in_no_frame() -> None:
    opaque = "opaque-static-token-0123456789"

    def echo(request: HttpRequest) -> kca.RawResponse:
        sent = request.headers["auth"]
        body = {"errors": [{"msg": f"bad {sent}"}], "auth": sent}
        return json_response(body, status=400, headers={"X-Echo": sent})

    async with kca.CampaignClient(
        "https://kore.test", token=opaque, transport=MockTransport(echo), rate_limit=None
    ) as client:
        with pytest.raises(kca.BadRequestError) as caught:
            await client.account("acct-1", iid="st").contact_lists.get("cl-1")
    assert_no_token_anywhere(caught.value, opaque)


def chain(error: BaseException) -> Iterator[BaseException]:
    """Yield ``error`` and every error its causes and contexts reach."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) not in seen:
            seen.add(id(current))
            yield current
            pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def assert_no_token_anywhere(error: BaseException, token: str) -> None:
    """No frame local, attribute, message or repr reachable from ``error`` shows ``token``."""
    assert_no_secret_in_locals(error, token)
    for obj in reachable(error):
        assert token not in (obj if isinstance(obj, str) else repr(obj)), type(obj).__name__


# -- token providers that fail -------------------------------------------------------------
# Whatever way a token_provider fails, the call raises TokenError and no frame any error
# reaches holds the provider's token: not the SDK's frames, not the provider's own.


class Vault:
    """Holds a provider's token; shown as ``<vault>``, so a frame holding the vault shows no
    secret and the walk below may look at every frame, the tests' own included."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return "<vault>"


def failing_provider(kind: str, vault: Vault) -> Any:
    """A token_provider that holds ``vault.token`` in a local, then fails as ``kind`` says."""

    def plain() -> str:  # a sync function: its token comes back as a str, not an awaitable
        return vault.token

    async def failing() -> object:
        token = vault.token
        if kind == "raises":
            raise RuntimeError("the vault is sealed")
        if kind == "cancels itself":
            raise asyncio.CancelledError
        if kind == "hangs":
            await asyncio.Event().wait()
        answers: dict[str, object] = {
            "returns an int": len(token),
            "returns None": None,
            "returns a JWT with a newline": token + "\n",
            "returns an expired JWT": jwt_with(vault, exp=1),
            "returns a JWT whose exp is text": jwt_with(vault, exp="soon"),
        }
        return answers[kind]

    return plain if kind == "sync function" else failing


def jwt_with(vault: Vault, **claims: object) -> str:
    return jwt.encode({"sub": "app", **claims}, vault.token, algorithm="HS256")


@pytest.mark.parametrize(
    "kind",
    [
        "sync function",
        "raises",
        "cancels itself",
        "hangs",
        "returns an int",
        "returns None",
        "returns a JWT with a newline",
        "returns an expired JWT",
        "returns a JWT whose exp is text",
    ],
)
async def test_no_frame_of_a_failed_token_provider_holds_its_token(
    server: FakeKoreServer, make_client: MakeClient, kind: str
) -> None:
    vault = Vault(JwtSigner(server.client_id, server.client_secret).ready_token())
    provider = failing_provider(kind, vault)
    async with make_client(server, token_provider=provider, token_timeout=1.0) as client:
        with pytest.raises(kca.TokenError) as caught:
            await client.account("acct-1", iid="st").contact_lists.list()
    assert server.requests == []  # nothing was sent
    # Every frame, the provider's (in this file) included: the walk Sentry does.
    assert_no_secret_in_locals(caught.value, vault.token, server.client_secret, skip=None)
    for obj in reachable(caught.value):
        assert vault.token not in (obj if isinstance(obj, str) else repr(obj))
