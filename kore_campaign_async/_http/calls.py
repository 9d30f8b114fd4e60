"""What one call carries down the request path: how its answer becomes a result (a
:class:`Decoder`), how it survives a lost answer (a :class:`Recovery`), the state its attempts
share (:class:`CallState`) and each HTTP attempt (:class:`Attempt`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, Protocol, TypeVar

import attrs

from .._clock import Deadline
from .._config import Timeout
from .._exceptions import KoreError
from .._observe.observer import ObservedCall
from .._wire.endpoints import RequestSpec
from .._wire.models import ResponseMeta
from .policy import RetryPolicy
from .transport import HttpRequest, RawResponse, sent_token

if TYPE_CHECKING:
    from .._quota.outcomes import Turn

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
U = TypeVar("U")


class Decoder(Protocol[T_co]):
    """How a success answer becomes an operation's result (``ModelDecoder(cls)`` is one):
    ``payload`` is the answer's JSON, Kore's envelope already checked."""

    def __call__(
        self, payload: Any, /, *, method: str, url: str, status: int, meta: ResponseMeta
    ) -> T_co: ...


class Recovery(Generic[T]):
    """How an operation survives an answer lost after the server may have applied it.

    The default does nothing special: the policy alone decides about resending.
    """

    __slots__ = ()  # one is made for every create: its subclasses' slots hold all they keep

    def may_resend(self, error: BaseException) -> bool:
        """Return whether the operation may be sent again after ``error``."""
        return True

    async def before_resend(self, state: CallState) -> T | None:
        """Before resending after a lost answer: a result ends the call without resending."""
        return None

    async def instead_of(self, error: KoreError, state: CallState) -> T | None:
        """After a failed attempt: a result that stands for ``error``, or None to raise it."""
        return None


#: The recovery of an operation with nothing special to do after a lost answer.
NO_RECOVERY: Final[Recovery[Any]] = Recovery()
CallTimeout = Timeout | float | Literal["default"] | None


class Sender(Protocol):
    """What sends a call's lookups: its requester."""

    async def send(self, request: RequestSpec, decode: Decoder[U], state: CallState) -> U: ...


@attrs.define(eq=False, weakref_slot=False)  # one per call: no weakref slot nobody uses
class CallState:
    """What the attempts of one ``Requester.call`` share."""

    requester: Sender
    timeout: Timeout
    policy: RetryPolicy
    deadline: Deadline
    observed: ObservedCall
    request: RequestSpec
    """The call's own request (a recovery's lookups are others)."""
    first_turn: Turn | None = None
    """The account's turn the call queued for before the rest of it was made (a token was
    ready), until its first send takes it."""
    attempts: int = 0
    """HTTP requests sent so far (a resend after a 401 and a recovery's lookups included)."""
    lost: KoreError | None = None
    """The error of the last attempt whose answer was lost (the server may have applied it)."""
    renewed: bool = False
    """Its token was renewed after a 401 (once per call at most)."""

    @property
    def url(self) -> str:
        """The URL of the call's own request (its observation has it)."""
        return self.observed.url

    @property
    def answer_lost(self) -> bool:
        """An earlier attempt failed in a way the server may have applied it anyway."""
        return self.lost is not None

    async def look_up(self, request: RequestSpec, decode: Decoder[U]) -> U:
        """Send one lookup (a listing, say) within this call: counted, on its deadline, never
        retried on its own (a failure fails the attempt it serves)."""
        return await self.requester.send(request, decode, self)

    def meta(self, api_version: Any, *, adopted: bool = False) -> ResponseMeta:
        """Return the meta of a result this call made without an answer of its own."""
        return ResponseMeta(attempts=self.attempts, api_version=api_version, adopted=adopted)


@attrs.define(eq=False, repr=False)
class Secrets:
    """The token an attempt sent, as the ``secrets`` a decoder redacts; never shown.

    Not a tuple: error reporters open containers among a frame's locals.
    """

    _attempt: Attempt

    def __iter__(self) -> Iterator[str]:
        sent = self._attempt.sent
        yield "" if sent is None else sent_token(sent)

    def __repr__(self) -> str:
        return "<secrets hidden>"


@attrs.define(eq=False, repr=False, weakref_slot=False)  # one per call: no weakref slot nobody uses
class Attempt:
    """One HTTP attempt of a call, as it goes: queued, sent, answered."""

    spec: RequestSpec
    url: str
    waited: float = 0.0
    """Seconds it waited for its account's turn."""
    number: int = 0
    """1-based, within its call; 0 until sent."""
    started: float = 0.0
    """Clock time it began: its turn's (building the request is CPU), or once a token
    fetched in the turn came."""
    sent: HttpRequest | None = None
    answer: RawResponse | None = None
