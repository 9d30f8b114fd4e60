"""ClientSettings: each client setting checked once, before anything opens; errors name the
field, the limit and the value given."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest

import kore_campaign_async as kca
from kore_campaign_async._settings import ClientSettings

HOST = "https://platform.kore.ai"


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("api_version", "v3", "api_version must be one of ['v1', 'v2'], got 'v3'"),
        ("retry", 5, "retry must be a RetryPolicy, got 5"),
        ("retry_budget", 5, "retry_budget must be a RetryBudget or None, got 5"),
        ("rate_limit", 60, "rate_limit must be a RateLimit or None, got 60"),
        ("max_concurrency", 0, "max_concurrency must be an int >= 1, got 0"),
        ("max_concurrency", True, "max_concurrency must be an int >= 1, got True"),
        ("max_concurrency", 2.0, "max_concurrency must be an int >= 1, got 2.0"),
        ("max_response_bytes", 0, "max_response_bytes must be an int >= 1 or None, got 0"),
        ("timeout", "x", "timeout must be a Timeout or seconds, got 'x'"),
    ],
)
def test_a_bad_setting_names_its_field_limit_and_value(
    setting: str, value: Any, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("a session was opened for a client that cannot be built")

    monkeypatch.setattr(aiohttp.ClientSession, "__init__", refuse)
    with pytest.raises(kca.ConfigurationError, match=f"^{re.escape(message)}$"):
        kca.CampaignClient(HOST, token="t", **{setting: value})


@pytest.mark.parametrize(
    ("host", "message"),
    [
        (5, "host must be a URL string, got int"),
        ("platform.kore.ai", "host must look like https://platform.kore.ai"),
        ("https://h/?q=1", "host must not carry a query or a fragment"),
    ],
)
def test_a_bad_host_is_refused(host: Any, message: str) -> None:
    with pytest.raises(kca.ConfigurationError, match=re.escape(message)):
        ClientSettings(host)


def test_the_defaults_are_kores_and_none_means_the_default_policy() -> None:
    settings = ClientSettings(" https://platform.kore.ai/ ", retry=None, timeout=30)
    assert settings.host == HOST
    assert settings.rate_limit == kca.RateLimit(60, per=60.0)
    assert settings.retry == kca.RetryPolicy()
    assert settings.timeout == kca.Timeout(total=30.0, connect=10.0)
    assert settings.max_response_bytes == 64 * 1024 * 1024
    assert ClientSettings(HOST, max_response_bytes=None, rate_limit=None).rate_limit is None


def test_an_accounts_own_limits_are_checked_alike() -> None:
    client = kca.CampaignClient(HOST, token="t")
    with pytest.raises(kca.ConfigurationError, match=r"^rate_limit must be a RateLimit or None"):
        client.account("a", iid="b", rate_limit=5)  # type: ignore[arg-type]
    with pytest.raises(kca.ConfigurationError, match=r"^max_concurrency must be an int >= 1"):
        client.account("a", iid="b", max_concurrency=-1)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: kca.RateLimit(0), "RateLimit.requests must be an int >= 1, got 0"),
        (lambda: kca.RateLimit(per=float("nan")), "RateLimit.per must be finite and > 0, got nan"),
        (lambda: kca.RateLimit(burst=0), "RateLimit.burst must be an int >= 1 or None, got 0"),
        (
            lambda: kca.RateLimit(max_pause=float("inf")),
            "RateLimit.max_pause must be finite and > 0 or None, got inf",
        ),
    ],
)
def test_rate_limit_errors_take_the_same_shape(make: Any, message: str) -> None:
    with pytest.raises(kca.ConfigurationError, match=f"^{re.escape(message)}$"):
        make()
