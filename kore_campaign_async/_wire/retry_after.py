"""Read how long the server asked us to wait: ``retry-after-ms`` or ``Retry-After``."""

from __future__ import annotations

import email.utils
import math
import re
import time
from collections.abc import Callable, Mapping
from datetime import timezone
from typing import Final

# Plain ASCII decimal numbers only: float() would also take "inf", "nan", "1e10", "1_0" and
# "١٢" (any Unicode digit, as a bare \d would).
_NUMBER: Final = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")


def parse_retry_after(
    headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> float | None:
    """Return the seconds the server asked us to wait, or None when it did not say sanely.

    ``retry-after-ms`` (milliseconds) wins over ``Retry-After`` (seconds or an HTTP-date;
    a date in the past means 0.0). Names match in any case. ``now`` is wall-clock epoch
    seconds, used only for HTTP-dates. Any finite, non-negative delay is reported in full,
    however long: bounding how long one answer may pause an account is the caller's policy.
    """
    # Header values are ASCII (RFC 9110); int() and float() would read any script's digits, in
    # a number or inside an HTTP-date alike.
    by_name = {name.lower(): value for name, value in headers.items() if value.isascii()}
    millis = _number(by_name.get("retry-after-ms"))
    if millis is not None and _sane(millis) is not None:
        return millis / 1000.0
    value = by_name.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is None:
        seconds = _seconds_until_date(value, now)
    return None if seconds is None else _sane(seconds)


def _number(text: str | None) -> float | None:
    if text is None or not _NUMBER.fullmatch(text.strip()):
        return None
    return float(text)


def _seconds_until_date(text: str, now: Callable[[], float]) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        # 3.10 raises TypeError on garbage, later versions ValueError.
        return None
    if when.tzinfo is None:
        # RFC 9110 dates are GMT; "-0000" comes back naive.
        when = when.replace(tzinfo=timezone.utc)
    try:
        return max(0.0, when.timestamp() - now())
    except (OverflowError, OSError, ValueError):
        return None


def _sane(seconds: float) -> float | None:
    # A long enough digit string overflows float() to inf: that is garbage, not a delay.
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds
