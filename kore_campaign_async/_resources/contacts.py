"""The contacts of a list: read them page by page (getAllContacts) and add them (addContacts).

Mixed into ``account.contact_lists``; the request bodies of addContacts are built here too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, Final, Literal

from .._config import DEFAULT_CONTACTS_PAGE_SIZE, ApiVersion, Timeout
from .._exceptions import APIResponseDecodeError, ValidationError
from .._http.policy import RetryPolicy
from .._wire import endpoints as ep
from .._wire.bodies import CONTACT_WIRE, contact_body
from .._wire.models import AddContactsResult, Contact, ContactPage, ResponseMeta
from .._wire.validation import check_id, check_json_text, check_name, check_positive_int
from .base import AccountResource, model
from .lost_answers import NeverResend

ContactInput = Contact | Mapping[str, Any]
_PAGE: Final = model(ContactPage)
_NEVER_RESEND: Final = NeverResend()


class ContactOperations(AccountResource):
    """Operations on the contacts of one account's lists."""

    async def list_contacts(
        self,
        list_id: str,
        *,
        skip: int = 0,
        limit: int = DEFAULT_CONTACTS_PAGE_SIZE,
        api_version: ApiVersion | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout | float | Literal["default"] | None = "default",
    ) -> ContactPage:
        """Return one page of a list's contacts."""
        check_id("list_id", list_id)
        if type(skip) is not int or skip < 0:
            raise ValidationError("skip", f"must be a non-negative integer, got {skip!r}")
        check_positive_int("limit", limit, maximum=DEFAULT_CONTACTS_PAGE_SIZE)
        version = self._version(api_version)
        request = ep.contacts(version, self._ref, list_id, skip=skip, limit=limit)
        return await self._requester.call(request, _PAGE, retry=retry, timeout=timeout)

    async def iter_contacts(
        self,
        list_id: str,
        *,
        page_size: int = DEFAULT_CONTACTS_PAGE_SIZE,
        api_version: ApiVersion | None = None,
    ) -> AsyncIterator[Contact]:
        """Yield every contact of a list, fetching pages of ``page_size`` as needed.

        Kore does not document its paging parameters, so every page must make progress: the
        iteration stops at ``totalResults`` when Kore gives it, and a page that starts with
        the previous page's first contact (a server ignoring ``skip``) raises
        APIResponseDecodeError instead of looping forever.
        """
        skip = 0
        previous: Contact | None = None
        while True:
            page = await self.list_contacts(
                list_id, skip=skip, limit=page_size, api_version=api_version
            )
            if not page.results:
                return
            first = page.results[0]
            if previous is not None and _same_contact(first, previous):
                raise self._stuck_paging(list_id, skip, page_size, api_version, first)
            previous = first
            for contact in page.results:
                yield contact
            skip += len(page.results)
            if not page.has_more or (page.total_results is not None and skip >= page.total_results):
                return

    def _stuck_paging(
        self,
        list_id: str,
        skip: int,
        limit: int,
        api_version: ApiVersion | None,
        repeated: Contact,
    ) -> APIResponseDecodeError:
        request = ep.contacts(
            self._version(api_version), self._ref, list_id, skip=skip, limit=limit
        )
        url = self._requester.client.url(request.path)
        who = repeated.id if repeated.id is not None else repeated.phone_number
        return APIResponseDecodeError(
            f"GET {url}: the page at skip={skip} starts with contact {who!r} again, as the "
            "previous page did; the server seems to ignore 'skip', so iteration stops here",
            method=request.method,
            url=url,
            status=200,
        )

    async def add_contacts(
        self,
        list_name: str,
        contacts: Iterable[ContactInput],
        *,
        retry: RetryPolicy | None = None,
        timeout: Timeout | float | Literal["default"] | None = "default",
    ) -> AddContactsResult:
        """Submit contacts to the list called ``list_name``; Kore adds them asynchronously.

        Not retried after an attempt whose answer was lost: the contacts may already be queued,
        and a list that allows duplicates would get them twice.
        """
        check_name(list_name, "list_name")
        body = [_contact_body(index, contact) for index, contact in enumerate(contacts)]
        if not body:
            raise ValidationError("contacts", "must contain at least one contact")

        def added(payload: Any, /, *, meta: ResponseMeta, **_: object) -> AddContactsResult:
            message = payload.get("message") if isinstance(payload, Mapping) else None
            return AddContactsResult(
                list_name=list_name,
                submitted=len(body),
                message=message if isinstance(message, str) else "",  # never "None" for a null
                meta=meta,
            )

        return await self._requester.call(
            ep.add_contacts(self._ref, list_name, body),
            added,
            retry=retry,
            timeout=timeout,
            recovery=_NEVER_RESEND,
        )


def _same_contact(a: Contact, b: Contact) -> bool:
    """Compare by Kore's id when both have one, else as whole records."""
    if a.id is not None and b.id is not None:
        return a.id == b.id
    return a == b


def _contact_body(index: int, contact: ContactInput) -> dict[str, Any]:
    field = f"contacts[{index}]"
    if isinstance(contact, Contact):
        body = contact_body(contact)
    elif isinstance(contact, Mapping):
        body = _wire_keys(field, contact)
    else:
        kind = type(contact).__name__
        raise ValidationError(field, f"must be a Contact or a mapping, got {kind}")
    phone = body.get("phoneNumber")
    if not isinstance(phone, str) or not phone.strip():
        raise ValidationError(f"{field}.phone_number", "is required and must be a non-empty string")
    check_json_text(field, body)
    return body


def _wire_keys(field: str, contact: Mapping[str, Any]) -> dict[str, Any]:
    """Copy a contact mapping with Contact's snake_case keys in Kore's camelCase."""
    body = dict(contact)
    for attr, wire in CONTACT_WIRE.items():
        if attr in body:
            if wire in body:
                raise ValidationError(
                    f"{field}.{attr}", f"given twice, as {attr!r} and {wire!r}; give one"
                )
            body[wire] = body.pop(attr)
    return body
