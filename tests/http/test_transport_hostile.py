"""Only a KoreError leaves the aiohttp transport, whatever raises below it, and no frame of
what it chains holds the token (walked as error reporters walk them)."""

from __future__ import annotations

import aiohttp
import pytest
from aioresponses import aioresponses

import kore_campaign_async as kca
from kore_campaign_async._http.aiohttp_transport import AiohttpTransport, _inflated_too_far
from kore_campaign_async._http.transport import HttpRequest
from tests.e2e.test_secrets_e2e import TOKEN, assert_no_secret_in_locals, assert_no_token


async def send(url: str) -> BaseException:
    """Send one request carrying ``TOKEN``; return what the transport raised."""
    transport = AiohttpTransport()
    try:
        with pytest.raises(BaseException) as caught:  # noqa: PT011 - any type: it is checked
            await transport.send(HttpRequest("POST", url, headers={"auth": TOKEN}, json={"a": 1}))
    finally:
        await transport.aclose()
    return caught.value


@pytest.mark.parametrize(
    "url",
    ["http://./x", "http://" + "a" * 64 + ".example/x"],
    ids=["empty-labels", "label-of-64"],
)
async def test_a_host_the_idna_codec_refuses_is_a_connection_error(url: str) -> None:
    # The resolver encodes the host with the IDNA codec and raises UnicodeError, with the
    # request's headers in aiohttp's frames below it.
    error = await send(url)
    assert isinstance(error, kca.APIConnectionError)
    assert "Unicode" in str(error)  # UnicodeError, or UnicodeEncodeError from 3.13
    assert error.request_sent is True  # nobody knows what an unknown failure sent
    assert_no_token(error)
    assert_no_secret_in_locals(error, TOKEN)


@pytest.mark.parametrize(
    "raised",
    [
        ValueError(f"bad header auth: {TOKEN}"),
        UnicodeEncodeError("ascii", "é", 0, 1, "not ascii"),
        RuntimeError("Session is closed"),
        OSError(32, "Broken pipe"),
        KeyError("content-length"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_whatever_aiohttp_raises_becomes_a_kore_error(raised: Exception) -> None:
    error = await send_with(raised)
    assert isinstance(error, kca.APIConnectionError)
    assert type(raised).__name__ in str(error)
    assert TOKEN not in str(error)
    assert_no_token(error)
    assert_no_secret_in_locals(error, TOKEN)
    # What is chained has no frames: aiohttp's hold the request's headers as locals.
    cause = error.__cause__
    while cause is not None:
        assert cause.__traceback__ is None
        cause = cause.__cause__ or cause.__context__


async def test_our_own_errors_pass_through_unchanged() -> None:
    url = "http://kore.test/api/x"
    with aioresponses() as mocked:
        mocked.post(url, body=b"x" * 100, headers={"Content-Length": "100"})
        transport = AiohttpTransport()
        try:
            with pytest.raises(kca.ResponseTooLargeError):
                await transport.send(
                    HttpRequest("POST", url, headers={"auth": TOKEN}, max_response_bytes=10)
                )
        finally:
            await transport.aclose()


async def test_a_client_error_keeps_its_own_mapping() -> None:
    error = await send_with(aiohttp.ServerDisconnectedError())
    assert isinstance(error, kca.APIConnectionError)
    assert "ServerDisconnectedError" in str(error)


async def send_with(raised: Exception) -> BaseException:
    url = "http://kore.test/api/x"
    with aioresponses() as mocked:
        mocked.post(url, exception=raised)
        return await send(url)


def test_only_a_decompression_cap_reads_as_an_inflated_answer() -> None:
    assert not _inflated_too_far(aiohttp.ClientPayloadError("Response payload is not completed"))
    refused = getattr(aiohttp.http_exceptions, "DecompressSizeError", None)
    if refused is not None:
        wrapped = aiohttp.ClientPayloadError("400")
        wrapped.__cause__ = refused("Decompressed data exceeds the configured limit")
        assert _inflated_too_far(wrapped)
    # A chain that loops back on itself ends the walk: it is bounded, not a visit of each.
    first, second = aiohttp.ClientPayloadError("a"), aiohttp.ClientPayloadError("b")
    first.__context__, second.__context__ = second, first
    assert not _inflated_too_far(first)
