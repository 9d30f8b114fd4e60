"""One account's name map: the adoption lookups of a conflict episode share one listing.

A create that adopts (Kore answered "name taken", or an answer was lost) finds its list by name
in getAllListDetails, one request out of the account's 60 a minute. So the account keeps its
last listing by name for a short while (``LISTING_MAX_AGE``), shares the listing in flight
between concurrent lookups, spaces listings (``LISTING_SPACING``), and drops the map when the
account changes a list. A lookup's deadline stops while it waits for a listing another lookup
sends, as it does while queued for its turn.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Final

import attrs

from .._clock import Clock, Deadline, Sleep
from .._wire.listing import ListingByName
from .._wire.models import ContactList

LISTING_MAX_AGE: Final = 60.0
"""Seconds a listing serves lookups after it was sent: one rate window. At Kore's pace the
adoptions of an account then cost at most one listing a minute, however many lists they adopt."""

LISTING_SPACING: Final = 1.0
"""A listing begins no sooner than this many times its predecessor's duration after that one
ended: each lists every list of the account, so the lookups that come meanwhile share one, and
listings take at most half the account's time (the chaos benchmark chose the factor)."""

Load = Callable[[], Awaitable[ListingByName]]
"""Send one listing of the account (getAllListDetails) and return its lists by name."""


_NO_DEADLINE: Final = Deadline(None, lambda: 0.0)
# No listing yet (one float shared by every index, not one each).
_NEVER: Final = -math.inf


@attrs.frozen
class _Listing:
    number: int
    """Listings begun before this one, plus one."""
    sent_at: float
    """Clock time the listing was begun (its wait for the account's turn included)."""
    by_name: ListingByName


class NameIndex:
    """The lists of one account (and API version) by name, from a recent listing."""

    # Slots: every account that creates holds one, most never list.
    __slots__ = (
        "_clock",
        "_dropped_at",
        "_listing",
        "_loading",
        "_max_age",
        "_next_at",
        "_sleep",
        "_spacing",
        "begun",
    )

    def __init__(
        self,
        clock: Clock,
        sleep: Sleep,
        *,
        max_age: float = LISTING_MAX_AGE,
        spacing: float = LISTING_SPACING,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._max_age = max_age
        self._spacing = spacing
        self._next_at = _NEVER
        """Clock time the next listing may begin."""
        self._listing: _Listing | None = None
        self.begun = 0
        """Listings begun so far: a later listing has a higher number (read-only outside)."""
        self._dropped_at = 0
        self._loading: asyncio.Event | None = None

    def drop(self) -> None:
        """Forget the map and any listing in flight (the account changed a list)."""
        self._dropped_at = self.begun
        self._listing = None

    def _free(self, number: int) -> None:
        if self._listing is not None and self._listing.number == number:
            self._listing = None

    async def find(
        self, name: str, load: Load, *, begun_after: int = 0, deadline: Deadline | None = None
    ) -> ContactList | None:
        """Return the list called ``name`` (any case), or None if there is none.

        Only listings numbered above ``begun_after`` count. A recent one answers a name it
        holds; otherwise ``load`` (shared with concurrent lookups) lists again, and None means a
        listing begun after this call found no such list. ``deadline`` stops while the lookup
        waits for the spacing or for a listing another lookup sent.
        """
        asked = self.begun
        while True:
            listing = self._listing
            if listing is not None and listing.number > max(begun_after, self._dropped_at):
                after_asked = listing.number > asked
                if after_asked or self._clock() - listing.sent_at <= self._max_age:
                    found = listing.by_name.get(name)
                    if found is not None or after_asked:
                        return found
            await self._refresh(load, deadline or _NO_DEADLINE)

    async def _refresh(self, load: Load, deadline: Deadline) -> None:
        """Wait for the next listing, or send it (once its spacing has passed).

        Its failure is its sender's alone.
        """
        loading = self._loading
        if loading is not None:
            with deadline.stopped():
                await loading.wait()  # an Event: a waiter's cancellation leaves the sender alone
            return
        self._loading = loading = asyncio.Event()
        sent_at: float | None = None
        try:
            wait = self._next_at - self._clock()
            if wait > 0:
                with deadline.stopped():
                    await self._sleep(wait)
            self.begun += 1
            number, sent_at = self.begun, self._clock()
            by_name = await load()
            if number > self._dropped_at:
                self._listing = _Listing(number, sent_at, by_name)
                # Only frees memory (a map can hold tens of thousands of lists); whether a map
                # is recent enough is read on the injected clock above.
                asyncio.get_running_loop().call_later(self._max_age, self._free, number)
        finally:
            if sent_at is not None:
                ended = self._clock()
                # At most one window: a listing that waited out a long pause is no costlier.
                self._next_at = ended + min(self._spacing * (ended - sent_at), self._max_age)
            self._loading = None
            loading.set()
