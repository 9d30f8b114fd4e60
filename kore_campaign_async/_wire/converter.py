"""The one cattrs converter: Kore's camelCase JSON to our snake_case attrs models and back.

``make_converter()`` builds it; ``converter`` is the shared instance. Hooks:

- ``datetime``: ISO 8601 strings (``Z`` or offset; naive ones read as UTC) and epoch numbers,
  always to aware datetimes. Numbers below 1e11 are seconds, larger ones milliseconds (1e11 s is
  the year 5138, 1e11 ms March 1973, before any Kore list); a negative number is a decode error.
- ``bool``: JSON booleans, ``"true"``/``"false"`` and 0/1; anything else is a decode error
  (``bool("false")`` is True, so the default would lie).
- ``int``: integers, whole floats (``7.0``) and numeric text (``"7"``); a fraction, a boolean or
  anything else is a decode error (cattrs' default ``int(value)`` truncates 1.5 and counts True).
- ``str``: strings, and numbers as their text; anything else, null included, is a decode error
  (cattrs' default is ``str(value)``, which turns null into ``"None"``).
- ``bool``, ``int``, ``str``: one hook shape (:func:`_scalar`): a value of exactly that type is
  taken as it is, anything else goes to that type's rule above.
- null: in a field of a response model, JSON null means the same as the field being absent: the
  field's default where it has one (``""`` for a description, ``{}`` for a mapping, None for
  ``X | None`` fields), a decode error where it has none (a list's ``_id``).
- ``int | str | None`` (``contactPriority``): a number or a label, kept as Kore sent it.
- ``X | None`` fields of a response model: read by X's hook at once (nulls never reach it, see
  above), not through cattrs' union dispatch.
- ``tuple[X, ...]``: a JSON array, items by X's hook; anything else is a decode error (cattrs'
  default iterates it: a string into its characters).
- ``dict[str, X]`` (``mapping``, ``apiConfigurations``): a JSON object, copied with its values
  read by X's hook; its keys are text already and are not read again. Anything else is a decode
  error (``dict(value)`` would read an array of pairs as an object). Collections of ``Any`` are
  copied as they are: there is nothing to read in their items.
- ``CampaignRef``: ``campaignInUse`` items may be plain ids or ``{id, name}`` objects. A lone id
  or object where the array belongs is read as an array of one: it names a campaign, and
  reading the list as in use is the safe side.
- ``ContactList``, ``ContactPage``, ``CampaignRef``, ``UpdatedContactList``: cattrs' own
  generated function (``make_dict_structure_fn``) with camelCase renames, wrapped by
  :func:`model_hook`, which moves unknown keys to ``extra``, drops nulls (see above) and sets
  ``meta`` when the caller passes one as the hook's third argument (a :class:`ResultHook`:
  ``converter.get_structure_hook(cls)(data, cls, meta)``). ``meta`` is never read from the
  JSON; plain ``structure()`` leaves it None.
- ``Contact``: the same; unknown keys are custom columns and go to ``fields``.
- ``UpdatedContactList``: flattens ``{contactListId, body: {...}}`` first.
- unstructure ``ContactListCreate`` and ``Contact`` to request bodies in the documented key order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from types import NoneType, UnionType
from typing import Any, Final, Protocol, TypeVar, Union, get_args, get_origin

import attrs
from cattrs import Converter
from cattrs.gen import make_dict_structure_fn, override

from .bodies import camel, contact_body, create_body
from .models import (
    CampaignRef,
    Contact,
    ContactList,
    ContactListCreate,
    ContactPage,
    ResponseMeta,
    UpdatedContactList,
)
from .quote import quote

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

#: Epoch numbers from here on are milliseconds, below it seconds (see the module docstring).
EPOCH_MILLISECONDS_FROM: Final = 100_000_000_000


def _structure_datetime(value: object, _: object) -> datetime:
    if isinstance(value, str):  # what Kore sends: checked first
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:  # its message would quote the whole text, however long
            raise ValueError(f"not a timestamp: {quote(value, 100)}") from None
    elif isinstance(value, datetime):
        parsed = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if not value >= 0:  # NaN too
            raise ValueError(f"not a timestamp: {quote(value, 100)}")
        seconds = value if value < EPOCH_MILLISECONDS_FROM else value / 1000
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    else:
        raise TypeError(f"not a timestamp: {quote(value, 100)}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def _boolean(value: object) -> bool:
    if value in (0, 1) and isinstance(value, int):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TypeError(f"not a boolean: {quote(value, 100)}")


def _whole_number(value: object) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return int(value)  # ValueError unless it is a whole number's text
    raise TypeError(f"not a whole number: {quote(value, 100)}")


def _text(value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    kind = "null" if value is None else type(value).__name__
    raise TypeError(f"expected a string, got {kind}")


def _scalar(kind: type[T], convert: Callable[[object], T]) -> Callable[[object, object], T]:
    """Return the hook of a JSON scalar type: a ``kind`` as it is, anything else by ``convert``.

    ``type(value) is kind`` takes no subclass: a boolean is no ``int`` here, so the int rule
    refuses it.
    """

    def read(value: object, _: object) -> T:
        if type(value) is kind:
            return value
        return convert(value)

    return read


class ResultHook(Protocol[T_co]):
    """A structure hook that also takes the result's ``meta``."""

    def __call__(self, data: Any, cls: Any, meta: ResponseMeta | None = None, /) -> T_co: ...


#: What a JSON object may be: the dict json.loads makes, or any Mapping given to ``structure()``
#: (dict first: the dicts json.loads makes then skip the ABC check).
_JSON_OBJECT: Final = (dict, Mapping)

#: Keys the wrapper hands to cattrs' function for ``extra`` and ``meta``. The dict it builds holds
#: only the model's wire names besides these two, so a JSON key spelled so goes to ``extra``.
#: Plain identifiers: cattrs writes them into the source of the function it generates.
_EXTRA, _META = "_kca_extra", "_kca_meta"


def _not_none(tp: Any) -> Any:
    """Return X of ``X | None``, or None when ``tp`` is no such union."""
    args = get_args(tp)
    if get_origin(tp) in (Union, UnionType) and len(args) == 2 and NoneType in args:
        return args[0] if args[1] is NoneType else args[1]
    return None


def model_hook(
    conv: Converter,
    cls: type[T],
    *,
    extra_field: str = "extra",
    names: Mapping[str, str] | None = None,
) -> ResultHook[T]:
    """Return a structure hook for the attrs model ``cls``: cattrs' generated function, wrapped.

    Wire names are ``camel(field name)`` unless ``names`` says otherwise. The wrapper keeps the
    known keys, drops a null where the field has a default (null means absent), puts the other
    keys in ``extra_field`` and passes ``meta``; cattrs' function does the rest, field by field.
    """
    model: Any = cls  # an attrs class; T says nothing of that
    attrs.resolve_types(model)
    renames: dict[str, Any] = {}
    known: set[str] = set()
    required: set[str] = set()
    as_is = conv.get_structure_hook(Any)  # cattrs' own: hands the value over unchanged
    for field in attrs.fields(model):
        if field.name == extra_field:
            renames[field.name] = override(rename=_EXTRA, struct_hook=as_is)
        elif field.name == "meta":
            renames[field.name] = override(rename=_META, struct_hook=as_is)
        else:
            wire = (names or {}).get(field.name) or camel(field.name)
            known.add(wire)
            value_type = _not_none(field.type)
            if field.default is attrs.NOTHING:
                required.add(wire)
                renames[field.name] = override(rename=wire)
            elif value_type is not None:  # the wrapper drops nulls: X's own hook reads the rest
                renames[field.name] = override(
                    rename=wire, struct_hook=conv.get_structure_hook(value_type)
                )
            else:
                renames[field.name] = override(rename=wire)
    if {_EXTRA, _META} & known:
        raise ValueError(f"{cls.__name__} has a wire name reserved for extra or meta")
    build: Callable[[dict[str, Any], Any], T] = make_dict_structure_fn(model, conv, **renames)
    name = cls.__name__

    def structure(data: Any, _: Any, meta: ResponseMeta | None = None) -> T:
        if not isinstance(data, _JSON_OBJECT):
            raise TypeError(f"expected a JSON object for {name}, got {type(data).__name__}")
        if known.issuperset(data) and None not in data.values():
            kept = {**data, _EXTRA: {}}  # the usual answer: every key known, no null
        else:
            kept, extra = {}, {}
            for key, value in data.items():
                if key not in known:
                    extra[key] = value
                elif value is not None or key in required:
                    kept[key] = value  # a required null stays: its hook says what is wrong
            kept[_EXTRA] = extra
        if meta is not None:
            kept[_META] = meta
        return build(kept, cls)

    return structure


def _is_json_collection(tp: Any) -> bool:
    """Return whether ``tp`` is ``tuple[X, ...]`` (a JSON array) or ``dict[str, X]`` (an object)."""
    args = get_args(tp)
    if len(args) != 2:
        return False
    return (get_origin(tp) is tuple and args[1] is Ellipsis) or (
        get_origin(tp) is dict and args[0] is str
    )


def _json_collection(tp: Any, conv: Converter) -> Callable[[Any, Any], Any]:
    """Return the hook of ``tp``: the JSON kind checked, then each item by X's hook."""
    is_object = get_origin(tp) is dict
    item_type = get_args(tp)[1] if is_object else get_args(tp)[0]
    item = conv.get_structure_hook(item_type)

    # JSON object keys are text already: the object is copied, values by X's hook.
    def items(value: Any, _: Any) -> Any:
        if is_object:
            return {key: item(v, item_type) for key, v in value.items()}
        return tuple([item(v, item_type) for v in value])

    # Any items: nothing to read in them, the collection is copied as it is.
    copy: type[dict[Any, Any]] | type[tuple[Any, ...]] | None = None
    if item_type is Any:
        copy = dict if is_object else tuple

    kinds: tuple[type, ...] = _JSON_OBJECT if is_object else (list, tuple)
    kind = "object" if is_object else "array"
    # campaignInUse may hold one id or object where the array belongs: an array of one.
    takes_lone_item = tp == tuple[CampaignRef, ...]

    def structure(value: Any, cls: Any) -> Any:
        if not isinstance(value, kinds):
            if not (takes_lone_item and isinstance(value, (str, *_JSON_OBJECT))):
                raise TypeError(f"expected a JSON {kind}, got {type(value).__name__}")
            value = [value]
        return items(value, cls) if copy is None else copy(value)

    return structure


def _structure_campaign_ref(conv: Converter) -> Callable[[Any, Any], CampaignRef]:
    as_object = model_hook(conv, CampaignRef, names={"id": "id"})

    def structure(data: Any, cls: Any) -> CampaignRef:
        if isinstance(data, str):
            return CampaignRef(id=data)
        return as_object(data, cls)

    return structure


def _structure_updated(conv: Converter) -> Callable[[Any, Any], UpdatedContactList]:
    from_body = model_hook(conv, UpdatedContactList)

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


def make_converter() -> Converter:
    """Build a converter with every hook listed in the module docstring."""
    conv = Converter(detailed_validation=False)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_structure_hook(bool, _scalar(bool, _boolean))
    conv.register_structure_hook(int, _scalar(int, _whole_number))
    conv.register_structure_hook(str, _scalar(str, _text))
    conv.register_structure_hook_factory(_is_json_collection, _json_collection)
    # contactPriority is a number or a label: keep what Kore sent.
    conv.register_structure_hook_func(
        lambda t: t == (int | str | None), lambda v, _: v if isinstance(v, (int, str)) else None
    )
    conv.register_structure_hook(CampaignRef, _structure_campaign_ref(conv))
    conv.register_structure_hook(ContactList, model_hook(conv, ContactList))
    conv.register_structure_hook(Contact, model_hook(conv, Contact, extra_field="fields"))
    conv.register_structure_hook(ContactPage, model_hook(conv, ContactPage))
    conv.register_structure_hook(UpdatedContactList, _structure_updated(conv))
    conv.register_unstructure_hook(ContactListCreate, create_body)
    conv.register_unstructure_hook(Contact, contact_body)
    return conv


converter = make_converter()
