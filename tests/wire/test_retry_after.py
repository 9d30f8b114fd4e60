"""parse_retry_after: every header shape a server (or a broken proxy) may send."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from kore_campaign_async._wire.retry_after import parse_retry_after

DAY = 24 * 60 * 60.0

NOW = 1_700_000_000.0


def http_date(offset: float) -> str:
    return format_datetime(datetime.fromtimestamp(NOW + offset, tz=timezone.utc), usegmt=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"Retry-After": "7"}, 7.0, id="seconds"),
        pytest.param({"retry-after": "0"}, 0.0, id="zero"),
        pytest.param({"RETRY-AFTER": " 2.5 "}, 2.5, id="fractional-any-case"),
        pytest.param({"retry-after-ms": "1500"}, 1.5, id="ms"),
        pytest.param({"Retry-After-Ms": "250.5"}, 0.2505, id="fractional-ms"),
        pytest.param({"Retry-After": "3", "retry-after-ms": "100"}, 0.1, id="ms-wins"),
        pytest.param({"Retry-After": "3", "retry-after-ms": "soon"}, 3.0, id="bad-ms-falls-back"),
        pytest.param({"Retry-After": http_date(30)}, 30.0, id="date-future"),
        pytest.param({"Retry-After": http_date(-30)}, 0.0, id="date-past"),
        # No cliff: the server's full delay is reported, however long (the limiter caps pauses).
        pytest.param({"Retry-After": http_date(2 * DAY)}, 2 * DAY, id="date-far"),
        pytest.param({"Retry-After": "86400"}, DAY, id="a-day"),
        pytest.param({"Retry-After": "86401"}, DAY + 1, id="more-than-a-day"),
        pytest.param({"Retry-After": "31536000"}, 365 * DAY, id="a-year"),
        pytest.param({"Retry-After": "1" + "0" * 20}, 1e20, id="huge-but-finite"),
        pytest.param({"retry-after-ms": "86400001"}, DAY + 0.001, id="ms-more-than-a-day"),
        pytest.param({"Retry-After": "9" * 400}, None, id="overflows-to-inf"),
        pytest.param({"retry-after-ms": "9" * 400, "Retry-After": "2"}, 2.0, id="inf-ms-ignored"),
        pytest.param({"Retry-After": "1e10"}, None, id="exponent"),
        pytest.param({"Retry-After": "inf"}, None, id="inf"),
        pytest.param({"Retry-After": "nan"}, None, id="nan"),
        pytest.param({"Retry-After": "-1"}, None, id="negative"),
        pytest.param({"retry-after-ms": "-5"}, None, id="negative-ms"),
        pytest.param({"Retry-After": "1_0"}, None, id="underscore"),
        # int() and float() read any script's digits; a header's are ASCII only.
        pytest.param({"Retry-After": "\u0661\u0662"}, None, id="arabic-indic-digits"),
        pytest.param(
            {"retry-after-ms": "\u0661\u0662", "Retry-After": "2"}, 2.0, id="non-ascii-ms"
        ),
        pytest.param({"Retry-After": "\uff13"}, None, id="fullwidth-digit"),
        pytest.param(
            {"Retry-After": http_date(30).replace(" 14 ", " \u0661\u0664 ")},
            None,
            id="date-with-arabic-indic-day",
        ),
        pytest.param({"Retry-After": ""}, None, id="empty"),
        pytest.param({"Retry-After": "soon, please"}, None, id="garbage"),
        pytest.param({"Retry-After": "Mon, 99 Foo 2024 99:99:99 GMT"}, None, id="broken-date"),
        pytest.param({}, None, id="missing"),
        pytest.param({"Content-Type": "application/json"}, None, id="other-headers"),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    got = parse_retry_after(headers, now=lambda: NOW)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_naive_http_date_is_read_as_utc() -> None:
    # "-0000" means "UTC, origin unknown" and parses to a naive datetime.
    naive = http_date(10).replace("GMT", "-0000")
    assert parse_retry_after({"Retry-After": naive}, now=lambda: NOW) == pytest.approx(10.0)
