"""The caller's hooks, a subscriber of the request path like the logs and telemetry."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from .events import AttemptEvent, RetryEvent
from .observer import CallFacts


@attrs.frozen(kw_only=True)
class Hooks:
    """Callbacks to observe every attempt and every retry. They must not block."""

    on_attempt: Callable[[AttemptEvent], None] | None = None
    on_retry: Callable[[RetryEvent], None] | None = None


class HookSubscriber:
    """The caller's hooks, told of every call's attempts and retries."""

    __slots__ = ("_hooks",)

    def __init__(self, hooks: Hooks) -> None:
        self._hooks = hooks

    def watch(self, call: CallFacts) -> HookSubscriber | None:
        """Hear every call, unless there is no hook to tell."""
        hooks = self._hooks
        return None if hooks.on_attempt is None and hooks.on_retry is None else self

    def attempt(self, event: AttemptEvent) -> None:
        if self._hooks.on_attempt is not None:
            self._hooks.on_attempt(event)

    def retrying(self, event: RetryEvent) -> None:
        if self._hooks.on_retry is not None:
            self._hooks.on_retry(event)

    def ended(self, attempts: int, status: int | None, error: Exception | None) -> None:
        """The hooks hear attempts and retries only."""
