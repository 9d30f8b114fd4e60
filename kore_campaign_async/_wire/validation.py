"""Pure input checks: each raises ValidationError naming the field and the limit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._config import (
    API_VERSIONS,
    DESCRIPTION_MAX_LENGTH,
    ID_MAX_LENGTH,
    NAME_MAX_LENGTH,
    ApiVersion,
)
from .._exceptions import ValidationError

#: Sources Kore accepts for API-created lists (the docs use both spellings).
PASSIVE_SOURCES = frozenset({"passiveApi", "passiveApiIntegration"})


def _type_name(value: object) -> str:
    return type(value).__name__


def check_str(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, got {_type_name(value)}")
    if not value.isascii():  # O(1): only non-ASCII text can hold a lone surrogate
        _check_encodable(field, value)
    return value


def _check_encodable(field: str, text: str) -> None:
    # A lone surrogate (e.g. from a badly decoded file) cannot be sent as UTF-8: the transport
    # would raise UnicodeEncodeError mid-request.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            field,
            f"must be valid Unicode text; found the lone surrogate {text[exc.start]!r} "
            f"at index {exc.start}",
        ) from None


def check_json_text(field: str, value: object) -> None:
    """Check that every string in a JSON-able ``value`` (keys included) can be sent as UTF-8.

    Walks without recursion: a caller's deeply nested value must not raise RecursionError.
    """
    pending: list[tuple[str, object]] = [(field, value)]
    while pending:
        where, item = pending.pop()
        if isinstance(item, str):
            check_str(where, item)
        elif isinstance(item, Mapping):
            for key, child in item.items():
                if isinstance(key, str):
                    check_str(f"{where} key {key!r}", key)
                pending.append((f"{where}.{key}", child))
        elif isinstance(item, (list, tuple)):
            pending.extend((f"{where}[{index}]", child) for index, child in enumerate(item))


def check_name(value: object, field: str = "name") -> str:
    name = check_str(field, value)
    if not name.strip():
        raise ValidationError(field, "must not be empty")
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            field, f"must be at most {NAME_MAX_LENGTH} characters, got {len(name)}"
        )
    return name


def check_description(value: object, field: str = "description") -> str:
    text = check_str(field, value)
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError(
            field, f"must be at most {DESCRIPTION_MAX_LENGTH} characters, got {len(text)}"
        )
    return text


def check_optional_bool(field: str, value: object) -> bool | None:
    # bool is an int subclass: 0/1 and "yes" are rejected on purpose, Kore wants a JSON boolean.
    if value is None or type(value) is bool:
        return value
    raise ValidationError(field, f"must be true or false, got {_type_name(value)} {value!r}")


def check_source(value: object, field: str = "source") -> str:
    source = check_str(field, value)
    if source not in PASSIVE_SOURCES:
        raise ValidationError(field, f"must be one of {sorted(PASSIVE_SOURCES)}, got {source!r}")
    return source


def check_id(field: str, value: object) -> str:
    """Check an identifier that goes into a URL path, a query or a header.

    Printable ASCII of at most ``ID_MAX_LENGTH`` characters: an id travels in the ``accountId``
    and ``iid`` headers, where other text would go out as raw UTF-8 bytes, and a longer one
    only earns a 414 from Kore.
    """
    ident = check_str(field, value)
    if not ident.strip():
        raise ValidationError(field, "must not be empty")
    if len(ident) > ID_MAX_LENGTH:
        raise ValidationError(
            field, f"must be at most {ID_MAX_LENGTH} characters, got {len(ident)}"
        )
    if ident in (".", ".."):
        # yarl resolves dot segments: get("..") would GET the parent path, another resource.
        raise ValidationError(field, f"must not be {ident!r} (a relative path segment)")
    if ident != ident.strip() or any(c in ident for c in "/?#") or not ident.isprintable():
        raise ValidationError(
            field,
            f"must not contain '/', '?', '#', control characters or outer whitespace: {ident!r}",
        )
    if not ident.isascii():
        at, char = next((i, c) for i, c in enumerate(ident) if not c.isascii())
        raise ValidationError(
            field, f"must be printable ASCII; found {char!r} at index {at} in {ident!r}"
        )
    return ident


def check_api_version(value: object, field: str = "api_version") -> ApiVersion:
    if value not in API_VERSIONS:
        raise ValidationError(field, f"must be one of {list(API_VERSIONS)}, got {value!r}")
    return value


def check_positive_int(field: str, value: object, *, maximum: int | None = None) -> int:
    if type(value) is not int or value < 1:
        raise ValidationError(field, f"must be a positive integer, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValidationError(field, f"must be at most {maximum}, got {value}")
    return value


def attrs_validator(check: Callable[[str, Any], Any]) -> Callable[[Any, Any, Any], None]:
    """Adapt a ``check(field, value)`` function into an attrs validator."""

    def validate(_instance: Any, attribute: Any, value: Any) -> None:
        check(attribute.name, value)

    return validate
