"""Check request bodies and query parameters the way Kore's documentation describes them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from .._config import DEFAULT_CONTACTS_PAGE_SIZE, DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH
from ._routes import RouteVersion

API_SOURCES: Final = ("passiveApi", "passiveApiIntegration")


class InvalidRequest(Exception):
    """The request breaks a documented rule; the message reads ``field: problem``."""


def json_object(raw: bytes) -> dict[str, Any]:
    """Parse a JSON object body."""
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        raise InvalidRequest("body: must be valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidRequest("body: must be a JSON object")
    return body


def _field(body: Mapping[str, Any], key: str, *, required: bool) -> Any:
    value = body.get(key)
    if value is None and required:
        raise InvalidRequest(f"{key}: is required")
    return value


def _text(body: Mapping[str, Any], key: str, *, max_length: int, required: bool) -> str | None:
    value = _field(body, key, required=required)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"{key}: must be a string")
    if len(value) > max_length:
        raise InvalidRequest(f"{key}: must be at most {max_length} characters")
    return value


def _name(body: Mapping[str, Any], *, required: bool) -> str | None:
    name = _text(body, "name", max_length=NAME_MAX_LENGTH, required=required)
    if name is None:
        return None
    name = name.strip()
    if not name:
        raise InvalidRequest("name: must not be empty")
    return name


def _flag(body: Mapping[str, Any], key: str, *, required: bool) -> bool | None:
    value = _field(body, key, required=required)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise InvalidRequest(f"{key}: must be a boolean")
    return value


def _source(body: Mapping[str, Any]) -> str:
    source = _field(body, "source", required=True)
    if source not in API_SOURCES:
        raise InvalidRequest(f"source: must be one of {', '.join(API_SOURCES)}")
    return str(source)


def create_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """Return the stored fields of a new list: name, description, source, allowDuplicates."""
    name = _name(body, required=True)
    description = _text(body, "description", max_length=DESCRIPTION_MAX_LENGTH, required=True)
    source = _source(body)
    allow = _flag(body, "allowDuplicates", required=False)
    return {
        "name": name,
        "description": description,
        "source": source,
        "allowDuplicates": bool(allow),
    }


def update_fields(body: Mapping[str, Any], version: RouteVersion) -> dict[str, Any]:
    """Return the fields an update changes.

    v1 requires name, source and allowDuplicates; v2 documents name and description only, so
    an allowDuplicates sent to v2 is ignored, as an undocumented field would be.
    """
    v1 = version == "v1"
    changes: dict[str, Any] = {
        "name": _name(body, required=v1),
        "description": _text(
            body, "description", max_length=DESCRIPTION_MAX_LENGTH, required=False
        ),
    }
    if v1:
        changes["allowDuplicates"] = _flag(body, "allowDuplicates", required=True)
        changes["source"] = _source(body)
    return {key: value for key, value in changes.items() if value is not None}


def list_type(query: Mapping[str, str]) -> None:
    """Check the ``type`` parameter of getAllListDetails: required, and only "call" exists."""
    kind = query.get("type")
    if kind is None:
        raise InvalidRequest("type: is required")
    if kind != "call":
        raise InvalidRequest("type: must be call")


def _count(query: Mapping[str, str], key: str, default: int, minimum: int) -> int:
    raw = query.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequest(f"{key}: must be an integer") from None
    if value < minimum:
        raise InvalidRequest(f"{key}: must be at least {minimum}")
    return value


def contacts_page(query: Mapping[str, str]) -> tuple[int, int]:
    """Return ``(skip, limit)`` of a getAllContacts call; limit is clamped to the page size."""
    skip = _count(query, "skip", 0, 0)
    limit = _count(query, "limit", DEFAULT_CONTACTS_PAGE_SIZE, 1)
    return skip, min(limit, DEFAULT_CONTACTS_PAGE_SIZE)


def new_contacts(body: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """Return the list name and the contacts of an addContacts body."""
    name = body.get("contact_list_name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequest("contact_list_name: must be a non-empty string")
    items = body.get("data")
    if not isinstance(items, list):
        raise InvalidRequest("data: must be an array")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidRequest(f"data[{index}]: must be an object")
        phone = item.get("phoneNumber")
        if not isinstance(phone, str) or not phone.strip():
            raise InvalidRequest(f"data[{index}].phoneNumber: must be a non-empty string")
    return name.strip(), items
