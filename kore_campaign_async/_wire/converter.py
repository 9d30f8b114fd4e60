"""The one cattrs converter: Kore's camelCase JSON to our snake_case attrs models and back.

``make_converter()`` builds it; ``converter`` is the shared instance. Hooks:

- ``datetime``: ISO 8601 strings (``Z`` or offset; naive ones read as UTC) and epoch milliseconds,
  always to aware datetimes.
- ``bool``: JSON booleans, ``"true"``/``"false"`` and 0/1; anything else is a decode error
  (``bool("false")`` is True, so the default would lie).
- ``str``: strings, and numbers as their text; anything else, null included, is a decode error
  (cattrs' default is ``str(value)``, which turns null into ``"None"``).
- null: in a field of a response model, JSON null means the same as the field being absent: the
  field's default where it has one (``""`` for a description, ``{}`` for a mapping, None for
  ``X | None`` fields), a decode error where it has none (a list's ``_id``).
- ``CampaignRef``: ``campaignInUse`` items may be plain ids or ``{id, name}`` objects.
- ``ContactList``, ``ContactPage``, ``CampaignRef``: camelCase renames; unknown keys go to
  ``extra``.
- ``Contact``: camelCase renames; unknown keys are custom columns and go to ``fields``.
- ``UpdatedContactList``: flattens ``{contactListId, body: {...}}``.
- ``X | None`` and ``tuple[X, ...]``: X's hook resolved once (cattrs' defaults look it up on
  every value). Registered first, so classes registered later can use them.
- ``dict[str, Any]``: a JSON object is copied as is (cattrs' default converts key by key).
- ``meta`` of result models: set by :func:`structure_with_meta` as the model is built (never
  read from the JSON); plain ``structure()`` leaves it None.
- unstructure ``ContactListCreate`` and ``Contact`` to request bodies in the documented key order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, Final, TypeVar, cast, get_args, get_origin

import attrs
from cattrs import Converter

from .model_structure import ResultHook, compile_structure, optional_inner
from .models import (
    CampaignRef,
    Contact,
    ContactList,
    ContactListCreate,
    ContactPage,
    ResponseMeta,
    UpdatedContactList,
)

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

#: Wire names that plain camelCase would get wrong.
_SPECIAL_NAMES = {"id": "_id", "iid": "iId", "is_global_dnc": "isGlobalDNC"}


def camel(name: str) -> str:
    """Return Kore's wire name for a snake_case attribute."""
    if name in _SPECIAL_NAMES:
        return _SPECIAL_NAMES[name]
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def parse_datetime(value: object) -> datetime:
    """Parse Kore's timestamps into aware datetimes."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000.0, tz=timezone.utc)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
    else:
        raise TypeError(f"not a timestamp: {value!r}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def _structure_datetime(value: object, _: object) -> datetime:
    return parse_datetime(value)


def _structure_bool(value: object, _: object) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1) and isinstance(value, int):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TypeError(f"not a boolean: {value!r}")


def _structure_str(value: object, _: object) -> str:
    if type(value) is str:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    kind = "null" if value is None else type(value).__name__
    raise TypeError(f"expected a string, got {kind}")


def _with_extra(
    conv: Converter,
    cls: type[T],
    extra_field: str = "extra",
    names: Mapping[str, str] | None = None,
) -> ResultHook[T]:
    """Structure ``cls`` from camelCase (or ``names``) keys; unknown keys go to ``extra_field``."""
    return compile_structure(conv, cls, extra_field=extra_field, names=names or {}, camel=camel)


def _is_optional(tp: Any) -> bool:
    """Return whether ``tp`` is ``X | None`` for a single X."""
    return optional_inner(tp) is not None


def _optional_hook(conv: Converter) -> Callable[[Any], Callable[[Any, Any], Any]]:
    """Return a hook factory for ``X | None`` that looks up X's hook once, not per value."""

    def factory(union: Any) -> Callable[[Any, Any], Any]:
        inner = optional_inner(union)
        hook = conv.get_structure_hook(inner)

        def structure(value: Any, _: Any) -> Any:
            return None if value is None else hook(value, inner)

        return structure

    return factory


def _is_homogeneous_tuple(tp: Any) -> bool:
    """Return whether ``tp`` is ``tuple[X, ...]``."""
    args = get_args(tp)
    return get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _tuple_hook(conv: Converter) -> Callable[[Any], Callable[[Any, Any], tuple[Any, ...]]]:
    """Return a hook factory for ``tuple[X, ...]`` that looks up X's hook once, not per call."""

    def factory(tup: Any) -> Callable[[Any, Any], tuple[Any, ...]]:
        item = get_args(tup)[0]
        hook = conv.get_structure_hook(item)

        def structure(value: Any, _: Any) -> tuple[Any, ...]:
            return tuple([hook(element, item) for element in value])

        return structure

    return factory


def _json_object_hook(conv: Converter) -> Callable[[Any, Any], dict[str, Any]]:
    by_key = conv.get_structure_hook(dict[str, Any])  # cattrs' own, for anything else

    def structure(value: Any, cls: Any) -> dict[str, Any]:
        # JSON object keys are already str and Any values stay as they are: a copy is the same.
        return dict(value) if type(value) is dict else by_key(value, cls)

    return structure


def _structure_campaign_ref(conv: Converter) -> Callable[[Any, Any], CampaignRef]:
    as_object = _with_extra(conv, CampaignRef, names={"id": "id"})

    def structure(data: Any, cls: Any) -> CampaignRef:
        if isinstance(data, str):
            return CampaignRef(id=data)
        return as_object(data, cls)

    return structure


def _structure_updated(conv: Converter) -> Callable[[Any, Any], UpdatedContactList]:
    from_body = _with_extra(conv, UpdatedContactList)

    def structure(data: Any, cls: Any, meta: ResponseMeta | None = None) -> UpdatedContactList:
        if not isinstance(data, Mapping):
            raise TypeError(f"expected a JSON object, got {type(data).__name__}")
        body = data.get("body")
        flat = dict(body) if isinstance(body, Mapping) else {}
        # Absent or null, the id is unknown: "" (update() knows which list it changed).
        flat["_id"] = data.get("contactListId") or flat.get("_id") or ""
        for key, value in data.items():
            if key not in ("body", "contactListId"):
                flat.setdefault(key, value)
        return from_body(flat, cls, meta)

    return structure


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


def _unstructure_contact(contact: Contact) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for attr, wire in CONTACT_WIRE.items():
        value = getattr(contact, attr)
        if value is not None:
            body[wire] = value
    for key, value in contact.fields.items():
        body.setdefault(key, value)
    return body


def make_converter() -> Converter:
    """Build a converter with every hook listed in the module docstring."""
    conv = Converter(detailed_validation=False)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(str, _structure_str)
    # After the datetime and bool hooks, which they resolve once per type.
    conv.register_structure_hook_factory(_is_optional, _optional_hook(conv))
    conv.register_structure_hook_factory(_is_homogeneous_tuple, _tuple_hook(conv))
    conv.register_structure_hook_func(lambda t: t == dict[str, Any], _json_object_hook(conv))
    # contactPriority is a number or a label: keep what Kore sent.
    conv.register_structure_hook_func(
        lambda t: t == (int | str | None), lambda v, _: v if isinstance(v, (int, str)) else None
    )
    conv.register_structure_hook(CampaignRef, _structure_campaign_ref(conv))
    conv.register_structure_hook(ContactList, _with_extra(conv, ContactList))
    conv.register_structure_hook(Contact, _with_extra(conv, Contact, extra_field="fields"))
    conv.register_structure_hook(ContactPage, _with_extra(conv, ContactPage))
    conv.register_structure_hook(UpdatedContactList, _structure_updated(conv))
    conv.register_unstructure_hook(ContactListCreate, create_body)
    conv.register_unstructure_hook(Contact, _unstructure_contact)
    return conv


converter = make_converter()


def structure_with_meta(data: Any, cls: type[T], meta: ResponseMeta) -> T:
    """Structure ``data`` as a result model (ContactList, UpdatedContactList, ContactPage).

    ``meta`` is set as the model is built.

    One construction, where ``attrs.evolve`` after ``structure()`` would build it twice.
    """
    hook = _result_hooks.get(cls)
    if hook is None:
        # The hooks registered for result models take meta (see _model_structure).
        hook = _result_hooks[cls] = converter.get_structure_hook(cls)
    return cast("ResultHook[T]", hook)(data, cls, meta)


#: The converter's hook per result model, looked up once (cattrs dispatches on every call).
_result_hooks: dict[type, Any] = {}
