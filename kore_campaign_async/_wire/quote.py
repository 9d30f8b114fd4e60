"""Quote a parsed answer for an error message: JSON-like text, cut short, never recursive.

``json.dumps`` and ``repr`` recurse once per nesting level and encode the whole value: an
answer nested ~1000 deep (which ``json.loads`` still takes) raises RecursionError in them, and
a 60 MB answer is encoded whole only to keep its first lines. This walks with a stack of its
own and stops once ``limit`` characters are written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Final

#: Characters kept of an answer quoted in an error (Kore's own errors are far shorter).
QUOTE_LIMIT: Final = 2000
_ELLIPSIS: Final = "..."
_DONE: Final = object()


class _Text(str):
    """Punctuation to write as it is (a plain ``str`` is a JSON string to quote)."""


def _scalar(value: object, limit: int) -> str:
    if isinstance(value, str):
        return json.dumps(value[:limit])
    if value is None or isinstance(value, (bool, int, float)):
        return json.dumps(value)
    return repr(type(value).__name__)  # not JSON: say what it is, never call its repr


def _parts(value: Mapping[object, object] | list[object]) -> Iterator[object]:
    if isinstance(value, Mapping):
        yield _Text("{")
        for index, (key, child) in enumerate(value.items()):
            yield _Text(", " if index else "")
            yield str(key)
            yield _Text(": ")
            yield child
        yield _Text("}")
    else:
        yield _Text("[")
        for index, child in enumerate(value):
            yield _Text(", " if index else "")
            yield child
        yield _Text("]")


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """Return ``value`` as JSON-like text of at most ``limit`` characters (plus ``...``)."""
    written: list[str] = []
    size = 0
    pending: list[Iterator[object]] = [iter((value,))]
    while pending and size <= limit:
        item = next(pending[-1], _DONE)
        if item is _DONE:  # this container is done: back to its parent
            pending.pop()
        elif isinstance(item, (Mapping, list)):
            pending.append(_parts(item))
        else:
            text = item if isinstance(item, _Text) else _scalar(item, limit)
            written.append(text)
            size += len(text)
    text = "".join(written)
    return text if size <= limit else text[:limit] + _ELLIPSIS


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """Return ``text`` cut to ``limit`` characters (plus ``...``) when longer."""
    return text if len(text) <= limit else text[:limit] + _ELLIPSIS
