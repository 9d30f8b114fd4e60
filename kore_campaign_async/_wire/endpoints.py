"""Pure request building: which method, path, query and body each operation sends, per version.

Nothing here does I/O; ``RequestSpec`` is what the transport sends and what tests compare.
:data:`OPERATIONS` is the one table of what the SDK knows of each operation: the request path,
its observers and the fake server all read it, so a new operation needs an entry here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final, Literal
from urllib.parse import quote

import attrs

from .._config import ACCOUNT_HEADER, AUTH_HEADER, IID_HEADER, ApiVersion

OperationName = Literal["create", "get", "update", "delete", "list", "contacts", "add_contacts"]


@attrs.frozen
class OperationSpec:
    """One API operation as the SDK knows it."""

    name: OperationName
    public_name: str
    """The SDK method that makes it: logs' ``kore_operation``, spans' ``kore.<public_name>``."""
    method: str
    resend_after_unreadable: bool
    """Whether it is attempted again after a 2xx answer it could not read. The request reached
    the server, so a write was most likely applied."""


def _spec(name: OperationName, public_name: str, method: str, resend: bool) -> OperationSpec:
    return OperationSpec(name, public_name, method, resend)


OPERATIONS: Final[Mapping[OperationName, OperationSpec]] = MappingProxyType(
    {
        # Reads: ask again.
        "get": _spec("get", "contact_lists.get", "GET", True),
        "list": _spec("list", "contact_lists.list", "POST", True),
        "contacts": _spec("contacts", "contacts.list", "GET", True),
        # A lost answer: the next attempt looks the list up and adopts it.
        "create": _spec("create", "contact_lists.create", "POST", True),
        # A lost answer: a resend that finds no list counts as done.
        "delete": _spec("delete", "contact_lists.delete", "DELETE", True),
        # Sets fields to given values: a second one changes nothing more (Kore takes a list's
        # own name, as every v1 update sends it).
        "update": _spec("update", "contact_lists.update", "PUT", True),
        # Never resent: the contacts may be queued already.
        "add_contacts": _spec("add_contacts", "contacts.add", "POST", False),
    }
)

_V1: Final = "/agentassist/api/v1/public/{sid}/campaign/contactList"
_V2: Final = "/campaign/api/v2/public/{sid}/campaign/contactList"
_ADD_CONTACTS: Final = "/api/1.1/public/{sid}/campaign/contactList/addContacts"

Query = tuple[tuple[str, str], ...]


#: Distinct apps whose path prefix is kept (shared by their accounts); others are quoted again.
_PREFIXES: Final = 1024


@functools.lru_cache(maxsize=_PREFIXES)
def _v1_prefix(sid: str) -> str:
    return _V1.format(sid=quote(sid, safe=""))


@functools.lru_cache(maxsize=_PREFIXES)
def _v2_prefix(sid: str) -> str:
    return _V2.format(sid=quote(sid, safe=""))


@functools.lru_cache(maxsize=_PREFIXES)
def _create_path(prefix: str) -> str:
    """The create path under ``prefix``: one per app, as every create of its accounts sends."""
    return f"{prefix}/createContactList"


@attrs.frozen(weakref_slot=False)
class AccountRef:
    """Who a request is for: the account, the app (iid) and the stream in v2 paths."""

    account_id: str
    iid: str
    stream_id: str
    # The v2 query (?accountId=), made at the account's first v2 call: a tuple per account
    # rather than two per request.
    _v2_query: Query | None = attrs.field(default=None, init=False, eq=False, repr=False)

    def prefix(self, version: ApiVersion) -> str:
        """Return the path prefix of the account's contact-list calls."""
        # v1 pages name the path id IID, v2 pages streamId. One per app (quote() is slow),
        # shared by its accounts: not one per account, nor one per request.
        return _v1_prefix(self.iid) if version == "v1" else _v2_prefix(self.stream_id)

    def query(self, version: ApiVersion) -> Query:
        """Return the query of the account's contact-list calls (v2 adds ?accountId=)."""
        if version == "v1":
            return ()
        query = self._v2_query
        if query is None:  # derived from the frozen fields: a cache, not a change
            query = (("accountId", self.account_id),)
            object.__setattr__(self, "_v2_query", query)
        return query


@attrs.frozen(weakref_slot=False)  # one per request: no weakref slot nobody uses
class RequestSpec:
    """One HTTP request, fully determined before anything is sent."""

    operation: OperationName
    method: str
    path: str
    params: Query = ()
    json: Any = None
    api_version: ApiVersion | None = None


def create(version: ApiVersion, account: AccountRef, body: dict[str, Any]) -> RequestSpec:
    path = _create_path(account.prefix(version))
    return RequestSpec("create", "POST", path, account.query(version), body, version)


def _by_id(
    operation: OperationName,
    method: str,
    version: ApiVersion,
    account: AccountRef,
    list_id: str,
    body: dict[str, Any] | None = None,
) -> RequestSpec:
    path = f"{account.prefix(version)}/{quote(list_id, safe='')}"
    return RequestSpec(operation, method, path, account.query(version), body, version)


def get(version: ApiVersion, account: AccountRef, list_id: str) -> RequestSpec:
    return _by_id("get", "GET", version, account, list_id)


def update(
    version: ApiVersion, account: AccountRef, list_id: str, body: dict[str, Any]
) -> RequestSpec:
    return _by_id("update", "PUT", version, account, list_id, body)


def delete(version: ApiVersion, account: AccountRef, list_id: str) -> RequestSpec:
    return _by_id("delete", "DELETE", version, account, list_id)


def list_all(version: ApiVersion, account: AccountRef) -> RequestSpec:
    params = (*account.query(version), ("type", "call"))
    path = f"{account.prefix(version)}/getAllListDetails"
    return RequestSpec("list", "POST", path, params, None, version)


def contacts(
    version: ApiVersion, account: AccountRef, list_id: str, *, skip: int, limit: int
) -> RequestSpec:
    # Both versions take ?accountId= here (API-NOTES), and the v1 route is keyed by stream id.
    base = (_v1_prefix if version == "v1" else _v2_prefix)(account.stream_id)
    params = (("accountId", account.account_id), ("skip", str(skip)), ("limit", str(limit)))
    return RequestSpec(
        "contacts",
        "GET",
        f"{base}/{quote(list_id, safe='')}/getAllContacts",
        params,
        None,
        version,
    )


def add_contacts(
    account: AccountRef, list_name: str, contacts_body: Sequence[dict[str, Any]]
) -> RequestSpec:
    body = {"contact_list_name": list_name, "data": list(contacts_body)}
    path = _ADD_CONTACTS.format(sid=quote(account.iid, safe=""))
    return RequestSpec("add_contacts", "POST", path, (), body, None)


def update_body(
    version: ApiVersion,
    *,
    name: str | None,
    description: str | None,
    allow_duplicates: bool | None,
    source: str,
) -> dict[str, Any]:
    """Build an update body. v1 requires name, source and allowDuplicates; v2 takes what changes."""
    body: dict[str, Any] = {}
    if name is not None:
        body["name"] = name
    if description is not None:
        body["description"] = description
    if version == "v1":
        body["source"] = source
    if allow_duplicates is not None:
        body["allowDuplicates"] = allow_duplicates
    return body


def headers(account: AccountRef, token: str) -> dict[str, str]:
    """Return the three headers every Kore campaign request carries."""
    return {AUTH_HEADER: token, IID_HEADER: account.iid, ACCOUNT_HEADER: account.account_id}
