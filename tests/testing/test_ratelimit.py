"""Rate windows and Retry-After headers, without a server."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest

from kore_campaign_async.testing._ratelimit import (
    RateWindows,
    ServerRateLimit,
    retry_after_headers,
)


def test_fixed_windows_align_to_multiples_of_the_window() -> None:
    windows = RateWindows(ServerRateLimit(limit=2, window=10.0, mode="fixed"))
    assert windows.admit("a", 105.0) is None
    assert windows.admit("a", 109.0) is None
    assert windows.admit("a", 109.5) == pytest.approx(0.5)
    # A refusal is not counted: the next window starts with a full allowance.
    assert windows.admit("a", 110.0) is None
    assert windows.admit("a", 119.9) is None
    assert windows.admit("a", 119.9) == pytest.approx(0.1)


def test_sliding_window_counts_the_last_window_seconds() -> None:
    windows = RateWindows(ServerRateLimit(limit=2, window=10.0, mode="sliding"))
    assert windows.admit("a", 105.0) is None
    assert windows.admit("a", 109.0) is None
    # A fixed window would have reset at 110; the sliding one frees a slot at 115.
    assert windows.admit("a", 110.0) == pytest.approx(5.0)
    assert windows.admit("a", 115.0) is None
    assert windows.admit("a", 118.0) == pytest.approx(1.0)
    assert windows.admit("a", 119.0) is None


def test_token_bucket_allows_its_burst_then_the_refill_rate() -> None:
    windows = RateWindows(ServerRateLimit(limit=10, window=10.0, mode="token_bucket", burst=2))
    assert windows.admit("a", 100.0) is None
    assert windows.admit("a", 100.0) is None
    # Empty: one token a second refills it.
    assert windows.admit("a", 100.0) == pytest.approx(1.0)
    assert windows.admit("a", 100.5) == pytest.approx(0.5)
    assert windows.admit("a", 101.0) is None
    # Idle time refills no more than the bucket holds.
    assert windows.admit("a", 200.0) is None
    assert windows.admit("a", 200.0) is None
    assert windows.admit("a", 200.0) is not None


@pytest.mark.parametrize("mode", ["fixed", "sliding", "token_bucket"])
def test_accounts_are_limited_separately(mode: str) -> None:
    windows = RateWindows(ServerRateLimit(limit=1, window=60.0, mode=mode))  # type: ignore[arg-type]
    assert windows.admit("a", 1.0) is None
    assert windows.admit("b", 1.0) is None
    assert windows.admit("a", 1.0) is not None


def test_a_needed_wait_is_never_zero() -> None:
    windows = RateWindows(ServerRateLimit(limit=1, window=0.1, mode="sliding"))
    assert windows.admit("a", 0.3) is None
    wait = windows.admit("a", 0.3 + 0.1 - 1e-12)
    # Rounding leaves ~1e-12 s; a header must not tell the client to retry at once.
    assert wait == pytest.approx(0.001)


@pytest.mark.parametrize(
    ("wait", "expected"),
    [
        (0.25, "0.25"),
        (1.0, "1"),
        (59.9991, "60"),
        (0.0001, "0.001"),
        (2.5, "2.5"),
        (12.345, "12.345"),
    ],
)
def test_retry_after_seconds(wait: float, expected: str) -> None:
    assert retry_after_headers(ServerRateLimit(retry_after="seconds"), wait) == {
        "Retry-After": expected
    }


def test_retry_after_ms() -> None:
    policy = ServerRateLimit(retry_after="ms")
    assert retry_after_headers(policy, 0.25) == {"retry-after-ms": "250"}
    assert retry_after_headers(policy, 0.0001) == {"retry-after-ms": "1"}


def test_retry_after_http_date_rounds_the_moment_up() -> None:
    policy = ServerRateLimit(retry_after="http-date")
    headers = retry_after_headers(policy, 0.2, wall_clock=lambda: 1_700_000_000.9)
    assert parsedate_to_datetime(headers["Retry-After"]).timestamp() == 1_700_000_002
    assert headers["Retry-After"].endswith(" GMT")


def test_retry_after_none_sends_nothing() -> None:
    assert retry_after_headers(ServerRateLimit(retry_after=None), 3.0) == {}


@pytest.mark.parametrize(
    "kwargs",
    [{"limit": 0}, {"window": 0.0}, {"mode": "leaky"}, {"retry_after": "minutes"}, {"status": 99}],
)
def test_bad_policies_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - attrs validators raise plain ValueError
        ServerRateLimit(**kwargs)  # type: ignore[arg-type]
