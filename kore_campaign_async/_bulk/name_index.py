"""Which item first used each list name, in 4 bytes a slot: the names themselves are not kept.

create_many refuses a name repeated within its input (Kore compares names without regard to
case). A dict of lower-cased names to positions costs about 110 bytes per item, which is more
than everything else a bulk job holds per item outside its report. This open-addressing
table stores only positions and reads a slot's name back through ``name_at`` when a probe
needs it, so it holds 4 to 12 bytes per item, whatever the names.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import Final

#: A table this much full grows to twice its size: probes stay short, memory stays small.
_MAX_LOAD: Final = 0.7
_FIRST_SIZE: Final = 16
_PERTURB_SHIFT: Final = 5


def name_key(name: str) -> str:
    """Kore compares list names without regard to case (its ``lname`` is the lower-cased name)."""
    return name.lower()


class NameIndex:
    """Positions by name key; ``name_at(position)`` returns the name recorded there.

    ``name_at`` must answer for a position from the moment it is passed to setdefault()
    (the table may grow while adding it).
    """

    def __init__(self, name_at: Callable[[int], str]) -> None:
        self._name_at = name_at
        # 0 is an empty slot; a used slot holds position + 1 ("I": at least 4 bytes, unsigned).
        self._slots = array("I", bytes(4 * _FIRST_SIZE))
        self._used = 0

    def __len__(self) -> int:
        return self._used

    @property
    def nbytes(self) -> int:
        """Bytes the table takes."""
        return len(self._slots) * self._slots.itemsize

    def setdefault(self, name: str, position: int) -> int:
        """Record ``position`` for ``name`` unless its key has one; return the recorded one."""
        slots = self._slots
        slot = self._slot_of(name_key(name))
        found = slots[slot]
        if found:
            return found - 1
        slots[slot] = position + 1
        self._used += 1
        if self._used > len(slots) * _MAX_LOAD:
            self._grow()
        return position

    def get(self, name: str) -> int | None:
        """Return the position recorded for ``name`` (any case), or None."""
        found = self._slots[self._slot_of(name_key(name))]
        return found - 1 if found else None

    def _slot_of(self, key: str) -> int:
        """Return the slot holding ``key``, or the empty slot where it would go."""
        slots, name_at = self._slots, self._name_at
        mask = len(slots) - 1
        perturb = hash(key) & 0xFFFFFFFFFFFFFFFF
        slot = perturb & mask
        while True:
            found = slots[slot]
            if not found or name_key(name_at(found - 1)) == key:
                return slot
            # CPython's dict probe: every slot is reached, and colliding keys part quickly.
            perturb >>= _PERTURB_SHIFT
            slot = (slot * 5 + perturb + 1) & mask

    def _grow(self) -> None:
        old = self._slots
        slots = self._slots = array("I", bytes(2 * len(old) * old.itemsize))
        mask = len(slots) - 1
        for found in old:
            if not found:
                continue
            # The keys are distinct: the first empty slot along the probe is the one, and no
            # name needs comparing (_slot_of's probe, without the comparison).
            perturb = hash(name_key(self._name_at(found - 1))) & 0xFFFFFFFFFFFFFFFF
            slot = perturb & mask
            while slots[slot]:
                perturb >>= _PERTURB_SHIFT
                slot = (slot * 5 + perturb + 1) & mask
            slots[slot] = found
