"""JWT claims, caching, renewal, single-flight providers, and no secrets in reprs."""

from __future__ import annotations

import asyncio
import traceback

import jwt
import pytest

import kore_campaign_async as kca

SECRET = "client-secret-do-not-print-0123456789"


class WallClock:
    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_claims_and_signature() -> None:
    clock = WallClock()
    signer = kca.JwtSigner("cs-app", SECRET, now=clock, lifetime=300, clock_skew=30)
    token = await signer.token()
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["appId"] == "cs-app"
    assert claims["sub"] == "cs-app"
    assert claims["iat"] == int(clock.now - 30)
    assert claims["exp"] == int(clock.now + 300)
    assert len(claims["jti"]) == 32
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


async def test_token_is_cached_then_renewed_before_expiry() -> None:
    clock = WallClock()
    signer = kca.JwtSigner("cs-app", SECRET, now=clock, lifetime=300, renew_before=60)
    first = await signer.token()
    clock.now += 239
    assert await signer.token() == first
    clock.now += 1
    second = await signer.token()
    assert second != first
    assert signer.signed == 2


async def test_hundreds_of_concurrent_callers_share_one_signature() -> None:
    signer = kca.JwtSigner("cs-app", SECRET)
    tokens = await asyncio.gather(*(signer.token() for _ in range(500)))
    assert len(set(tokens)) == 1
    assert signer.signed == 1


async def test_invalidate_forces_a_new_token() -> None:
    signer = kca.JwtSigner("cs-app", SECRET)
    first = await signer.token()
    signer.invalidate("some-other-token")
    assert await signer.token() == first
    signer.invalidate(first)
    assert await signer.token() != first


async def test_provider_single_flight_and_cache_by_exp() -> None:
    clock = WallClock()
    calls = 0
    gate = asyncio.Event()

    async def provider() -> str:
        nonlocal calls
        calls += 1
        await gate.wait()
        return jwt.encode({"exp": int(clock.now) + 120, "n": calls}, "k" * 32, algorithm="HS256")

    source = kca.ProviderToken(provider, renew_before=60, now=clock)
    waiters = [asyncio.ensure_future(source.token()) for _ in range(200)]
    await asyncio.sleep(0)
    gate.set()
    tokens = await asyncio.gather(*waiters)
    assert calls == 1
    assert len(set(tokens)) == 1
    clock.now += 59
    await source.token()
    assert calls == 1
    clock.now += 2  # inside its renewal margin: used while the fresh one is fetched
    assert await source.token() == tokens[0]
    for _ in range(10):  # the renewal's task runs
        await asyncio.sleep(0)
    assert calls == 2
    assert await source.token() != tokens[0]


async def test_provider_failure_is_a_token_error_without_details() -> None:
    async def provider() -> str:
        raise RuntimeError(f"vault said no for {SECRET}")

    with pytest.raises(kca.TokenError) as info:
        await kca.ProviderToken(provider).token()
    assert SECRET not in str(info.value)


async def test_static_token_is_not_renewable() -> None:
    source = kca.StaticToken("tok")
    assert not source.renewable
    assert await source.token() == "tok"
    assert source.ready_token() == "tok"


async def test_ready_token_is_what_token_returns_without_awaiting() -> None:
    clock = WallClock()
    signer = kca.JwtSigner("cid", SECRET, now=clock)
    first = signer.ready_token()
    assert first == await signer.token()
    clock.now += 3600  # past renewal: ready_token signs anew, as token() would
    assert signer.ready_token() != first
    assert signer.signed == 2

    async def provider() -> str:
        return jwt.encode({"exp": int(clock.now) + 120}, "k" * 32, algorithm="HS256")

    source = kca.ProviderToken(provider, renew_before=60, now=clock)
    assert source.ready_token() is None  # nothing fetched yet: the caller must await token()
    fetched = await source.token()
    assert source.ready_token() == fetched
    clock.now += 61  # renewing: still valid, so ready meanwhile
    assert source.ready_token() == fetched
    clock.now += 60  # expired: the caller must await token()
    assert source.ready_token() is None


def test_reprs_hide_secrets() -> None:
    signer = kca.JwtSigner("cs-app", SECRET)
    assert SECRET not in repr(signer)
    assert "hidden" in repr(signer)
    assert "tok-secret" not in repr(kca.StaticToken("tok-secret"))
    client = kca.CampaignClient("https://h", client_id="cs", client_secret=SECRET)
    assert SECRET not in repr(client)
    assert SECRET not in repr(vars(client))


@pytest.mark.parametrize(("cid", "secret"), [("", "s"), ("cs", ""), (None, "s")])
def test_bad_credentials_are_configuration_errors(cid: str | None, secret: str) -> None:
    with pytest.raises(kca.ConfigurationError):
        kca.CampaignClient("https://h", client_id=cid, client_secret=secret)


# A token that would inject a header: aiohttp raised a bare ValueError, mid-request.
UNSENDABLE = [
    pytest.param("eyJh.e30.sig\r\nX-Evil: 1", id="crlf"),
    pytest.param("eyJh.e30.sig\n", id="trailing-newline"),
    pytest.param("eyJh.e30.s\x00ig", id="nul"),
    pytest.param("eyJh.e30.sïg", id="non-ascii"),
    pytest.param(" eyJh.e30.sig", id="outer-space"),
]


@pytest.mark.parametrize("token", UNSENDABLE)
def test_an_unsendable_static_token_is_a_token_error_that_does_not_quote_it(token: str) -> None:
    with pytest.raises(kca.TokenError) as info:
        kca.StaticToken(token)
    assert "sig" not in str(info.value)
    assert "sig" not in repr(info.value)
    for frame, _ in traceback.walk_tb(info.value.__traceback__):
        if frame.f_code.co_filename != __file__:
            assert token not in repr(frame.f_locals)


@pytest.mark.parametrize(
    "token", [*UNSENDABLE, pytest.param("", id="empty"), pytest.param(b"eyJh", id="bytes")]
)
async def test_an_unsendable_provider_token_is_a_token_error_that_does_not_quote_it(
    token: object,
) -> None:
    async def provider() -> object:
        return token

    source = kca.ProviderToken(provider)  # type: ignore[arg-type]  # a provider that lies
    with pytest.raises(kca.TokenError) as info:
        await source.token()
    assert "eyJh" not in str(info.value)
    for frame, _ in traceback.walk_tb(info.value.__traceback__):
        if frame.f_code.co_filename != __file__:
            assert repr(token) not in repr(frame.f_locals)
    assert source.ready_token() is None  # nothing cached: the next call asks again


async def test_a_provider_returning_none_is_a_token_error() -> None:
    async def provider() -> None:
        return None

    with pytest.raises(kca.TokenError, match="NoneType"):
        await kca.ProviderToken(provider).token()  # type: ignore[arg-type]


async def test_a_provider_cancelling_itself_is_a_token_error_for_callers_nobody_cancelled() -> None:
    release = asyncio.Event()

    async def provider() -> str:
        await release.wait()
        raise asyncio.CancelledError  # the provider's own (an aborted HTTP call inside it, say)

    source = kca.ProviderToken(provider)
    cancelled = asyncio.ensure_future(source.token())
    waiting = asyncio.ensure_future(source.token())
    await asyncio.sleep(0)
    cancelled.cancel()  # this caller is cancelled: it gets CancelledError
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    with pytest.raises(kca.TokenError, match="raised CancelledError"):
        await waiting
    assert not waiting.cancelled()


async def test_a_sync_provider_is_a_token_error_that_says_async_def() -> None:
    def provider() -> str:
        return "eyJ-a-token"

    with pytest.raises(kca.TokenError, match=r"returned a str, not an awaitable.*async def"):
        await kca.ProviderToken(provider).token()  # type: ignore[arg-type]
