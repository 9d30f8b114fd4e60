"""Compiled structure functions for Kore's response models, registered as cattrs hooks.

cattrs' generated function for a model looks each key up twice and calls a hook per field,
and the hook of an ``X | None`` field calls X's hook in turn: for a 27-field ContactList that
was most of the client's decoding time. The function compiled here does, per field, one
lookup; a JSON scalar that already has the field's type (nearly all of them) is taken as it
is; anything else goes to the field's cattrs hook, so every conversion rule and error stays
the converter's. Absent and null both mean the field's default (a decode error for a field
without one). Unknown keys go to the model's ``extra`` field; ``meta`` is the caller's.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping
from types import NoneType, UnionType
from typing import Any, Final, Protocol, TypeVar, Union, get_args, get_origin

import attrs
from cattrs import Converter

from .models import ResponseMeta

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

#: Types a JSON value already is when it is right: their hooks return such a value unchanged.
JSON_SCALARS: Final = frozenset({str, bool, int})


class ResultHook(Protocol[T_co]):
    """A structure hook that also takes the result's ``meta``."""

    def __call__(self, data: Any, cls: Any, meta: ResponseMeta | None = None, /) -> T_co: ...


def optional_inner(tp: Any) -> Any | None:
    """Return X when ``tp`` is ``X | None`` for a single X, else None."""
    args = get_args(tp)
    if get_origin(tp) in (Union, UnionType) and len(args) == 2 and NoneType in args:
        first, second = args
        return first if second is NoneType else second
    return None


@attrs.frozen
class _Field:
    name: str
    wire: str
    hook: Callable[[Any, Any], Any]
    type: Any
    scalar: type | None
    """Taken as is when the value is exactly this type (JSON never makes subclasses)."""
    fast: str | None
    """Source ``test: assignment`` reading a value that needs no hook (see _fast_path)."""
    default: Any
    """attrs.NOTHING for a required field."""
    factory: Callable[[], Any] | None


def _field(conv: Converter, field: attrs.Attribute[Any], wire: str) -> _Field:
    tp = field.type
    inner = optional_inner(tp) if field.default is None else None
    # For X | None the None is handled inline, so X's own hook does the rest.
    target = tp if inner is None else inner
    factory = getattr(field.default, "factory", None)  # on an attrs.Factory only
    return _Field(
        name=field.name,
        wire=wire,
        hook=conv.get_structure_hook(target),
        type=target,
        scalar=target if target in JSON_SCALARS else None,
        fast=_fast_path(target),
        default=None if callable(factory) else field.default,
        factory=factory if callable(factory) else None,
    )


#: Containers of plain JSON whose hooks copy them one level deep: the same, inline.
_SHALLOW: Final[dict[Any, str]] = {
    dict[str, Any]: "v.__class__ is dict: f{n} = v.copy()",
    tuple[Any, ...]: "v.__class__ is list: f{n} = tuple(v)",
}


def _fast_path(target: Any) -> str | None:
    """Return ``test: assignment`` source for a value that is already what the hook returns.

    ``{n}`` stands for the field's number (its local ``f{n}``, its scalar type ``s{n}``).
    """
    if target in JSON_SCALARS:
        return "v.__class__ is s{n}: f{n} = v"
    return _SHALLOW.get(target)


def _lines(number: int, field: _Field) -> list[str]:
    """Source lines that read ``field`` from ``o`` into local ``f{number}``."""
    local, refs = f"f{number}", f"h{number}(v, t{number})"
    lines = [f"    v = get({field.wire!r}, MISSING)"]
    if field.default is attrs.NOTHING:
        lines.append(f"    if v is MISSING: raise KeyError({field.wire!r})")
        lead = "if"
    else:
        fallback = f"k{number}()" if field.factory is not None else f"d{number}"
        lines.append(f"    if v is MISSING or v is None: {local} = {fallback}")
        lead = "elif"
    if field.fast is not None:
        lines.append(f"    {lead} {field.fast.format(n=number)}")
        lines.append(f"    else: {local} = {refs}")
    elif lead == "elif":
        lines.append(f"    else: {local} = {refs}")
    else:
        lines.append(f"    {local} = {refs}")
    return lines


def compile_structure(
    conv: Converter,
    cls: type[T],
    *,
    extra_field: str = "extra",
    names: Mapping[str, str],
    camel: Callable[[str], str],
) -> ResultHook[T]:
    """Return a structure hook for the attrs model ``cls`` (see the module docstring).

    ``names`` overrides wire names; the others are ``camel(field name)``.
    """
    model: Any = cls  # an attrs class; T says nothing of that
    attrs.resolve_types(model)
    fields: list[_Field] = []
    has_meta = False
    for field in attrs.fields(model):
        if field.name == "meta":
            has_meta = True
        elif field.name != extra_field:
            fields.append(_field(conv, field, names.get(field.name) or camel(field.name)))
    namespace: dict[str, Any] = {"MISSING": object(), "cls": cls}
    body = ["    get = o.get"]
    arguments = []
    for number, field in enumerate(fields):
        # Field names become keyword arguments in the compiled source.
        assert field.name.isidentifier()
        assert not keyword.iskeyword(field.name)
        namespace.update(
            {
                f"h{number}": field.hook,
                f"t{number}": field.type,
                f"s{number}": field.scalar,
                f"d{number}": field.default,
                f"k{number}": field.factory,
            }
        )
        body += _lines(number, field)
        arguments.append(f"{field.name}=f{number}")
    arguments.append(f"{extra_field}=extra")
    if has_meta:
        arguments.append("meta=meta")
    body.append(f"    return cls({', '.join(arguments)})")
    # Everything the body uses arrives as a positional default (filled in one copy, where
    # keyword-only defaults are looked up one by one): a local, not a global, lookup.
    bound = ", ".join(f"{key}={key}" for key in namespace)
    source = "\n".join([f"def structure(o, extra, meta, {bound}):", *body])
    # Only our own field names and repr'd wire names reach the source.
    exec(compile(source, f"<kore structure {cls.__name__}>", "exec"), namespace)
    build: Callable[[Mapping[str, Any], dict[str, Any], ResponseMeta | None], T]
    build = namespace["structure"]
    known_keys = frozenset(field.wire for field in fields)
    name = cls.__name__

    def structure(data: Any, _: Any, meta: ResponseMeta | None = None) -> T:
        # dict first: JSON objects pass a plain type check, not the slower Mapping ABC one.
        if not isinstance(data, (dict, Mapping)):
            raise TypeError(f"expected a JSON object for {name}, got {type(data).__name__}")
        # The subset test runs in C; most answers carry no unknown keys.
        if known_keys.issuperset(data):
            return build(data, {}, meta)
        return build(data, {k: v for k, v in data.items() if k not in known_keys}, meta)

    return structure
