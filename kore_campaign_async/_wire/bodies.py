"""Request bodies in Kore's camelCase wire names, built without cattrs.

Kept apart from the converter (which registers them as its unstructure hooks) so that sending a
request never imports cattrs: reading a response does, on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from .models import Contact, ContactListCreate

#: Wire names that plain camelCase would get wrong.
_SPECIAL_NAMES = {"id": "_id", "iid": "iId", "is_global_dnc": "isGlobalDNC"}


def camel(name: str) -> str:
    """Return Kore's wire name for a snake_case attribute."""
    if name in _SPECIAL_NAMES:
        return _SPECIAL_NAMES[name]
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def create_body(spec: ContactListCreate) -> dict[str, Any]:
    """Return the JSON body of Kore's create call for ``spec`` (the converter's hook too)."""
    body: dict[str, Any] = {
        "name": spec.name,
        # Required on the create pages ("string, required"): None, "do not care", sends "".
        "description": "" if spec.description is None else spec.description,
        "source": spec.source,
    }
    if spec.allow_duplicates is not None:
        body["allowDuplicates"] = spec.allow_duplicates
    return body


#: Contact fields only read back (Kore sets them) or holding the custom columns: never renamed.
_CONTACT_NOT_SENT = frozenset({"fields", "id", "created_at", "updated_at"})
#: Every Contact field add_contacts sends, with its wire name; new fields join by themselves.
CONTACT_WIRE: Final[Mapping[str, str]] = {
    field.name: camel(field.name)
    for field in attrs.fields(Contact)
    if field.name not in _CONTACT_NOT_SENT
}


def contact_body(contact: Contact) -> dict[str, Any]:
    """Return the JSON of ``contact`` for add_contacts: its set fields, then its custom columns."""
    body: dict[str, Any] = {}
    for attr, wire in CONTACT_WIRE.items():
        value = getattr(contact, attr)
        if value is not None:
            body[wire] = value
    for key, value in contact.fields.items():
        body.setdefault(key, value)
    return body
