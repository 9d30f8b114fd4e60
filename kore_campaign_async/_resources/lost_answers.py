"""What each write does when an answer is lost after the server may have applied it.

Kore has no idempotency keys. An attempt that timed out or broke after sending (or got a
500/502/504) may have done its work; a blind resend could then create a list twice, report
a done delete as a 404, or queue contacts twice. Each strategy plugs into the one request
path (``Requester.call``) as the operation's :class:`Recovery`; a lookup it needs is sent as
part of the call (``CallState.look_up``): counted, and on the call's deadline.
"""

from __future__ import annotations

import functools
from datetime import datetime, timezone
from typing import Any, Final, Protocol

import attrs

from .._config import ApiVersion
from .._exceptions import APIStatusError, ConflictError, KoreError, NotFoundError
from .._http.calls import CallState, Recovery
from .._http.policy import is_ambiguous
from .._http.responses import is_name_taken, listing_items
from .._wire import endpoints as ep
from .._wire.endpoints import AccountRef, RequestSpec
from .._wire.listing import ListingByName
from .._wire.models import AddContactsResult, ContactList, ContactListCreate, ResponseMeta
from .names import NameIndex

ADOPT_CLOCK_SKEW: Final = 300.0
"""Seconds Kore's clock may run behind ours: ``if_exists="error"`` adopts a list created up to
this long before the call began (by our clock), and none created earlier."""


class NameIndexes(Protocol):
    """Whose name index a lookup shares: the account's contact lists."""

    def _name_index(self, version: ApiVersion) -> NameIndex: ...


@attrs.define(eq=False, weakref_slot=False)  # one per call: no weakref slot nobody uses
class Adopt(Recovery[ContactList]):
    """create: find the list by name (getAllListDetails) and adopt it instead of making another.

    After a lost answer the next attempt looks first. A name-taken answer adopts too when an
    earlier answer was lost (our own create got through) or the caller asked to adopt
    (``always``). Without ``always`` only a list this call can have made is adopted: same
    name (any case), description and allowDuplicates (where Kore reports it), created after
    the call began; any other list of that name is a ConflictError that names it.
    """

    spec: ContactListCreate
    request: RequestSpec
    """The create request (named in a ConflictError)."""
    account: AccountRef
    """Whose lists a lookup reads."""
    version: ApiVersion
    """The create's API version, and its lookup's (getAllListDetails)."""
    names: NameIndexes
    """The account's lists by name, made when a lookup first needs them: most creates never
    look."""
    started_at: float
    """Wall-clock epoch seconds when the call began."""
    begun_after: int
    """Listings the name index had begun when the call began: older ones are never used."""
    always: bool = False
    """Adopt any list of the name, even without a lost answer (``if_exists="adopt"``)."""

    async def before_resend(self, state: CallState) -> ContactList | None:
        return await self._find(state)

    async def instead_of(self, error: KoreError, state: CallState) -> ContactList | None:
        taken = isinstance(error, APIStatusError) and is_name_taken(error)
        if taken and (state.answer_lost or self.always):
            return await self._find(state)
        return None

    async def _find(self, state: CallState) -> ContactList | None:
        """Look the list up (sharing the account's recent listing); return it adopted, or None."""
        # The listing request is built only when a lookup needs it: most creates never look.
        listing = ep.list_all(self.version, self.account)
        load = functools.partial(state.look_up, listing, listing_by_name)
        begun_after = 0 if self.always else self.begun_after
        found = await self.names._name_index(self.version).find(
            self.spec.name, load, begun_after=begun_after, deadline=state.deadline
        )
        if found is None:
            return None
        reason = None if self.always else not_made_by(self.spec, found, self.started_at)
        if reason is not None:
            raise self._conflict(found, reason, state)
        return attrs.evolve(found, meta=state.meta(self.request.api_version, adopted=True))

    def _conflict(self, found: ContactList, reason: str, state: CallState) -> ConflictError:
        return ConflictError(
            f"a list named {found.name!r} already exists (id {found.id!r}) and this call did "
            f"not make it: {reason}; not adopted (if_exists='adopt' takes any list of the name)",
            status=409,
            method=self.request.method,
            url=state.url,
            body={"existing": {"id": found.id, "name": found.name, "createdAt": _iso(found)}},
        )


def listing_by_name(
    payload: Any, /, *, method: str, url: str, status: int, meta: ResponseMeta
) -> ListingByName:
    """Decode a getAllListDetails answer for lookups by name: no list is read until asked for."""
    items = listing_items(payload, method=method, url=url, status=status)
    return ListingByName(items, url=url, meta=meta)


def not_made_by(
    spec: ContactListCreate,
    found: ContactList,
    started_at: float,
    skew: float = ADOPT_CLOCK_SKEW,
) -> str | None:
    """Return why ``found`` cannot be the list a create of ``spec`` begun at ``started_at`` made.

    None means it can be: the description sent ("" for None), allowDuplicates when the create
    sent it and Kore reports it, and a ``createdAt`` no earlier than ``started_at - skew``. A
    list whose ``createdAt`` Kore did not report (or the SDK could not read) is not adopted:
    nothing shows it is new, and adopting another's list is worse than a clear conflict.
    """
    sent = "" if spec.description is None else spec.description
    wanted = spec.allow_duplicates
    compared = _COMPARED if wanted is not None else _COMPARED_UNSENT
    unreadable = [wire for wire in compared if wire in found.extra]
    if unreadable:
        return f"Kore's {unreadable[0]} for it could not be read"
    if found.description != sent:
        return f"its description is {found.description!r}, this call sent {sent!r}"
    if wanted is not None and found.allow_duplicates not in (None, wanted):
        return f"its allowDuplicates is {found.allow_duplicates}, this call sent {wanted}"
    if found.created_at is None:
        return "Kore did not report when it was created, so it may be older than this call"
    if found.created_at.timestamp() < started_at - skew:
        began = datetime.fromtimestamp(started_at, tz=timezone.utc)
        return (
            f"it was created at {_iso(found)}, before this call began at "
            f"{began.isoformat()} (allowing {skew:g} s of clock skew)"
        )
    return None


#: Wire names of the fields compared; an unreadable one (kept raw in ``extra``) matches nothing.
_COMPARED: Final = ("description", "allowDuplicates", "createdAt")
_COMPARED_UNSENT: Final = ("description", "createdAt")


def _iso(found: ContactList) -> str | None:
    return None if found.created_at is None else found.created_at.isoformat()


@attrs.frozen
class GoneAfterLostAnswer(Recovery[ContactList]):
    """delete: a 404 after a lost answer means the lost attempt deleted the list."""

    list_id: str
    api_version: ApiVersion

    async def instead_of(self, error: KoreError, state: CallState) -> ContactList | None:
        if isinstance(error, NotFoundError) and state.answer_lost:
            return ContactList(id=self.list_id, meta=state.meta(self.api_version, adopted=True))
        return None


class NeverResend(Recovery[AddContactsResult]):
    """add_contacts: never resent after a lost answer; the contacts may already be queued."""

    def may_resend(self, error: BaseException) -> bool:
        return not is_ambiguous(error)
