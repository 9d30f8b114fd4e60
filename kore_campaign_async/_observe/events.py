"""What the request path reports of each attempt and retry, to hooks, logs and telemetry alike."""

from __future__ import annotations

import attrs


@attrs.frozen(kw_only=True)
class AttemptEvent:
    """One HTTP attempt, reported after it ends (answered or failed)."""

    operation: str
    method: str
    url: str
    account_id: str
    attempt: int
    """1-based number of this attempt within its call."""
    status: int | None
    """HTTP status, or None when no answer came."""
    error: BaseException | None
    elapsed: float
    """Seconds from its turn to the end of the answer: limiter waits and token fetches
    excluded, building the request (CPU) included."""
    waited: float = 0.0
    """Seconds this attempt waited for its account's turn (slot, rate permit, 429 pause)."""


@attrs.frozen
class RetryEvent:
    """One failed attempt that is about to be retried."""

    attempt: int
    """The attempt that failed, 1-based."""
    error: BaseException
    wait: float
    """Seconds before the next attempt."""
    operation: str = ""
