"""The input of a bulk job: list specs, given as objects or mappings, sync or async."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Mapping

from .._exceptions import ValidationError
from .._wire.models import ContactListCreate, ContactListSpec

SpecInput = ContactListCreate | ContactListSpec
"""A list spec: a ``ContactListCreate`` or a plain mapping (``ContactListCreate.from_mapping``)."""
ContactListSpecs = Iterable[SpecInput] | AsyncIterable[SpecInput]
"""Many list specs (``ContactListCreate`` objects or ``ContactListSpec`` mappings), from a sync
or an async iterable: what ``create_many`` and ``sync`` take."""


def to_spec(raw: object, field: str) -> ContactListCreate:
    """Return ``raw`` as a ContactListCreate; ValidationError fields are prefixed by ``field``."""
    if isinstance(raw, ContactListCreate):
        return raw
    if isinstance(raw, Mapping):
        try:
            return ContactListCreate.from_mapping(raw)
        except ValidationError as exc:
            raise ValidationError(f"{field}.{exc.field}", exc.message) from None
    kind = type(raw).__name__
    raise ValidationError(field, f"must be a ContactListCreate or a mapping, got {kind}")


def raw_name(raw: object) -> str:
    """Return the name a spec that could not be read carries, or "" when it has none."""
    name = raw.name if isinstance(raw, ContactListCreate) else None
    if isinstance(raw, Mapping):
        name = raw.get("name")
    return name if isinstance(name, str) else ""


def check_items(items: object, field: str) -> None:
    """Refuse a lone spec, a string or a non-iterable passed where many specs are expected."""
    lone = isinstance(items, (str, bytes, Mapping, ContactListCreate))
    if lone or not isinstance(items, (Iterable, AsyncIterable)):
        kind = type(items).__name__
        raise ValidationError(
            field, f"must be an iterable or async iterable of list specs, got {kind}"
        )
