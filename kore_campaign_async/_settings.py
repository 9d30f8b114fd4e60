"""``ClientSettings``: a client's settings, each checked once, the error naming field and limit."""

from __future__ import annotations

from typing import Any

import attrs

from ._config import (
    API_VERSIONS,
    DEFAULT_API_VERSION,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RESPONSE_BYTES,
    ApiVersion,
    Timeout,
    config_error,
    is_positive_int,
    setting,
)
from ._http.policy import RetryBudget, RetryPolicy
from ._quota.rate_limit import DEFAULT_RATE_LIMIT, RateLimit
from ._wire.base_url import BaseUrl, check_base_url


def _read_base_url(value: object) -> BaseUrl:
    # Plain http is judged once the opt-in is known: see _secure_unless_allowed.
    return check_base_url(value, allow_insecure_http=True)


def _secure_unless_allowed(settings: ClientSettings, _attribute: object, allowed: bool) -> None:
    settings.base_url.refuse_plain_http(allowed=allowed)


def _timeout(value: Timeout | float | None) -> Timeout:
    return Timeout.coerce(value)


def _retry(value: RetryPolicy | None) -> RetryPolicy:
    return RetryPolicy() if value is None else value


def _instance_of(kind: type) -> Any:
    return lambda value: isinstance(value, kind)


def check_rate_limit(value: object) -> RateLimit | None:
    """Return ``value`` if it is a RateLimit or None (``client.account(rate_limit=)``)."""
    if value is not None and not isinstance(value, RateLimit):
        raise config_error("rate_limit", "a RateLimit or None", value)
    return value


@attrs.frozen
class ClientSettings:
    """What ``CampaignClient`` takes besides credentials, clock and transport, checked whole.

    Built before anything else, so a bad setting fails the constructor with nothing opened.
    """

    base_url: BaseUrl = attrs.field(converter=_read_base_url)
    """The host as given (``.url``) and its normalised ``.origin``, which names it in quota keys."""
    api_version: ApiVersion = attrs.field(
        default=DEFAULT_API_VERSION,
        validator=setting(f"one of {list(API_VERSIONS)}", API_VERSIONS.__contains__),
    )
    timeout: Timeout = attrs.field(factory=Timeout, converter=_timeout)
    """Each attempt's time limits; a number is the total seconds, None no limit."""
    retry: RetryPolicy = attrs.field(
        factory=RetryPolicy,
        converter=_retry,
        validator=setting("a RetryPolicy", _instance_of(RetryPolicy)),
    )
    """None: the default policy."""
    retry_budget: RetryBudget | None = attrs.field(
        default=None,
        validator=setting("a RetryBudget", _instance_of(RetryBudget), optional=True),
    )
    """A budget shared by every account (None: see ``budget_per_account``)."""
    budget_per_account: bool = False
    """Each account gets a budget of its own, so one account's outage cannot fail another fast."""
    rate_limit: RateLimit | None = attrs.field(
        default=DEFAULT_RATE_LIMIT,
        validator=setting("a RateLimit", _instance_of(RateLimit), optional=True),
    )
    max_concurrency: int = attrs.field(
        default=DEFAULT_MAX_CONCURRENCY, validator=setting("an int >= 1", is_positive_int)
    )
    max_response_bytes: int | None = attrs.field(
        default=DEFAULT_MAX_RESPONSE_BYTES,
        validator=setting("an int >= 1", is_positive_int, optional=True),
    )
    adaptive: bool = True
    allow_insecure_http: bool = attrs.field(default=False, validator=_secure_unless_allowed)
    """Plain ``http://`` to a host that is not this machine (the token goes in clear text)."""

    @property
    def host(self) -> str:
        """Scheme, host, port and path, without a trailing slash."""
        return self.base_url.url
