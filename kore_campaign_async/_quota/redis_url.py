"""What ``RedisLimitStore.from_url`` needs of redis-py and says of a URL it refuses (never
the URL or its password)."""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import unquote

from .._exceptions import ConfigurationError


def bad_url(url: str, error: Exception) -> ConfigurationError:
    """Say why redis-py refused ``url`` without ever quoting the URL or its password."""
    reason = str(error)
    secrets = [text for part in _userinfo(url).split(":") for text in (part, unquote(part)) if text]
    if any(secret in reason for secret in secrets):
        reason = type(error).__name__
    return ConfigurationError(
        f"RedisLimitStore.from_url: not a usable Redis URL ({reason}); expected "
        "redis://[:password@]host[:port][/db], rediss://... or unix://path"
    )


def _userinfo(url: str) -> str:
    netloc = url.partition("://")[2].split("/", 1)[0]
    return netloc.rpartition("@")[0]


def import_redis() -> Any:
    """redis-py's asyncio client module, or a ConfigurationError saying how to get it."""
    try:
        return importlib.import_module("redis.asyncio")
    except ImportError as exc:
        raise ConfigurationError(
            "RedisLimitStore needs redis-py: pip install 'kore_campaign_async[redis]'"
        ) from exc
