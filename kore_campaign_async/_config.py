"""Policy numbers in one place: documented limits, defaults, header names, and ``Timeout``."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final, Literal

import attrs

from ._exceptions import ConfigurationError
from ._version import __version__

ApiVersion = Literal["v1", "v2"]
API_VERSIONS: Final[tuple[ApiVersion, ...]] = ("v1", "v2")
DEFAULT_API_VERSION: Final[ApiVersion] = "v2"

# Documented body limits (create/update pages).
NAME_MAX_LENGTH: Final = 48
DESCRIPTION_MAX_LENGTH: Final = 256
PASSIVE_API_SOURCE: Final = "passiveApi"
# Ids (account, iid, stream, list): Kore's are at most ~40 characters (24 hex digits for an
# account, "st-" or "cl-" and a UUID for the rest); 128 leaves room for any other shape and
# keeps a path with three of them far below the request-line limits servers enforce.
ID_MAX_LENGTH: Final = 128

# Header names are literal: Kore reads `auth`, not `Authorization: Bearer`.
AUTH_HEADER: Final = "auth"
IID_HEADER: Final = "iid"
ACCOUNT_HEADER: Final = "accountId"
USER_AGENT: Final = f"kore_campaign_async/{__version__}"

# Timeouts (seconds). Connect short, total generous: a create can take a second or two.
DEFAULT_CONNECT_TIMEOUT: Final = 10.0
DEFAULT_TOTAL_TIMEOUT: Final = 60.0

# A token_provider gets this long per fetch; every call waiting on that fetch fails with it.
DEFAULT_TOKEN_TIMEOUT: Final = 30.0

# Longest answer read. One list in getAllListDetails is 0.9 KB of compact JSON as documented,
# 1.0 KB at the maximum name and description, 1.4 KB for a UI upload naming campaigns, columns
# and a file: 64 MiB holds a listing of 47,000-75,000 lists (pretty-printed, ~20 % fewer), and
# refuses a runaway answer before it takes the process's memory.
DEFAULT_MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024

# JWT. Kore does not document a lifetime; its own BotKit signs 60 s tokens.
JWT_ALGORITHM: Final = "HS256"
JWT_LIFETIME_SECONDS: Final = 300.0
JWT_RENEW_BEFORE_SECONDS: Final = 60.0
# Backdate `iat` so a server clock slightly behind ours still accepts the token.
JWT_CLOCK_SKEW_SECONDS: Final = 30.0

# Kore's documented limit: 60 requests per minute per account.
DEFAULT_RATE_LIMIT_REQUESTS: Final = 60
DEFAULT_RATE_LIMIT_PERIOD: Final = 60.0
DEFAULT_MAX_CONCURRENCY: Final = 8

# Retries.
DEFAULT_MAX_ATTEMPTS: Final = 5
DEFAULT_BACKOFF_BASE: Final = 0.5
DEFAULT_BACKOFF_CAP: Final = 30.0
DEFAULT_RETRY_DEADLINE: Final = 300.0
# Honour server-directed delays (Retry-After on any retried answer, an account's pause after
# a 429) up to two minutes; a longer one fails the call at once with retry_after set.
DEFAULT_MAX_RETRY_AFTER: Final = 120.0
RETRYABLE_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})

# Kore's documented text when the per-minute limit is exceeded.
RATE_LIMIT_MESSAGE: Final = (
    "You've exceeded the per-minute rate limit. Please wait for sometime before retrying."
)

# getAllContacts page size as documented (limit 50).
DEFAULT_CONTACTS_PAGE_SIZE: Final = 50


Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]
"""An attrs validator: ``(instance, attribute, value)``."""


def is_positive_int(value: object) -> bool:
    """An int >= 1; a bool is not an int here."""
    return type(value) is int and value >= 1


def is_positive_finite(value: object) -> bool:
    """A number > 0 and < inf (NaN is not); a bool is not a number here."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < math.inf


def config_error(field: str, limit: str, value: object) -> ConfigurationError:
    """The one shape of a settings error: the field, the limit, the value given."""
    return ConfigurationError(f"{field} must be {limit}, got {value!r}")


def require_positive_int(field: str, value: object) -> int:
    """Return ``value`` if it is an int >= 1, else raise ConfigurationError naming ``field``."""
    if not isinstance(value, int) or not is_positive_int(value):
        raise config_error(field, "an int >= 1", value)
    return value


def setting(
    limit: str, ok: Callable[[Any], bool], *, owner: str = "", optional: bool = False
) -> Validator:
    """An attrs validator raising ``config_error`` as ``owner.field`` (or ``field``) and ``limit``.

    ``optional``: None passes too (and the limit says so).
    """
    prefix = f"{owner}." if owner else ""
    shown = f"{limit} or None" if optional else limit

    def validate(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not (optional and value is None) and not ok(value):
            raise config_error(f"{prefix}{attribute.name}", shown, value)

    return validate


def _positive_or_none(_instance: Any, attribute: Any, value: float | None) -> None:
    if value is not None and (not isinstance(value, (int, float)) or value <= 0):
        raise ConfigurationError(f"timeout.{attribute.name} must be a positive number or None")


@attrs.frozen
class Timeout:
    """Seconds one attempt may take: ``connect`` to open a connection, ``total`` for all."""

    total: float | None = attrs.field(default=DEFAULT_TOTAL_TIMEOUT, validator=_positive_or_none)
    connect: float | None = attrs.field(
        default=DEFAULT_CONNECT_TIMEOUT, validator=_positive_or_none
    )

    @classmethod
    def coerce(cls, value: Timeout | float | None) -> Timeout:
        """Accept a Timeout, a number of seconds (total), or None (no limit)."""
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(total=None, connect=None)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigurationError(f"timeout must be a Timeout or seconds, got {value!r}")
        return cls(total=float(value), connect=min(float(value), DEFAULT_CONNECT_TIMEOUT))
