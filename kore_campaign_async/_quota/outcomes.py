"""What a request's outcome does to its account: a success is counted, a 429 pauses the
account, both at once (before the next permit is asked for); and the :class:`Turn` that
reports it."""

from __future__ import annotations

import abc
import math
from typing import Final

from .._config import DEFAULT_RATE_LIMIT_PERIOD, DEFAULT_RATE_LIMIT_REQUESTS
from .._observe import log as observe
from .rate_limit import PacingSettings, RateLimit
from .store import AccountKey, LimitStore, Permit

# A 429 without Retry-After on an account with no configured rate limit: pause this long,
# and one answer never pauses such an account longer than two default windows.
_FALLBACK_PAUSE: Final = DEFAULT_RATE_LIMIT_PERIOD / DEFAULT_RATE_LIMIT_REQUESTS
_FALLBACK_PAUSE_CAP: Final = 2 * DEFAULT_RATE_LIMIT_PERIOD
#: The permit of an outcome heard outside a turn: it teaches nothing (older than any
#: lesson), it only pauses.
NO_PERMIT: Final = Permit(0.0, -math.inf)


class AccountOutcomes(abc.ABC):
    """One account in its store: what its requests' outcomes do there, at once.

    The base of the account's limiter, which adds the queueing (one object per account, not
    two: a process may hold thousands). A success is counted; a 429 is recorded and pauses
    the limiter's waiters (``_heard_pause``) before the next permit is asked for. The same
    store methods for every store: a shared one sends what it must in the background.
    """

    __slots__ = ("_key", "_rate", "_settings", "_store")

    def __init__(
        self,
        store: LimitStore,
        key: AccountKey,
        rate: RateLimit | None,
        settings: PacingSettings | None,
    ) -> None:
        self._store = store
        self._key = key
        self._rate = rate
        self._settings = settings

    @abc.abstractmethod
    def _heard_pause(self, pause: float) -> None:
        """The account is paused for ``pause`` seconds from now: the limiter's waiters hear it."""

    @abc.abstractmethod
    def _leave(self) -> None:
        """A turn ended: free its concurrency slot (and its place on the wire)."""

    @property
    def effective_limit(self) -> int | None:
        """Requests per window the pacing allows now (learned from 429s); None without a rate.

        What the store learned, if it knows at once (the in-process store does; a shared store
        is not asked: the configured limit).
        """
        if self._rate is None:
            return None
        learned = self._store.learned_limit(self._key)
        return self._rate.requests if learned is None else math.floor(learned)

    def _record_success(self, permit: Permit) -> None:
        """Count a success of a request sent on ``permit``."""
        if self._settings is None:
            return
        before = self.effective_limit
        self._store.record_success(self._key, self._settings, permit)
        self._learned(before)

    def _record_rate_limited(self, retry_after: float | None, permit: Permit) -> None:
        """Pause the account after a 429 for a request sent on ``permit``."""
        if self._settings is None:
            self._paused(_unpaced_pause(retry_after), retry_after)
            return
        before = self.effective_limit
        pause = self._store.record_rate_limited(self._key, self._settings, retry_after, permit)
        self._paused(pause, retry_after)
        self._learned(before)

    def _paused(self, pause: float, retry_after: float | None) -> None:
        self._heard_pause(pause)
        observe.account_paused(self._key.account_id, pause, retry_after)

    def _learned(self, before: int | None) -> None:
        """Log a change of the learned limit."""
        after = self.effective_limit
        if after != before and after is not None and before is not None and self._rate:
            rate = self._rate
            observe.limit_changed(self._key.account_id, before, after, rate.requests, rate.per)


class Turn:
    """One request's turn on its account (a slot, a place on the wire when the client's pool is
    bounded, and a permit): it reports its own outcome."""

    __slots__ = ("_account", "_limiter", "_permit", "began", "waited")

    def __init__(
        self, limiter: AccountOutcomes, permit: Permit, asked: float, began: float
    ) -> None:
        self._limiter: AccountOutcomes | None = limiter
        #: Where the outcome goes, after the turn ended too.
        self._account: AccountOutcomes = limiter
        self._permit = permit
        self.began: float = began
        """The clock time the turn came."""
        self.waited: float = began - asked
        """Seconds it was waited for."""

    def end(self) -> None:
        """Free the turn's concurrency slot and place on the wire (once: a second call does
        nothing); a turn taken with ``slot()`` ends when its block does, if not before."""
        limiter, self._limiter = self._limiter, None
        if limiter is not None:
            limiter._leave()

    def succeeded(self) -> None:
        """Count the request's success (the pacing probes back towards the configured limit)."""
        self._account._record_success(self._permit)

    def rate_limited(self, retry_after: float | None) -> None:
        """Pause the whole account after the request's 429 (every process sharing the store).

        The permit tells the store whether the 429 is for a request sent before its last
        lesson (which only extends the pause) or a new one.
        """
        self._account._record_rate_limited(retry_after, self._permit)


def _unpaced_pause(retry_after: float | None) -> float:
    """The pause of a 429 on an account with no configured rate limit."""
    if retry_after is None or not (0 <= retry_after < math.inf):
        return _FALLBACK_PAUSE
    return min(retry_after, _FALLBACK_PAUSE_CAP)
