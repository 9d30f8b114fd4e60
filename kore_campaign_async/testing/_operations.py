"""Answer each contact-list operation from the store, as Kore documents it: no I/O here."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from .._wire.endpoints import OperationName
from ._routes import Route
from ._store import (
    FAKE_ORG_ID,
    FAKE_USER_ID,
    ContactListStore,
    NameTakenError,
    StoredList,
    compact_json,
)
from ._validation import (
    InvalidRequest,
    contacts_page,
    create_fields,
    json_object,
    list_type,
    new_contacts,
    update_fields,
)

ADD_CONTACTS_MESSAGE: Final = "Adding contacts to public list is in progress"
LIST_NOT_FOUND: Final = "Contact list not found"
# Kore's code for a rejected field, used with HTTP 400.
VALIDATION_CODE: Final = 412


@attrs.frozen
class Reply:
    """An answer to send: status, body and extra headers."""

    status: int
    #: A JSON-able value, JSON already encoded (bytes), or a str sent as text/plain. Success
    #: bodies may hold the stored document itself: encode the reply before the store changes.
    body: Any
    headers: Mapping[str, str] = attrs.field(factory=dict)


def errors_reply(status: int, msg: str, code: int) -> Reply:
    """Return Kore's ``{"errors": [{"msg", "code"}]}`` answer."""
    return Reply(status, {"errors": [{"msg": msg, "code": code}]})


def failure_reply(status: int, message: str) -> Reply:
    """Return the campaign endpoints' ``{"status": "failure", "message"}`` answer."""
    return Reply(status, {"status": "failure", "message": message})


def _success(message: str, data: Any) -> Reply:
    return Reply(200, {"status": "success", "message": message, "data": data})


_NOT_FOUND: Final = failure_reply(404, LIST_NOT_FOUND)
#: A listing's answer up to its items: ``_success("", [...])`` as the server encodes it.
_LISTING_HEAD: Final = compact_json({"status": "success", "message": "", "data": []})[:-2]


@attrs.frozen
class AdmittedRequest:
    """One authenticated, admitted request."""

    route: Route
    account_id: str
    iid: str
    query: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes = b""


class ContactListApi:
    """The operations of the contact-list API over one :class:`ContactListStore`."""

    def __init__(self, store: ContactListStore) -> None:
        self._store = store
        self._operations: Mapping[OperationName, Callable[[AdmittedRequest], Reply]] = {
            "create": self._create,
            "update": self._update,
            "get": self._get,
            "list": self._list,
            "delete": self._delete,
            "contacts": self._contacts,
            "add_contacts": self._add_contacts,
        }

    @property
    def handled(self) -> frozenset[str]:
        """The operations it answers."""
        return frozenset(self._operations)

    def answer(self, call: AdmittedRequest) -> Reply:
        """Perform ``call`` and return Kore's answer."""
        try:
            return self._operations[call.route.operation](call)
        except InvalidRequest as exc:
            return errors_reply(400, str(exc), VALIDATION_CODE)
        except NameTakenError as exc:
            return failure_reply(409, str(exc))

    def _find(self, call: AdmittedRequest) -> StoredList | None:
        return self._store.get(call.account_id, call.route.list_id or "")

    def _create(self, call: AdmittedRequest) -> Reply:
        fields = create_fields(json_object(call.body))
        stored = self._store.create(call.account_id, call.iid, fields)
        return _success(
            f"Contact list {stored.name} created successfully", stored.shaped(call.route.version)
        )

    def _update(self, call: AdmittedRequest) -> Reply:
        changes = update_fields(json_object(call.body), call.route.version)
        stored = self._find(call)
        if stored is None:
            return _NOT_FOUND
        self._store.update(call.account_id, stored, changes)
        body: dict[str, Any] = {
            "name": stored.name,
            "orgId": FAKE_ORG_ID,
            "iId": call.iid,
            "listType": "call",
            "accountId": call.account_id,
            "updatedBy": FAKE_USER_ID,
        }
        body.update(
            (key, changes[key]) for key in ("description", "allowDuplicates") if key in changes
        )
        if call.route.version == "v2":
            body["scope"] = "campaign"
        return _success(
            f"Contact list {stored.name} updated successfully",
            {"contactListId": stored.id, "body": body},
        )

    def _get(self, call: AdmittedRequest) -> Reply:
        stored = self._find(call)
        return _NOT_FOUND if stored is None else _success("", stored.shaped(call.route.version))

    def _list(self, call: AdmittedRequest) -> Reply:
        list_type(call.query)
        lists = self._store.lists(call.account_id)
        items = b",".join(stored.encoded(call.route.version) for stored in lists)
        return Reply(200, _LISTING_HEAD + items + b"]}")

    def _delete(self, call: AdmittedRequest) -> Reply:
        stored = self._find(call)
        if stored is None:
            return _NOT_FOUND
        campaigns = stored.doc.get("campaignInUse") or []
        if campaigns:
            names = ", ".join(
                str(campaign.get("name", campaign.get("id"))) for campaign in campaigns
            )
            return failure_reply(409, f"Contact list is in use by campaign(s): {names}")
        self._store.delete(call.account_id, stored.id)
        return _success(
            f"Contact list {stored.name} deleted successfully", stored.shaped(call.route.version)
        )

    def _contacts(self, call: AdmittedRequest) -> Reply:
        skip, limit = contacts_page(call.query)
        stored = self._find(call)
        if stored is None:
            return _NOT_FOUND
        total = len(stored.contacts)
        page = stored.contacts[skip : skip + limit]
        data = {
            "results": page,
            "skip": skip,
            "limit": limit,
            "hasMore": skip + len(page) < total,
            "totalPages": math.ceil(total / limit),
            "totalResults": total,
        }
        return _success("", data)

    def _add_contacts(self, call: AdmittedRequest) -> Reply:
        name, items = new_contacts(json_object(call.body))
        stored = self._store.find_by_name(call.account_id, name)
        if stored is None:
            return _NOT_FOUND
        self._store.add_contacts(stored, items)
        return Reply(200, {"message": ADD_CONTACTS_MESSAGE})
