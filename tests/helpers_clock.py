"""A sleep that records every wait, on top of the package's ManualClock."""

from __future__ import annotations

from kore_campaign_async._clock import ManualClock


class RecordingSleep:
    """Sleep in virtual time and remember each requested delay."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.waits.append(delay)
        await self.clock.sleep(delay)
