"""What a request's outcome does to its account: a success is counted, a 429 pauses the
account, both at once (before the next permit is asked for)."""

from __future__ import annotations

import math
from typing import Final

from .._config import DEFAULT_RATE_LIMIT_PERIOD, DEFAULT_RATE_LIMIT_REQUESTS
from .._observe import log as observe
from .background import Background
from .pacing import PacingSettings, RateLimit
from .store import AccountKey, LimitStore, PauseListener, Permit

# A 429 without Retry-After on an account with no configured rate limit: pause this long,
# and one answer never pauses such an account longer than two default windows.
_FALLBACK_PAUSE: Final = DEFAULT_RATE_LIMIT_PERIOD / DEFAULT_RATE_LIMIT_REQUESTS
_FALLBACK_PAUSE_CAP: Final = 2 * DEFAULT_RATE_LIMIT_PERIOD
#: The permit of an outcome heard outside a turn: it teaches nothing (older than any
#: lesson), it only pauses.
NO_PERMIT: Final = Permit(0.0, -math.inf)


class AccountOutcomes:
    """Record one account's outcomes in its store, at once, and pause its limiter after a 429.

    The same store methods for every store: a shared one sends what it must in the
    background, so the pause is in force before the next permit whatever the store.
    """

    __slots__ = ("_hear", "_key", "_rate", "_settings", "_store", "sending")

    def __init__(
        self,
        store: LimitStore,
        key: AccountKey,
        rate: RateLimit | None,
        settings: PacingSettings | None,
        hear: PauseListener,
        sending: Background,
    ) -> None:
        self._store = store
        self._key = key
        self._rate = rate
        self._settings = settings
        #: Pauses the limiter (weakly: no cycle through the limiter's turns).
        self._hear = hear
        #: What goes to the store in the background (a 0.1 store's outcomes).
        self.sending = sending

    @property
    def effective_limit(self) -> int | None:
        """Requests per window the pacing allows now; None without a rate (the configured
        limit when the store does not know what it learned)."""
        if self._rate is None:
            return None
        learned = self._store.learned_limit(self._key)
        return self._rate.requests if learned is None else math.floor(learned)

    def succeeded(self, permit: Permit) -> None:
        """Count a success of a request sent on ``permit``."""
        if self._settings is None:
            return
        before = self.effective_limit
        self._store.record_success(self._key, self._settings, permit)
        self._learned(before)

    def rate_limited(self, retry_after: float | None, permit: Permit) -> None:
        """Pause the account after a 429 for a request sent on ``permit``."""
        if self._settings is None:
            self._paused(_unpaced_pause(retry_after), retry_after)
            return
        before = self.effective_limit
        pause = self._store.record_rate_limited(self._key, self._settings, retry_after, permit)
        self._paused(pause, retry_after)
        self._learned(before)

    def _paused(self, pause: float, retry_after: float | None) -> None:
        self._hear(pause)
        observe.account_paused(self._key.account_id, pause, retry_after)

    def _learned(self, before: int | None) -> None:
        """Log a change of the learned limit."""
        after = self.effective_limit
        if after != before and after is not None and before is not None and self._rate:
            rate = self._rate
            observe.limit_changed(self._key.account_id, before, after, rate.requests, rate.per)


def _unpaced_pause(retry_after: float | None) -> float:
    """The pause of a 429 on an account with no configured rate limit."""
    if retry_after is None or not (0 <= retry_after < math.inf):
        return _FALLBACK_PAUSE
    return min(retry_after, _FALLBACK_PAUSE_CAP)
