"""Map a method and path to a Kore contact-list operation; check the identity headers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

import attrs

from .._config import ACCOUNT_HEADER, AUTH_HEADER, IID_HEADER
from .._wire.endpoints import OPERATIONS as _SPECS
from .._wire.endpoints import OperationName

#: The operations the server answers: those the SDK sends (one table, in ``_wire.endpoints``).
OPERATIONS: Final[frozenset[str]] = frozenset(_SPECS)
RouteVersion = Literal["v1", "v2"]

# Paths split on "/": the segment after "public" is the IID or stream id.
_PREFIXES: Final[Mapping[tuple[str, ...], RouteVersion]] = {
    ("", "agentassist", "api", "v1", "public"): "v1",
    ("", "campaign", "api", "v2", "public"): "v2",
}
_ADD_CONTACTS_PREFIX: Final = ("", "api", "1.1", "public")
_LIST_SEGMENTS: Final = ("campaign", "contactList")
_BY_ID: Final[Mapping[str, OperationName]] = {"PUT": "update", "GET": "get", "DELETE": "delete"}
_COLLECTION: Final[Mapping[str, OperationName]] = {
    "createContactList": "create",
    "getAllListDetails": "list",
}


@attrs.frozen
class Route:
    """One recognised request."""

    operation: OperationName
    #: "v1" for the agentassist and api/1.1 paths, "v2" for the campaign/api/v2 paths.
    version: RouteVersion
    #: The contactListId path segment, for the by-id operations.
    list_id: str | None = None


def resolve(method: str, path: str) -> Route | None:
    """Return the route for ``method path``, or None when Kore has no such endpoint."""
    parts = path.split("/")
    if tuple(parts[:4]) == _ADD_CONTACTS_PREFIX:
        # /api/1.1/public/{iid}/campaign/contactList/addContacts
        if (
            method == "POST"
            and len(parts) == 8
            and parts[4]
            and tuple(parts[5:7]) == _LIST_SEGMENTS
            and parts[7] == "addContacts"
        ):
            return Route("add_contacts", "v1")
        return None
    # /{prefix}/{id}/campaign/contactList/{rest...}
    version = _PREFIXES.get(tuple(parts[:5]))
    if version is None or len(parts) < 9 or not parts[5] or tuple(parts[6:8]) != _LIST_SEGMENTS:
        return None
    rest = parts[8:]
    if len(rest) == 1 and rest[0]:
        segment = rest[0]
        operation = _COLLECTION.get(segment) if method == "POST" else _BY_ID.get(method)
        if operation is None:
            return None
        return Route(operation, version, None if method == "POST" else segment)
    if len(rest) == 2 and rest[0] and rest[1] == "getAllContacts" and method == "GET":
        return Route("contacts", version, rest[0])
    return None


def header_problem(
    route: Route, headers: Mapping[str, str], query: Mapping[str, str]
) -> str | None:
    """Say what is wrong with the identity headers, or return None when they are complete."""
    for name in (AUTH_HEADER, IID_HEADER, ACCOUNT_HEADER):
        if not headers.get(name):
            return f"{name}: header is required"
    account = headers[ACCOUNT_HEADER]
    in_query = query.get("accountId")
    if in_query is None:
        if route.version == "v2" and route.operation != "add_contacts":
            return "accountId: query parameter is required"
    elif in_query != account:
        return "accountId: query parameter does not match the accountId header"
    return None
