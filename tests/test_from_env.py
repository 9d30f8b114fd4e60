"""``CampaignClient.from_env``: the CLI's ``KORE_*`` variables, arguments winning over them."""

from __future__ import annotations

import re

import pytest
from redis.asyncio import Redis

import kore_campaign_async as kca
from kore_campaign_async._env import read_env
from kore_campaign_async.cli._config import OPTIONS
from kore_campaign_async.testing import FakeKoreServer

SECRET = "s" * 32
CREDENTIALS = {"KORE_CLIENT_ID": "cs-env", "KORE_CLIENT_SECRET": SECRET}


async def test_every_variable_is_read() -> None:
    env = {
        **CREDENTIALS,
        "KORE_HOST": "https://kore.example/",
        "KORE_API_VERSION": "v1",
        "KORE_RATE_LIMIT": "300",
        "KORE_RATE_PERIOD": "30",
        "KORE_MAX_CONCURRENCY": "3",
    }
    async with kca.CampaignClient.from_env(env=env) as client:
        assert client.host == "https://kore.example"
        assert client.api_version == "v1"
        assert client.rate_limit == kca.RateLimit(300, per=30.0)
        assert client.max_concurrency == 3
        assert isinstance(client.auth, kca.JwtSigner)
        assert isinstance(client.limit_store, kca.LocalLimitStore)


async def test_defaults_when_only_credentials_are_set() -> None:
    async with kca.CampaignClient.from_env(env={"KORE_TOKEN": "jwt", "KORE_HOST": ""}) as client:
        assert client.host == "https://platform.kore.ai"  # an empty variable counts as unset
        assert isinstance(client.auth, kca.StaticToken)
        assert client.rate_limit == kca.RateLimit(60, per=60.0)
        assert client.api_version == "v2"


async def test_arguments_win_over_the_environment() -> None:
    env = {**CREDENTIALS, "KORE_HOST": "https://env.example", "KORE_RATE_PERIOD": "1"}
    async with kca.CampaignClient.from_env(
        "https://arg.example", env=env, rate_limit=None, api_version="v1"
    ) as client:
        assert client.host == "https://arg.example"
        assert client.rate_limit is None
        assert client.api_version == "v1"


async def test_a_credential_argument_replaces_every_credential_variable() -> None:
    env = {**CREDENTIALS, "KORE_TOKEN": "env-jwt"}

    async def provider() -> str:
        return "jwt"

    async with kca.CampaignClient.from_env(env=env, token_provider=provider) as client:
        assert isinstance(client.auth, kca.ProviderToken)
    async with kca.CampaignClient.from_env(env=env) as client:
        assert isinstance(
            client.auth, kca.JwtSigner
        )  # id and secret beat KORE_TOKEN, as in the CLI


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "no credentials: set KORE_CLIENT_ID and KORE_CLIENT_SECRET (or KORE_TOKEN)"),
        ({"KORE_CLIENT_ID": "cs-1"}, "KORE_CLIENT_SECRET is not set"),
        ({**CREDENTIALS, "KORE_RATE_LIMIT": "0"}, "KORE_RATE_LIMIT must be a positive integer"),
        ({**CREDENTIALS, "KORE_RATE_PERIOD": "inf"}, "KORE_RATE_PERIOD must be a positive number"),
        ({**CREDENTIALS, "KORE_MAX_CONCURRENCY": "x"}, "KORE_MAX_CONCURRENCY must be a positive"),
        ({**CREDENTIALS, "KORE_API_VERSION": "v3"}, "KORE_API_VERSION must be v1 or v2"),
        ({**CREDENTIALS, "KORE_HOST": "ftp://x"}, "host must look like https://platform.kore.ai"),
    ],
)
def test_bad_variables_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(kca.ConfigurationError, match="^" + re.escape(message)):
        kca.CampaignClient.from_env(env=env)


def test_a_bad_redis_url_is_refused_without_echoing_it() -> None:
    env = {**CREDENTIALS, "KORE_REDIS_URL": "http://user:hunter2@redis:6379"}
    with pytest.raises(kca.ConfigurationError) as caught:
        kca.CampaignClient.from_env(env=env)
    assert str(caught.value) == "KORE_REDIS_URL must be a redis://, rediss:// or unix:// URL"


def test_the_names_are_the_clis() -> None:
    cli_names = {option.env for option in OPTIONS}
    read: set[str] = set()

    class Recording(dict[str, str]):
        def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
            read.add(key)
            return {**CREDENTIALS, "KORE_TOKEN": "t"}.get(key, default)

    read_env(Recording(), {})
    assert read
    assert read <= cli_names


async def test_kore_redis_url_paces_through_redis_and_the_client_closes_its_store(
    redis_url: str,
) -> None:
    async with FakeKoreServer() as server:
        env = {
            "KORE_HOST": server.url,
            "KORE_CLIENT_ID": server.client_id,
            "KORE_CLIENT_SECRET": server.client_secret,
            "KORE_RATE_PERIOD": "1",
            "KORE_REDIS_URL": redis_url,
        }
        client = kca.CampaignClient.from_env(env=env)
        async with client:
            assert isinstance(client.limit_store, kca.RedisLimitStore)
            await client.account("acct-env", iid="st-1").contact_lists.create("From env")
        store = client.limit_store
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        assert any("acct-env" in key for key in await redis.keys("kca:*"))
        # The store's own connection is gone: only ours is left.
        clients = await redis.client_list()
    finally:
        await redis.aclose()
    assert len(clients) == 1
    assert isinstance(store, kca.RedisLimitStore)


async def test_kore_allow_insecure_http_lets_plain_http_reach_another_host() -> None:
    env = {"KORE_TOKEN": "jwt", "KORE_HOST": "http://kore.example"}
    with pytest.raises(kca.ConfigurationError, match="allow_insecure_http"):
        kca.CampaignClient.from_env(env=env)
    async with kca.CampaignClient.from_env(
        env={**env, "KORE_ALLOW_INSECURE_HTTP": "true"}
    ) as client:
        assert client.host == "http://kore.example"
    # An argument wins over the variable.
    with pytest.raises(kca.ConfigurationError, match="allow_insecure_http"):
        kca.CampaignClient.from_env(
            env={**env, "KORE_ALLOW_INSECURE_HTTP": "1"}, allow_insecure_http=False
        )


def test_a_bad_kore_allow_insecure_http_names_the_variable() -> None:
    with pytest.raises(kca.ConfigurationError) as caught:
        kca.CampaignClient.from_env(env={"KORE_TOKEN": "jwt", "KORE_ALLOW_INSECURE_HTTP": "y"})
    assert str(caught.value) == (
        "KORE_ALLOW_INSECURE_HTTP must be one of 1, true, yes, 0, false, no, got 'y'"
    )
