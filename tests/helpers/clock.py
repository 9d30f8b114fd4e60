"""A server or wall clock for tests that moves only when told to."""

from __future__ import annotations


class FakeClock:
    """A clock (server or wall) that moves only when told to."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
