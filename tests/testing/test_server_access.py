"""Identity headers and JWT checks over HTTP."""

from __future__ import annotations

import aiohttp
import pytest

from kore_campaign_async.testing import FakeKoreServer
from tests.helpers.fake_server import ACCOUNT, IID, V2, Kore, make_token

CREDENTIALS = {"errors": [{"msg": "Invalid SDK credentials", "code": 4002}]}
BAD_TOKEN = {"errors": [{"msg": "Invalid JWT token", "code": 4002}]}


@pytest.mark.parametrize("missing", ["auth", "iid", "accountId"])
async def test_a_missing_header_is_400(kore: Kore, server: FakeKoreServer, missing: str) -> None:
    headers = {k: v for k, v in kore.headers().items() if k != missing}
    answer = await kore.call("GET", f"{V2}/cl-1", params={"accountId": ACCOUNT}, headers=headers)
    assert answer.status == 400
    assert answer.body == {"errors": [{"msg": f"{missing}: header is required", "code": 412}]}
    assert server.requests[0].status == 400


async def test_v2_query_account_must_match_the_header(kore: Kore) -> None:
    answer = await kore.call("GET", f"{V2}/cl-1", params={"accountId": "someone-else"})
    assert answer.status == 400
    assert (await kore.call("GET", f"{V2}/cl-1")).status == 400


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (make_token(secret="not-the-secret-not-the-secret-!!"), BAD_TOKEN),
        (make_token(app_id="cs-stranger"), CREDENTIALS),
        (make_token(lifetime=-5), BAD_TOKEN),
        (make_token(algorithm="HS384"), CREDENTIALS),
        ("garbage", BAD_TOKEN),
    ],
    ids=["bad-secret", "unknown-app", "expired", "hs384", "garbage"],
)
async def test_bad_tokens_are_401(kore: Kore, token: str, expected: object) -> None:
    kore.token = token
    answer = await kore.create("Never")
    assert (answer.status, answer.body) == (401, expected)
    assert kore.server.lists(ACCOUNT) == []


async def test_tokens_of_every_configured_app_work(session: aiohttp.ClientSession) -> None:
    apps = {
        "cs-one": "secret-one-secret-one-secret-one",
        "cs-two": "secret-two-secret-two-secret-two",
    }
    async with FakeKoreServer(apps) as server:
        assert (server.client_id, server.client_secret) == ("cs-one", apps["cs-one"])
        for app_id, secret in apps.items():
            kore = Kore(session, server, token=make_token(app_id, secret))
            assert (await kore.list_all()).status == 200
        kore = Kore(session, server, token=make_token())  # the default app is not configured
        assert (await kore.list_all()).status == 401


async def test_require_jti(session: aiohttp.ClientSession) -> None:
    async with FakeKoreServer(require_jti=True) as server:
        without = Kore(session, server)
        assert (await without.list_all()).status == 401
        with_jti = Kore(session, server, token=make_token(jti="j-1"))
        assert (await with_jti.list_all()).status == 200


def test_an_app_is_required() -> None:
    with pytest.raises(ValueError, match="at least one"):
        FakeKoreServer(apps={})


async def test_path_iid_need_not_match_the_header(kore: Kore) -> None:
    path = "/agentassist/api/v1/public/st-other/campaign/contactList/getAllListDetails"
    answer = await kore.call("POST", path, params={"type": "call"})
    assert answer.status == 200
    assert kore.headers()["iid"] == IID
