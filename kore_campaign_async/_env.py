"""Read a client's settings from ``KORE_*`` environment variables (``CampaignClient.from_env``).

The names are the command-line tool's: ``KORE_HOST``, ``KORE_CLIENT_ID`` + ``KORE_CLIENT_SECRET``
(or ``KORE_TOKEN``), ``KORE_API_VERSION``, ``KORE_RATE_LIMIT`` + ``KORE_RATE_PERIOD``,
``KORE_MAX_CONCURRENCY``, ``KORE_ALLOW_INSECURE_HTTP`` (1/true/yes or 0/false/no) and
``KORE_REDIS_URL``: every account paced through that Redis, in a store the client made and so
closes. An argument always wins over its variable, and any
credential argument means no credential is read from the environment; an empty variable counts
as unset. Errors name the variable, never its value when it may be a secret. Nothing connects
here: the Redis client connects on first use.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import attrs

from ._config import API_VERSIONS, DEFAULT_RATE_LIMIT_PERIOD, DEFAULT_RATE_LIMIT_REQUESTS
from ._exceptions import ConfigurationError
from ._quota.rate_limit import RateLimit
from ._quota.redis_store import RedisLimitStore
from ._quota.store import LimitStore

DEFAULT_HOST: Final = "https://platform.kore.ai"
#: Every credential keyword: one given as an argument means none is read from the environment.
CREDENTIALS: Final = frozenset({"client_id", "client_secret", "token", "token_provider"})
#: The spellings ``KORE_ALLOW_INSECURE_HTTP`` may take.
SWITCH_VALUES: Final = {
    "1": True,
    "true": True,
    "yes": True,
    "0": False,
    "false": False,
    "no": False,
}
#: URL schemes redis-py connects with.
REDIS_SCHEMES: Final = ("redis", "rediss", "unix")


@attrs.frozen
class EnvSettings:
    """The client's keywords, the given ones over the environment's, and a store it made."""

    kwargs: dict[str, Any]
    limit_store: LimitStore | None = None
    """A ``RedisLimitStore`` made from ``KORE_REDIS_URL``: the client closes it."""


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "")
    return value if value != "" else None


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigurationError(f"{name} must be a positive integer, got {raw!r}")
    return value


def _positive_float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (0 < value < math.inf):
        raise ConfigurationError(f"{name} must be a positive number, got {raw!r}")
    return value


def _switch(name: str, raw: str) -> bool:
    try:
        return SWITCH_VALUES[raw.strip().lower()]
    except KeyError:
        raise ConfigurationError(
            f"{name} must be one of {', '.join(SWITCH_VALUES)}, got {raw!r}"
        ) from None


def _credentials(env: Mapping[str, str]) -> dict[str, str]:
    # As in the CLI: a client id and secret beat a ready KORE_TOKEN.
    client_id, secret = _get(env, "KORE_CLIENT_ID"), _get(env, "KORE_CLIENT_SECRET")
    if client_id is not None and secret is not None:
        return {"client_id": client_id, "client_secret": secret}
    token = _get(env, "KORE_TOKEN")
    if token is not None:
        return {"token": token}
    if client_id is None and secret is None:
        raise ConfigurationError(
            "no credentials: set KORE_CLIENT_ID and KORE_CLIENT_SECRET (or KORE_TOKEN), "
            "or pass client_id/client_secret, token or token_provider"
        )
    missing = "KORE_CLIENT_SECRET" if secret is None else "KORE_CLIENT_ID"
    raise ConfigurationError(f"{missing} is not set (or pass it as an argument)")


def _rate_limit(env: Mapping[str, str]) -> RateLimit | None:
    requests, period = _get(env, "KORE_RATE_LIMIT"), _get(env, "KORE_RATE_PERIOD")
    if requests is None and period is None:
        return None
    return RateLimit(
        DEFAULT_RATE_LIMIT_REQUESTS
        if requests is None
        else _positive_int("KORE_RATE_LIMIT", requests),
        per=DEFAULT_RATE_LIMIT_PERIOD
        if period is None
        else _positive_float("KORE_RATE_PERIOD", period),
    )


def check_redis_url(name: str, url: str) -> str:
    """Return ``url`` if redis-py can connect with it; never echo it (it may hold a password)."""
    if "://" not in url or url.partition("://")[0] not in REDIS_SCHEMES:
        raise ConfigurationError(f"{name} must be a redis://, rediss:// or unix:// URL")
    return url


def read_env(
    env: Mapping[str, str], given: Mapping[str, Any], host: str | None = None
) -> EnvSettings:
    """Return ``given`` (and ``host``) completed from the environment; the given ones win."""
    given = dict(given) if host is None else {**given, "host": host}
    found: dict[str, Any] = {}
    if "host" not in given:
        found["host"] = _get(env, "KORE_HOST") or DEFAULT_HOST
    if not CREDENTIALS & given.keys():
        found.update(_credentials(env))
    version = _get(env, "KORE_API_VERSION")
    if version is not None and "api_version" not in given:
        if version not in API_VERSIONS:
            raise ConfigurationError(f"KORE_API_VERSION must be v1 or v2, got {version!r}")
        found["api_version"] = version
    if "rate_limit" not in given and (rate_limit := _rate_limit(env)) is not None:
        found["rate_limit"] = rate_limit
    concurrency = _get(env, "KORE_MAX_CONCURRENCY")
    if concurrency is not None and "max_concurrency" not in given:
        found["max_concurrency"] = _positive_int("KORE_MAX_CONCURRENCY", concurrency)
    insecure = _get(env, "KORE_ALLOW_INSECURE_HTTP")
    if insecure is not None and "allow_insecure_http" not in given:
        found["allow_insecure_http"] = _switch("KORE_ALLOW_INSECURE_HTTP", insecure)
    redis_url = _get(env, "KORE_REDIS_URL")
    if redis_url is None or "limit_store" in given:
        return EnvSettings({**found, **given})
    # Made last, once every other variable has been read without error.
    store = RedisLimitStore.from_url(check_redis_url("KORE_REDIS_URL", redis_url))
    return EnvSettings({**found, **given, "limit_store": store}, store)
