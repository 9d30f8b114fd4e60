"""What the garbage collector does while a benchmark runs: its collections, the objects it was
told of, and the objects it promoted to its old generation (what its full collections walk)."""

from __future__ import annotations

import gc
import time
from typing import Any


class Collections:
    """Count the collector's work while it runs: collections, objects it was told of, and
    objects it promoted to the old generation (what its full collections walk)."""

    def __init__(self) -> None:
        self.young = self.full = self.objects = self.promoted = 0
        self.seconds = 0.0
        self._start = 0
        self._began = 0.0
        self._middle_aged = 0

    def __enter__(self) -> Collections:
        self._start = gc.get_count()[0]
        gc.callbacks.append(self._heard)
        return self

    def __exit__(self, *exc_info: object) -> None:
        gc.callbacks.remove(self._heard)
        self.objects += gc.get_count()[0] - self._start

    def _heard(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop":
            self.seconds += time.process_time() - self._began
            if info["generation"] == 1:
                # What a collection of the middle generation does not free moves to the old.
                self.promoted += self._middle_aged - info["collected"]
            return
        self._began = time.process_time()
        if info["generation"] == 1:
            # The two young generations hold a few thousand objects: cheap to count.
            self._middle_aged = len(gc.get_objects(0)) + len(gc.get_objects(1))
        # Young objects counted since the last collection: added up, they are what the
        # collector was handed to look at.
        self.objects += gc.get_count()[0] - self._start
        self._start = 0
        if info["generation"] == 2:
            self.full += 1
        else:
            self.young += 1
