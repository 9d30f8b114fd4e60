"""The FastAPI and aiohttp.web recipes: one client per app, SDK errors as HTTP statuses."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import attrs
import pytest
from aiohttp import web
from redis.asyncio import Redis

import kore_campaign_async as kca
from examples.kore_http import http_error
from examples.kore_setup import KoreSettings
from kore_campaign_async.testing import FakeKoreServer, Fault
from tests.helpers.backends import ACCOUNT, FAST_QUOTA, IID, Call, Serve

URL = "https://kore.example/campaign/api/v2/x"
RATE_LIMITED = {"errors": [{"msg": "rate limited", "code": 429}]}


async def test_a_list_through_create_get_change_list_and_delete(
    backend: Call, kore: FakeKoreServer
) -> None:
    made = await backend("POST", "/lists", json={"name": "Renewals", "description": "July"})
    assert made.status == 201, made.body
    list_id = made.body["id"]
    assert made.body["name"] == "Renewals"

    got = await backend("GET", f"/lists/{list_id}")
    assert (got.status, got.body["description"]) == (200, "July")

    changed = await backend("PATCH", f"/lists/{list_id}", json={"description": "August"})
    assert changed.status == 204
    (stored,) = kore.lists(ACCOUNT)
    assert (stored["name"], stored["description"]) == ("Renewals", "August")

    every = await backend("GET", "/lists")
    assert [item["id"] for item in every.body] == [list_id]

    assert (await backend("DELETE", f"/lists/{list_id}")).status == 204
    gone = await backend("GET", f"/lists/{list_id}")
    assert gone.status == 404
    assert gone.body["error"] == "NotFoundError"


async def test_bad_input_is_422_naming_the_field_and_nothing_reaches_kore(
    backend: Call, kore: FakeKoreServer
) -> None:
    answer = await backend("POST", "/lists", json={"name": "n" * 49})
    assert answer.status == 422
    assert answer.body["field"] == "name"
    assert "at most 48 characters" in answer.body["message"]
    assert kore.requests == []


async def test_a_taken_name_is_409(backend: Call, kore: FakeKoreServer) -> None:
    kore.seed_list(ACCOUNT, IID, "Renewals")
    answer = await backend("POST", "/lists", json={"name": "renewals"})
    assert answer.status == 409
    assert answer.body["error"] == "ConflictError"


async def test_kore_asking_for_a_long_wait_is_503_with_retry_after(
    backend: Call, kore: FakeKoreServer
) -> None:
    # Longer than RetryPolicy.max_retry_after: the SDK fails at once instead of waiting.
    wait = {"Retry-After": "900"}
    kore.faults.add(Fault("status", status=429, body=RATE_LIMITED, headers=wait, times=None))
    answer = await backend("GET", "/lists")
    assert answer.status == 503
    assert answer.headers["Retry-After"] == "900"


async def test_kore_refusing_our_credentials_is_502_with_details_only_in_our_log(
    backend: Call, kore: FakeKoreServer, caplog: pytest.LogCaptureFixture
) -> None:
    kore.faults.add(Fault("status", status=403, times=None))
    with caplog.at_level(logging.ERROR, logger="examples"):
        answer = await backend("GET", "/lists")
    assert answer.status == 502
    assert kore.url not in str(answer.body)
    assert "PermissionDeniedError" in caplog.text
    assert kore.client_secret not in caplog.text


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (kca.ValidationError("name", "must not be empty"), 422),
        (kca.NotFoundError("no such list", status=404, method="GET", url=URL), 404),
        (kca.ConflictError("taken", status=409, method="GET", url=URL), 409),
        (kca.RateLimitError("slow down", status=429, retry_after=2.5, method="GET", url=URL), 503),
        (kca.RateLimitError("slow down", status=429, retry_after=None, method="GET", url=URL), 503),
        (kca.RetryBudgetExhaustedError("too many retries"), 503),
        (kca.APITimeoutError("read timed out"), 504),
        (kca.InternalServerError("boom", status=500, method="GET", url=URL), 502),
        (kca.AuthenticationError("bad secret", status=401, method="GET", url=URL), 502),
        (kca.TokenError("token service down"), 502),
    ],
)
def test_each_error_maps_to_a_status(error: kca.KoreError, status: int) -> None:
    answer = http_error(error)
    assert answer.status == status
    if status == 503:
        assert int(answer.headers["Retry-After"]) >= 1


@pytest.fixture
async def token_service(kore: FakeKoreServer) -> AsyncIterator[tuple[str, list[str]]]:
    """A stand-in for a company token service: it holds the secret, we only get JWTs."""
    signer = kca.JwtSigner(kore.client_id, kore.client_secret)
    handed_out: list[str] = []

    async def token(request: web.Request) -> web.Response:
        handed_out.append(signer.ready_token())
        return web.json_response({"token": handed_out[-1]})

    app = web.Application()
    app.router.add_get("/kore-token", token)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/kore-token", handed_out
    finally:
        await runner.cleanup()


async def test_a_token_service_supplies_the_jwts_and_is_asked_once(
    serve: Serve, kore: FakeKoreServer, token_service: tuple[str, list[str]]
) -> None:
    url, handed_out = token_service
    settings = KoreSettings(
        host=kore.url, account_id=ACCOUNT, iid=IID, token_url=url, rate_limit=FAST_QUOTA
    )
    async with serve(settings) as call:
        for name in ("A", "B", "C"):
            assert (await call("POST", "/lists", json={"name": name})).status == 201
    assert len(handed_out) == 1  # cached by the SDK until shortly before it expires
    assert len(kore.lists(ACCOUNT)) == 3


async def test_with_kore_redis_url_the_backend_paces_through_redis_and_says_so(
    serve: Serve,
    settings: KoreSettings,
    kore: FakeKoreServer,
    redis_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with serve(attrs.evolve(settings, redis_url=redis_url)) as call:
        assert (await call("POST", "/lists", json={"name": "Paced"})).status == 201
    [said] = [r.getMessage() for r in caplog.records if "Kore quota" in r.getMessage()]
    assert said == (
        f"Kore quota for account {ACCOUNT} (60 per 0.6 s) shared through Redis "
        "(KORE_REDIS_URL) by every worker"
    )
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        assert any(ACCOUNT in key for key in await redis.keys("kca:*"))
        assert len(await redis.client_list()) == 1  # the backend closed its store
    finally:
        await redis.aclose()


async def test_without_it_the_backend_says_it_paces_alone(
    serve: Serve, settings: KoreSettings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with serve(settings) as call:
        assert (await call("GET", "/lists")).status == 200
    [said] = [r.getMessage() for r in caplog.records if "Kore quota" in r.getMessage()]
    assert "paced in this process only: with several workers, set KORE_REDIS_URL" in said
