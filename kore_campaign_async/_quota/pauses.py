"""Which account pauses a call waits out, and the error of a call the limiter will not send."""

from __future__ import annotations

from .._exceptions import RateLimitError
from .pacing import EPSILON

Bounds = tuple[float, float]
"""What a call accepts: ``(max_pause, deadline_at)``, the longest account pause in seconds
and the clock time a pause must end by (``math.inf``: no bound)."""


def outlasts(paused_until: float, now: float, bounds: Bounds) -> bool:
    """Return whether a pause until ``paused_until`` lasts longer than ``bounds`` accept."""
    max_pause, deadline_at = bounds
    left = paused_until - now
    return left > EPSILON and (left > max_pause or paused_until > deadline_at)


def refuse_long_pause(paused_until: float, now: float, bounds: Bounds) -> None:
    """Raise :class:`RateLimitError` (not sent) if the pause outlasts what ``bounds`` accept."""
    if not outlasts(paused_until, now, bounds):
        return
    left = paused_until - now
    max_pause, _ = bounds
    why = (
        f"longer than this call's max_retry_after ({max_pause:g}s)"
        if left > max_pause
        else "past this call's deadline"
    )
    raise not_sent(f"account paused by a 429 for another {left:.3f}s, {why}: not sent", left)


def not_sent(message: str, retry_after: float | None) -> RateLimitError:
    """The refusal of a call the limiter will not wait for (the requester names the request)."""
    return RateLimitError(
        message, retry_after=retry_after, request_sent=False, status=429, method="", url=""
    )
