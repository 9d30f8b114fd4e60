"""What every call of one client shares, whichever account it is for: one object per client.

Each account's :class:`~.requester.Requester` keeps only what is its own (the account, its
limiter and retry budget) and points here for the rest: ten thousand accounts' handles then
carry four references each, not thirteen.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from .._clock import Clock, Sleep
from .._config import Timeout
from .._observe.observer import Observer
from .auth import TokenSource
from .gate import CallGate
from .policy import RetryPolicy
from .transport import Transport

#: URLs kept joined per client: every create (and listing) of an app has one path, so its
#: calls in flight share one URL string rather than each joining its own.
_JOINED_URLS = 256


class ClientCalls:
    """The client's transport, token source, defaults and observer, shared by its accounts."""

    __slots__ = (
        "auth",
        "base_url",
        "clock",
        "gate",
        "max_response_bytes",
        "observer",
        "policy",
        "sleep",
        "timeout",
        "transport",
        "url",
    )

    def __init__(
        self,
        *,
        base_url: str,
        transport: Transport,
        auth: TokenSource,
        policy: RetryPolicy,
        timeout: Timeout,
        observer: Observer,
        clock: Clock,
        sleep: Sleep,
        max_response_bytes: int | None = None,
        gate: CallGate | None = None,
    ) -> None:
        self.base_url: str = base_url
        self.transport: Transport = transport
        self.auth: TokenSource = auth
        self.policy: RetryPolicy = policy
        self.timeout: Timeout = timeout
        self.observer: Observer = observer
        self.clock: Clock = clock
        self.sleep: Sleep = sleep
        self.max_response_bytes: int | None = max_response_bytes
        self.gate: CallGate = gate if gate is not None else CallGate()
        #: The URL of a request's path on this client's host (bounded: paths with ids churn).
        self.url: Callable[[str], str] = functools.lru_cache(maxsize=_JOINED_URLS)(base_url.__add__)
