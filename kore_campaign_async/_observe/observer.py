"""One observer of the request path, telling its subscribers: the logs, telemetry, the hooks.

The request path opens an :class:`ObservedCall` for each call and reports into it (each attempt,
each retry, the end); the call hands each report to what every subscriber watches of it. No
context variable: the call is the object the reports go through.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .._wire.endpoints import OPERATIONS
from .events import AttemptEvent, RetryEvent


class CallFacts:
    """What is known of one SDK call when it starts."""

    # Plain slots, not a NamedTuple: one is made for every call, and a tuple's __new__ costs
    # a third more.
    __slots__ = ("account_id", "method", "operation", "url")

    def __init__(self, operation: str, account_id: str, method: str, url: str) -> None:
        self.operation: str = operation
        """The operation's name (``create``)."""
        self.account_id: str = account_id
        self.method: str = method
        self.url: str = url

    @property
    def name(self) -> str:
        """The operation's public name (``contact_lists.create``), looked up when asked: with
        nobody listening, never."""
        return qualified(self.operation)

    def __repr__(self) -> str:
        return f"CallFacts({self.name} {self.method} {self.url}, account {self.account_id})"


def qualified(operation: str) -> str:
    """Return the public name of ``operation`` (``create`` -> ``contact_lists.create``)."""
    spec = OPERATIONS.get(operation)  # type: ignore[call-overload]
    return operation if spec is None else spec.public_name


class CallWatcher(Protocol):
    """What one subscriber does with the reports of one call."""

    def attempt(self, event: AttemptEvent) -> None: ...

    def retrying(self, event: RetryEvent) -> None: ...

    def ended(self, attempts: int, status: int | None, error: Exception | None) -> None: ...


class Subscriber(Protocol):
    """One audience of the request path's calls."""

    def watch(self, call: CallFacts) -> CallWatcher | None:
        """Return how to watch ``call``, or None to hear nothing of it."""
        ...


class Observer:
    """Tell every subscriber about every call."""

    def __init__(self, subscribers: Sequence[Subscriber]) -> None:
        self._subscribers: tuple[Subscriber, ...] = tuple(subscribers)

    def call(self, operation: str, account_id: str, method: str, url: str) -> ObservedCall:
        """Open the observation of one call (end it with ``end()``)."""
        observed = ObservedCall(operation, account_id, method, url)
        watchers = []
        for subscriber in self._subscribers:
            watcher = subscriber.watch(observed)
            if watcher is not None:
                watchers.append(watcher)
        if watchers:
            observed._watchers = watchers
        return observed


class ObservedCall(CallFacts):
    """One call as its subscribers watch it (its facts: one object per call, not two): the
    request path reports into it."""

    __slots__ = ("_watchers", "attempts", "status")

    def __init__(self, operation: str, account_id: str, method: str, url: str) -> None:
        super().__init__(operation, account_id, method, url)
        self._watchers: Sequence[CallWatcher] = ()  # (): one for every unwatched call
        self.attempts: int = 0
        """Attempts reported so far."""
        self.status: int | None = None
        """The last attempt's status."""

    def counted(self, attempt: int, status: int | None) -> bool:
        """Count one ended HTTP attempt; return whether anyone hears of it (then report it
        with :meth:`attempt`): nobody may, and its event is then never built."""
        self.attempts, self.status = attempt, status
        return bool(self._watchers)

    def attempt(self, event: AttemptEvent) -> None:
        """Report one ended HTTP attempt, counted already."""
        for watcher in self._watchers:
            watcher.attempt(event)

    def retrying(self, event: RetryEvent) -> None:
        """Report a failed attempt about to be retried."""
        for watcher in self._watchers:
            watcher.retrying(event)

    def end(self, error: BaseException | None) -> None:
        """Report the call's end: its result came (``error`` None), or ``error`` ended it."""
        failure = error if isinstance(error, Exception) else None
        for watcher in self._watchers:
            watcher.ended(self.attempts, self.status, failure)
