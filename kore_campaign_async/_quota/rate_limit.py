"""What an account's pace is configured with: the public ``RateLimit`` and the ``PacingSettings``
every process sharing the account must agree on (the state machine using them: pacing.py)."""

from __future__ import annotations

import functools
from typing import Final

import attrs

from .._config import (
    DEFAULT_RATE_LIMIT_PERIOD,
    DEFAULT_RATE_LIMIT_REQUESTS,
    is_positive_finite,
    is_positive_int,
    setting,
)

#: Pacing a hair slower than the limit keeps latency jitter from putting limit + 1 in a window.
DEFAULT_MARGIN: Final = 0.02

_POSITIVE_INT: Final = "an int >= 1"
_POSITIVE: Final = "finite and > 0"


def _in_margin(value: object) -> bool:
    return isinstance(value, (int, float)) and 0 <= value < 1


@attrs.frozen
class RateLimit:
    """At most ``requests`` request starts per ``per`` seconds, evenly spaced.

    ``burst``: requests an idle account may start at once (default 1); ``max_pause``: the longest
    one 429 pauses the account (default two windows; the error keeps the whole ``retry_after``).
    """

    requests: int = attrs.field(
        default=DEFAULT_RATE_LIMIT_REQUESTS,
        validator=setting(_POSITIVE_INT, is_positive_int, owner="RateLimit"),
    )
    per: float = attrs.field(
        default=DEFAULT_RATE_LIMIT_PERIOD,
        validator=setting(_POSITIVE, is_positive_finite, owner="RateLimit"),
    )
    """Window length in seconds."""
    burst: int | None = attrs.field(
        default=None,
        validator=setting(_POSITIVE_INT, is_positive_int, owner="RateLimit", optional=True),
    )
    max_pause: float | None = attrs.field(
        default=None,
        validator=setting(_POSITIVE, is_positive_finite, owner="RateLimit", optional=True),
    )

    @property
    def interval(self) -> float:
        """The average spacing of requests at the full rate."""
        return self.per / self.requests


DEFAULT_RATE_LIMIT: Final = RateLimit(DEFAULT_RATE_LIMIT_REQUESTS, per=DEFAULT_RATE_LIMIT_PERIOD)
"""Every client's pace per account unless told otherwise: Kore's documented limit."""


@attrs.frozen
class PacingSettings:
    """One account's rate-limit settings: every process sharing the account must agree."""

    requests: int = attrs.field(
        default=DEFAULT_RATE_LIMIT_REQUESTS, validator=setting(_POSITIVE_INT, is_positive_int)
    )
    per: float = attrs.field(
        default=DEFAULT_RATE_LIMIT_PERIOD, validator=setting(_POSITIVE, is_positive_finite)
    )
    #: Requests an idle account may start at once (default 1: none beyond the pace).
    burst: int | None = attrs.field(
        default=None, validator=setting(_POSITIVE_INT, is_positive_int, optional=True)
    )
    #: Longest pause one 429 imposes, whatever its Retry-After (default: two windows).
    max_pause: float | None = attrs.field(
        default=None, validator=setting(_POSITIVE, is_positive_finite, optional=True)
    )
    margin: float = attrs.field(default=DEFAULT_MARGIN, validator=setting("in [0, 1)", _in_margin))
    #: Learn from 429s (burst and limit); False: a 429 only pauses the account.
    adaptive: bool = True

    @property
    def start_burst(self) -> int:
        """The burst of a fresh account."""
        return self.burst if self.burst is not None else 1

    @property
    def pause_cap(self) -> float:
        """The longest pause one 429 imposes."""
        return self.max_pause if self.max_pause is not None else 2 * self.per

    def fingerprint(self) -> str:
        """The settings as one string: equal strings, equal settings (stored beside the state)."""
        return (
            f"{self.requests} per {self.per!r}s, burst {self.start_burst}, "
            f"max pause {self.pause_cap!r}s, margin {self.margin!r}"
            + ("" if self.adaptive else ", not adaptive")
        )


@functools.lru_cache(maxsize=256)
def pacing_settings(rate: RateLimit, margin: float, adaptive: bool) -> PacingSettings:
    """The settings of ``rate``: one frozen object for equal ones, shared by their accounts."""
    return PacingSettings(rate.requests, rate.per, rate.burst, rate.max_pause, margin, adaptive)
