"""A malformed Redis URL is a ConfigurationError that never quotes its password."""

from __future__ import annotations

import pytest

import kore_campaign_async as kca

pytest.importorskip("redis")

PASSWORD = "s3cret-Pa55"
MALFORMED = {
    "port-not-a-number": f"redis://:{PASSWORD}@cache:notaport/0",
    "port-too-large": f"redis://:{PASSWORD}@cache:70000/0",
    "ipv6-left-open": f"redis://:{PASSWORD}@[::1:6379/0",
    "other-scheme": f"http://:{PASSWORD}@cache:6379",
    "bad-option": f"redis://:{PASSWORD}@cache:6379/0?socket_timeout=soon",
    "bad-db": f"redis://:{PASSWORD}@cache:6379/0?db=first",
}
#: A password that reads like redis-py's own message must not slip out through it.
LIKE_THE_MESSAGE = "redis://user:Port%20could%20not@cache:x/0"


@pytest.mark.parametrize("url", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_url_is_a_configuration_error_without_the_password(url: str) -> None:
    with pytest.raises(kca.ConfigurationError, match="not a usable Redis URL") as info:
        kca.RedisLimitStore.from_url(url)
    assert PASSWORD not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_a_password_like_the_reason_withholds_the_reason() -> None:
    with pytest.raises(kca.ConfigurationError, match=r"URL \(ValueError\)") as info:
        kca.RedisLimitStore.from_url(LIKE_THE_MESSAGE)
    assert "Port could not" not in str(info.value)


def test_a_url_that_is_no_string_is_a_configuration_error() -> None:
    with pytest.raises(kca.ConfigurationError, match="must be a str"):
        kca.RedisLimitStore.from_url(6379)  # type: ignore[arg-type]
