"""Resolve the CLI's settings from flags, then environment, then defaults: pure, no I/O.

Secrets (the client secret and a token) never appear in a message, a repr or a default shown
by ``--help``; errors about them name the flag and the environment variable only.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any, Final, get_args
from urllib.parse import urlsplit

import attrs

from kore_campaign_async import ApiVersion, CampaignClient, RateLimit

from ._exit import UsageError

# The CLI's defaults are the client's own: read from its signature, never restated.
_CLIENT_DEFAULTS: Final = {
    name: parameter.default
    for name, parameter in inspect.signature(CampaignClient).parameters.items()
}
API_VERSIONS: Final[tuple[ApiVersion, ...]] = get_args(ApiVersion)
DEFAULT_API_VERSION: Final[ApiVersion] = _CLIENT_DEFAULTS["api_version"]
DEFAULT_MAX_CONCURRENCY: Final[int] = _CLIENT_DEFAULTS["max_concurrency"]
_DEFAULT_RATE_LIMIT: Final[RateLimit] = _CLIENT_DEFAULTS["rate_limit"]
DEFAULT_RATE_LIMIT_REQUESTS: Final = _DEFAULT_RATE_LIMIT.requests
DEFAULT_RATE_LIMIT_PERIOD: Final = _DEFAULT_RATE_LIMIT.per

DEFAULT_HOST: Final = "https://platform.kore.ai"


@attrs.frozen
class Option:
    """One setting: its argparse destination, its flag and its environment variable."""

    dest: str
    flag: str
    env: str
    help: str
    secret: bool = False
    #: A switch: the flag takes no value; its variable is 1/true/yes or 0/false/no.
    switch: bool = False

    @property
    def names(self) -> str:
        """How errors name the setting: ``--account-id or KORE_ACCOUNT_ID``."""
        return f"{self.flag} or {self.env}"


OPTIONS: Final = (
    Option("host", "--host", "KORE_HOST", f"Kore host URL (default {DEFAULT_HOST})"),
    Option("client_id", "--client-id", "KORE_CLIENT_ID", "client id of the API Scope app"),
    Option(
        "client_secret",
        "--client-secret",
        "KORE_CLIENT_SECRET",
        "client secret of the app (prefer the environment variable)",
        secret=True,
    ),
    Option("token", "--token", "KORE_TOKEN", "a ready JWT instead of id and secret", secret=True),
    Option("account_id", "--account-id", "KORE_ACCOUNT_ID", "Kore account id"),
    Option("iid", "--iid", "KORE_IID", "application id (st-...)"),
    Option("stream_id", "--stream-id", "KORE_STREAM_ID", "stream id for v2 paths (default: iid)"),
    Option(
        "api_version",
        "--api-version",
        "KORE_API_VERSION",
        f"v1 or v2 (default {DEFAULT_API_VERSION})",
    ),
    Option(
        "rate_limit",
        "--rate-limit",
        "KORE_RATE_LIMIT",
        f"requests per period per account (default {DEFAULT_RATE_LIMIT_REQUESTS})",
    ),
    Option(
        "rate_period",
        "--rate-period",
        "KORE_RATE_PERIOD",
        f"rate-limit period in seconds (default {DEFAULT_RATE_LIMIT_PERIOD:g})",
    ),
    Option(
        "max_concurrency",
        "--max-concurrency",
        "KORE_MAX_CONCURRENCY",
        f"requests in flight per account (default {DEFAULT_MAX_CONCURRENCY})",
    ),
    Option(
        "redis_url",
        "--redis-url",
        "KORE_REDIS_URL",
        "share each account's rate limit with every process using this Redis "
        "(redis://host:6379/0; needs kore_campaign_async[redis]); default: this process only",
        secret=True,
    ),
    Option(
        "allow_insecure_http",
        "--allow-insecure-http",
        "KORE_ALLOW_INSECURE_HTTP",
        "send to a plain http:// host that is not this machine; the token then travels "
        "unencrypted (default: refused)",
        switch=True,
    ),
)
#: The spellings a switch's environment variable may take.
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
_BY_DEST: Final = {option.dest: option for option in OPTIONS}


def names_of(dest: str) -> str:
    """Return how messages name a setting, e.g. ``--account-id or KORE_ACCOUNT_ID``."""
    return _BY_DEST[dest].names


@attrs.frozen(kw_only=True)
class Settings:
    """Everything a command needs to build a client and address an account."""

    host: str = DEFAULT_HOST
    client_id: str | None = None
    client_secret: str | None = attrs.field(default=None, repr=False)
    token: str | None = attrs.field(default=None, repr=False)
    account_id: str | None = None
    iid: str | None = None
    stream_id: str | None = None
    api_version: ApiVersion = DEFAULT_API_VERSION
    rate_limit: int = DEFAULT_RATE_LIMIT_REQUESTS
    rate_period: float = DEFAULT_RATE_LIMIT_PERIOD
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    #: May carry a password: never shown.
    redis_url: str | None = attrs.field(default=None, repr=False)
    allow_insecure_http: bool = False

    def credentials(self) -> dict[str, str]:
        """Return the credential keywords for ``CampaignClient``."""
        if self.token is not None:
            return {"token": self.token}
        if self.client_id is not None and self.client_secret is not None:
            return {"client_id": self.client_id, "client_secret": self.client_secret}
        missing = [
            _BY_DEST[dest].names
            for dest in ("client_id", "client_secret")
            if getattr(self, dest) is None
        ]
        raise UsageError(
            f"missing credentials: set {' and '.join(missing)} "
            f"(or give a ready JWT with {_BY_DEST['token'].names})"
        )

    def account(self) -> tuple[str, str, str | None]:
        """Return ``(account_id, iid, stream_id)`` or say which setting is missing."""
        if self.account_id is None:
            raise UsageError(f"missing account id: set {_BY_DEST['account_id'].names}")
        if self.iid is None:
            raise UsageError(f"missing iid: set {_BY_DEST['iid'].names}")
        return self.account_id, self.iid, self.stream_id


def _pick(dest: str, flags: Mapping[str, Any], env: Mapping[str, str]) -> tuple[str | None, bool]:
    """Return the raw value and whether it came from a flag; empty values count as unset."""
    value = flags.get(dest)
    if value is not None and value != "":
        return str(value), True
    from_env = env.get(_BY_DEST[dest].env, "")
    return (from_env, False) if from_env != "" else (None, False)


def _positive_int(dest: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"{_BY_DEST[dest].names} must be a positive integer, got {raw!r}")
    return value


def _positive_float(dest: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (0 < value < math.inf):
        raise UsageError(f"{_BY_DEST[dest].names} must be a positive number, got {raw!r}")
    return value


def resolve_settings(flags: Mapping[str, Any], env: Mapping[str, str]) -> Settings:
    """Build the settings: a flag beats its environment variable, which beats the default.

    A ``--token`` flag beats client credentials from anywhere, and client id and secret
    (flags or environment) beat a ``KORE_TOKEN`` from the environment.
    """
    raw = {option.dest: _pick(option.dest, flags, env) for option in OPTIONS}
    values: dict[str, Any] = {
        dest: raw[dest][0]
        for dest in ("host", "client_id", "client_secret", "account_id", "iid", "stream_id")
        if raw[dest][0] is not None
    }
    token, token_from_flag = raw["token"]
    has_client = raw["client_id"][0] is not None and raw["client_secret"][0] is not None
    if token is not None and (token_from_flag or not has_client):
        values["token"] = token
    version = raw["api_version"][0]
    if version is not None:
        if version not in API_VERSIONS:
            raise UsageError(f"{_BY_DEST['api_version'].names} must be v1 or v2, got {version!r}")
        values["api_version"] = version
    if raw["rate_limit"][0] is not None:
        values["rate_limit"] = _positive_int("rate_limit", raw["rate_limit"][0])
    if raw["rate_period"][0] is not None:
        values["rate_period"] = _positive_float("rate_period", raw["rate_period"][0])
    if raw["max_concurrency"][0] is not None:
        values["max_concurrency"] = _positive_int("max_concurrency", raw["max_concurrency"][0])
    redis_url = raw["redis_url"][0]
    if redis_url is not None:
        values["redis_url"] = check_redis_url(redis_url)
    if raw["allow_insecure_http"][0] is not None:
        values["allow_insecure_http"] = _switch(
            "allow_insecure_http", raw["allow_insecure_http"][0]
        )
    return Settings(**values)


def _switch(dest: str, raw: str) -> bool:
    try:
        return SWITCH_VALUES[raw.strip().lower()]
    except KeyError:
        raise UsageError(
            f"{_BY_DEST[dest].names} must be one of {', '.join(SWITCH_VALUES)}, got {raw!r}"
        ) from None


def check_redis_url(url: str) -> str:
    """Return ``url`` if redis-py can connect with it; else UsageError (never echoing it)."""
    # Not echoed: the URL may carry a password.
    if url.partition("://")[0] not in REDIS_SCHEMES or "://" not in url:
        raise UsageError(
            f"{_BY_DEST['redis_url'].names} must be a redis://, rediss:// or unix:// URL"
        )
    try:
        urlsplit(url).port  # noqa: B018 - read for the ValueError of a bad or too large port
    except ValueError:
        raise UsageError(
            f"{_BY_DEST['redis_url'].names} is not a usable URL: check the host and the port "
            "(1-65535)"
        ) from None
    return url
