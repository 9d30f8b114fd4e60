"""--redis-url / KORE_REDIS_URL: a malformed URL is a usage error that never shows it."""

from __future__ import annotations

import pytest

from kore_campaign_async.cli._config import check_redis_url
from kore_campaign_async.cli._exit import UsageError

PASSWORD = "s3cret-Pa55"


@pytest.mark.parametrize(
    "url",
    [
        f"redis://:{PASSWORD}@cache:notaport/0",
        f"redis://:{PASSWORD}@cache:70000/0",
        f"redis://:{PASSWORD}@[::1:6379/0",
    ],
)
def test_a_malformed_redis_url_is_a_usage_error_without_the_password(url: str) -> None:
    with pytest.raises(UsageError, match="--redis-url or KORE_REDIS_URL") as info:
        check_redis_url(url)
    assert PASSWORD not in str(info.value)


def test_a_well_formed_redis_url_passes() -> None:
    url = f"redis://:{PASSWORD}@cache.internal:6379/0"
    assert check_redis_url(url) == url
