"""Which account pauses a call waits out, and the error of a call the limiter will not send."""

from __future__ import annotations

import math
from typing import NamedTuple

from .._exceptions import RateLimitError
from .pacing import EPSILON


class Bounds(NamedTuple):  # a tuple: one is made for every turn
    """What a call waiting for its turn accepts, and the request it would send."""

    max_pause: float = math.inf
    """The longest account pause, in seconds."""
    deadline_at: float = math.inf
    """The clock time a pause must end by."""
    method: str = ""
    """The request's method and URL, named in a refusal ("" when the turn is not for one)."""
    url: str = ""

    def refusal(self, message: str, retry_after: float | None) -> RateLimitError:
        """The error of this call when the limiter will not wait for its turn: not sent."""
        return RateLimitError(
            message,
            retry_after=retry_after,
            request_sent=False,
            status=429,
            method=self.method,
            url=self.url,
        )


def outlasts(paused_until: float, now: float, bounds: Bounds) -> bool:
    """Return whether a pause until ``paused_until`` lasts longer than ``bounds`` accept."""
    left = paused_until - now
    return left > EPSILON and (left > bounds.max_pause or paused_until > bounds.deadline_at)


def refuse_long_pause(paused_until: float, now: float, bounds: Bounds) -> None:
    """Raise :class:`RateLimitError` (not sent) if the pause outlasts what ``bounds`` accept."""
    if not outlasts(paused_until, now, bounds):
        return
    left = paused_until - now
    why = (
        f"longer than this call's max_retry_after ({bounds.max_pause:g}s)"
        if left > bounds.max_pause
        else "past this call's deadline"
    )
    raise bounds.refusal(f"account paused by a 429 for another {left:.3f}s, {why}: not sent", left)
