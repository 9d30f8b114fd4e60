"""What each write does when an answer is lost after the server may have applied it.

Kore has no idempotency keys. An attempt that timed out or broke after sending (or got a
500/502/504) may have done its work; a blind resend could then create a list twice, report
a done delete as a 404, or queue contacts twice. Each strategy plugs into the one request
path (``Requester.call``) as the operation's :class:`Recovery`.
"""

from __future__ import annotations

import functools

import attrs

from .._config import ApiVersion
from .._exceptions import APIStatusError, KoreError, NotFoundError
from .._http.requester import Call, Operation, Recovery, Reply
from .._http.responses import decode_lists, is_name_taken
from .._http.retry import is_ambiguous
from .._wire import endpoints as ep
from .._wire.endpoints import AccountRef
from .._wire.models import AddContactsResult, ContactList, name_key


@attrs.frozen
class Adopt(Recovery[ContactList]):
    """create: find the list by name (getAllListDetails) and adopt it instead of making another.

    After a lost answer the next attempt looks first. A name-taken answer adopts too when an
    earlier answer was lost (our own create got through) or the caller asked to adopt.
    """

    name: str
    account: AccountRef
    api_version: ApiVersion
    always: bool = False
    """Adopt on a name-taken answer even without a lost answer (``if_exists="adopt"``)."""

    async def before_resend(self, call: Call) -> ContactList | None:
        return await self._find(call)

    async def instead_of(self, error: KoreError, call: Call) -> ContactList | None:
        taken = isinstance(error, APIStatusError) and is_name_taken(error)
        if taken and (call.answer_lost or self.always):
            return await self._find(call)
        return None

    async def _find(self, call: Call) -> ContactList | None:
        """Look the list up in one attempt of this call; return it adopted, or None."""
        request = ep.list_all(self.api_version, self.account)
        return await call.send(Operation(request, functools.partial(_adopt_named, self.name)))


def _adopt_named(name: str, reply: Reply) -> ContactList | None:
    """Pick the list called ``name`` (any case) out of all lists, marked adopted."""
    meta = attrs.evolve(reply.meta, adopted=True)
    found = decode_lists(
        reply.payload, method=reply.method, url=reply.url, status=reply.meta.status, meta=meta
    )
    key = name_key(name)
    return next((item for item in found if name_key(item.name) == key), None)


@attrs.frozen
class GoneAfterLostAnswer(Recovery[ContactList]):
    """delete: a 404 after a lost answer means the lost attempt deleted the list."""

    list_id: str
    api_version: ApiVersion

    async def instead_of(self, error: KoreError, call: Call) -> ContactList | None:
        if isinstance(error, NotFoundError) and call.answer_lost:
            return ContactList(id=self.list_id, meta=call.meta(self.api_version, adopted=True))
        return None


class NeverResend(Recovery[AddContactsResult]):
    """add_contacts: never resent after a lost answer; the contacts may already be queued."""

    def may_resend(self, error: BaseException) -> bool:
        return not is_ambiguous(error)
