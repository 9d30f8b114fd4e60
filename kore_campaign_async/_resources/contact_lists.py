"""``account.contact_lists``: every contact-list operation, v1 and v2.

Creates never duplicate a list: Kore has no idempotency keys, so after an attempt whose answer
was lost (and which the server may have applied) the next attempt first looks the list up by
name and adopts it if it is the one the call made. The lookups share a recent listing per
account and version (``names.NameIndex``), so a resumed bulk job lists a few times, not once
per adopted list.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Mapping
from typing import TYPE_CHECKING, Final, Literal

from .._config import PASSIVE_API_SOURCE, ApiVersion, Timeout
from .._exceptions import ValidationError
from .._http.policy import RetryPolicy
from .._http.requester import Requester
from .._http.responses import decode_lists
from .._wire import endpoints as ep
from .._wire.bodies import create_body
from .._wire.models import (
    ContactList,
    ContactListCreate,
    ContactListListing,
    ContactListUpdate,
    UpdatedContactList,
    name_key,
)
from .._wire.validation import (
    PASSIVE_SOURCES,
    check_id,
    check_name,
)
from .base import model
from .contacts import ContactOperations
from .lost_answers import Adopt, GoneAfterLostAnswer
from .names import NameIndex

if TYPE_CHECKING:
    from .._bulk.outcomes import CreateReport, Outcome, ReportCallback, SyncReport
    from .._bulk.specs import ContactListSpecs

IfExists = Literal["error", "adopt"]
_LIST: Final = model(ContactList)
_UPDATED: Final = model(UpdatedContactList)


class ContactLists(ContactOperations):
    """Contact-list operations for one account. Get it as ``account.contact_lists``.

    The operations on a list's contacts (list_contacts, iter_contacts, add_contacts) come
    from :class:`ContactOperations`.
    """

    def __init__(
        self, requester: Requester, *, api_version: ApiVersion, bulk_concurrency: int
    ) -> None:
        super().__init__(requester, api_version=api_version, bulk_concurrency=bulk_concurrency)
        self._names: dict[ApiVersion, NameIndex] | None = None
        """Per API version: the lists by name that creates adopt from (made when a lookup
        first needs them: most accounts never look)."""

    def __repr__(self) -> str:
        return f"ContactLists(account_id={self._ref.account_id!r})"

    def _lists_changed(self) -> None:
        """An update or delete went out: no adoption may trust a listing made before it."""
        for index in (self._names or {}).values():
            index.drop()

    def _name_index(self, version: ApiVersion) -> NameIndex:
        """The lists by name of API ``version``, that creates adopt from."""
        if self._names is None:
            self._names = {}
        names = self._names.get(version)
        if names is None:
            client = self._requester.client
            names = self._names[version] = NameIndex(client.clock, client.sleep)
        return names

    # -- create -----------------------------------------------------------------------------

    async def create(
        self,
        name: str | ContactListCreate,
        description: str | None = None,
        *,
        allow_duplicates: bool | None = None,
        source: str | None = None,
        if_exists: IfExists = "error",
        api_version: ApiVersion | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout | float | Literal["default"] | None = "default",
    ) -> ContactList:
        """Create a contact list; never creates it twice, even when answers are lost.

        ``if_exists="adopt"`` returns an existing list of the same name (any case) instead of
        raising ConflictError; ``result.meta.adopted`` then says so. Give a ContactListCreate
        or the fields as arguments, not both.

        With ``if_exists="error"``, an attempt whose answer was lost (timeout, dropped
        connection, 500/502/504) is followed by a lookup, and only a list this call can have
        made is adopted: same name (any case), description, allowDuplicates (when sent and
        reported) and a ``createdAt`` no earlier than the call's start minus
        ``ADOPT_CLOCK_SKEW`` (300 s) by this machine's clock. Any other list of that name,
        or one whose createdAt Kore did not report, raises ConflictError naming it (its id and
        name in the message and in ``error.body["existing"]``).
        """
        # Made apart, the request inside its recovery: this frame keeps one local more than
        # its arguments while the call is in flight.
        adopt = self._adopt(name, description, allow_duplicates, source, if_exists, api_version)
        return await self._requester.call(
            adopt.request, _LIST, retry=retry, timeout=timeout, recovery=adopt
        )

    def _adopt(
        self,
        name: str | ContactListCreate,
        description: str | None,
        allow_duplicates: bool | None,
        source: str | None,
        if_exists: IfExists,
        api_version: ApiVersion | None,
    ) -> Adopt:
        """The create's request, with how it survives a lost answer: by adopting the list it
        made."""
        spec = _create_spec(name, description, allow_duplicates, source)
        if if_exists not in ("error", "adopt"):
            raise ValidationError("if_exists", f"must be 'error' or 'adopt', got {if_exists!r}")
        version = self._version(api_version)
        request = ep.create(version, self._ref, create_body(spec))
        names = None if self._names is None else self._names.get(version)
        return Adopt(
            spec,
            request,
            self._ref,
            version,
            self,
            started_at=time.time(),
            begun_after=0 if names is None else names.begun,
            always=if_exists == "adopt",
        )

    # -- read -------------------------------------------------------------------------------

    async def get(
        self,
        list_id: str,
        *,
        api_version: ApiVersion | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout | float | Literal["default"] | None = "default",
    ) -> ContactList:
        """Return one contact list by id (NotFoundError if there is none)."""
        check_id("list_id", list_id)
        request = ep.get(self._version(api_version), self._ref, list_id)
        return await self._requester.call(request, _LIST, retry=retry, timeout=timeout)

    async def list(
        self,
        *,
        api_version: ApiVersion | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout | float | Literal["default"] | None = "default",
    ) -> ContactListListing:
        """Return every contact list of the account (getAllListDetails; not paginated).

        A plain ``list`` of the lists it could read; ``.skipped`` counts the records left out.
        """
        request = ep.list_all(self._version(api_version), self._ref)
        return await self._requester.call(request, decode_lists, retry=retry, timeout=timeout)

    async def find(self, name: str, *, api_version: ApiVersion | None = None) -> ContactList | None:
        """Return the list called ``name`` (any case), or None."""
        key = name_key(check_name(name))
        for item in await self.list(api_version=api_version):
            if name_key(item.name) == key:
                return item
        return None

    # -- update / delete --------------------------------------------------------------------

    async def update(
        self,
        list_id: str,
        changes: ContactListUpdate | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        allow_duplicates: bool | None = None,
        api_version: ApiVersion | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout | float | Literal["default"] | None = "default",
    ) -> UpdatedContactList:
        """Change a list's name, description or allowDuplicates.

        v1 requires name, source and allowDuplicates in every update: when a v1 call does not
        give them all, the SDK reads the list first so unchanged fields keep their values. If
        Kore does not report the list's allowDuplicates, it is not guessed: ValidationError,
        before the update is sent, asks for ``allow_duplicates``. Kore's v2 update takes name
        and description only: a change of ``allow_duplicates`` goes through v1 when the call
        names no version, and is a ValidationError with an explicit ``api_version="v2"``.
        """
        check_id("list_id", list_id)
        if changes is None:
            changes = ContactListUpdate(
                name=name, description=description, allow_duplicates=allow_duplicates
            )
        else:
            given = {"name": name, "description": description, "allow_duplicates": allow_duplicates}
            _refuse_both("update", "changes", given)
        version = self._version(api_version)
        if version == "v2" and changes.allow_duplicates is not None:
            if api_version is not None:
                raise ValidationError(
                    "allow_duplicates",
                    "Kore's v2 update takes only name and description; change allowDuplicates "
                    "with api_version='v1'",
                )
            version = "v1"  # the client default: send the flag where Kore documents it
        source = changes.source or PASSIVE_API_SOURCE
        if version == "v1" and not changes.is_complete_for_v1():
            current = await self.get(list_id, api_version=version, retry=retry, timeout=timeout)
            allow_duplicates = changes.allow_duplicates
            if allow_duplicates is None:
                allow_duplicates = current.allow_duplicates
            if allow_duplicates is None:  # sending false would silently change a true list
                raise ValidationError(
                    "allow_duplicates",
                    f"Kore did not report list {list_id!r}'s allowDuplicates and a v1 update must "
                    "send it; give allow_duplicates=True or False explicitly (or use v2)",
                )
            if changes.source is None and current.source in PASSIVE_SOURCES:
                source = current.source or PASSIVE_API_SOURCE
            changes = ContactListUpdate(
                name=changes.name if changes.name is not None else current.name,
                description=changes.description,
                allow_duplicates=allow_duplicates,
            )
        body = ep.update_body(
            version,
            name=changes.name,
            description=changes.description,
            allow_duplicates=changes.allow_duplicates,
            source=source,
        )
        request = ep.update(version, self._ref, list_id, body)
        try:
            return await self._requester.call(request, _UPDATED, retry=retry, timeout=timeout)
        finally:
            self._lists_changed()

    async def delete(
        self,
        list_id: str,
        *,
        api_version: ApiVersion | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout | float | Literal["default"] | None = "default",
    ) -> ContactList:
        """Delete a list and return it as it was.

        When an earlier attempt's answer was lost and the retry finds no such list, the delete
        did happen: the result is then ``ContactList(id=list_id)`` with ``meta.adopted`` True.
        """
        check_id("list_id", list_id)
        version = self._version(api_version)
        try:
            return await self._requester.call(
                ep.delete(version, self._ref, list_id),
                _LIST,
                retry=retry,
                timeout=timeout,
                recovery=GoneAfterLostAnswer(list_id, version),
            )
        finally:
            self._lists_changed()

    # -- bulk (implemented in _bulk) -------------------------------------------------------

    async def create_many(
        self,
        items: ContactListSpecs,
        *,
        concurrency: int | None = None,
        if_exists: IfExists = "adopt",
        on_outcome: ReportCallback | None = None,
        api_version: ApiVersion | None = None,
        keep_results: bool = False,
    ) -> CreateReport:
        """Create many lists in parallel under the account's limits; see ``kca.CreateReport``.

        Each outcome keeps the list's id; ``keep_results=True`` keeps the whole ContactList
        too (``outcome.contact_list``), at about 2.5 KB more per item.
        """
        from .._bulk.create import create_many  # lazy: the bulk machinery is ~5 ms of import

        return await create_many(
            self,
            items,
            concurrency=self._bulk_concurrency if concurrency is None else concurrency,
            if_exists=if_exists,
            on_outcome=on_outcome,
            api_version=api_version,
            keep_results=keep_results,
        )

    def create_many_iter(
        self,
        items: ContactListSpecs,
        *,
        concurrency: int | None = None,
        if_exists: IfExists = "adopt",
        api_version: ApiVersion | None = None,
        keep_results: bool = False,
    ) -> AsyncGenerator[Outcome, None]:
        """Like ``create_many``, but yield each outcome as it ends and keep no report.

        For jobs too big to report whole: memory stays flat with the number of items. Names
        are not compared across the input: a repeated name is adopted (or, with
        ``if_exists="error"``, fails with ConflictError). Closing the generator stops the job
        (``async with contextlib.aclosing(lists.create_many_iter(items)) as outcomes:``).
        """
        from .._bulk.create import create_many_iter  # lazy: the bulk machinery is ~5 ms of import

        return create_many_iter(
            self,
            items,
            concurrency=self._bulk_concurrency if concurrency is None else concurrency,
            if_exists=if_exists,
            api_version=api_version,
            keep_results=keep_results,
        )

    async def sync(
        self,
        desired: ContactListSpecs,
        *,
        prune: bool = False,
        dry_run: bool = False,
        concurrency: int | None = None,
        on_outcome: ReportCallback | None = None,
        api_version: ApiVersion | None = None,
        keep_results: bool = False,
    ) -> SyncReport:
        """Make the account's lists match ``desired``; see ``kca.SyncReport``."""
        from .._bulk.sync import sync  # lazy: the bulk machinery is ~5 ms of import

        return await sync(
            self,
            desired,
            prune=prune,
            dry_run=dry_run,
            concurrency=self._bulk_concurrency if concurrency is None else concurrency,
            on_outcome=on_outcome,
            api_version=api_version,
            keep_results=keep_results,
        )


def _create_spec(
    name: str | ContactListCreate,
    description: str | None,
    allow_duplicates: bool | None,
    source: str | None,
) -> ContactListCreate:
    """The list ``create`` was asked for: given whole, or by its fields (not both)."""
    if isinstance(name, ContactListCreate):
        if description is not None or allow_duplicates is not None or source is not None:
            given = {
                "description": description,
                "allow_duplicates": allow_duplicates,
                "source": source,
            }
            _refuse_both("create", "a ContactListCreate", given)
        return name
    return ContactListCreate(
        name=name,
        description=description,
        allow_duplicates=allow_duplicates,
        source=PASSIVE_API_SOURCE if source is None else source,
    )


def _refuse_both(operation: str, given: str, fields: Mapping[str, object]) -> None:
    """Raise ValidationError when keyword fields come with an object that already says it all."""
    extra = [key for key, value in fields.items() if value is not None]
    if extra:
        raise ValidationError(
            extra[0],
            f"{operation}() got {given} and {', '.join(extra)} too; give one or the other, "
            "the keywords would be ignored",
        )
