"""Take secrets out of what a server sent back before it becomes part of an error.

A server (or a proxy) may echo the request's ``auth`` header in an error body; that body then
reaches ``str(exc)``, ``exc.body``, logs and the CLI. Every string in it loses the given
secrets and anything shaped like a JWT, so a token is hidden even where the caller of
:func:`status_error` did not know it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from .._config import AUTH_HEADER

REDACTED: Final = "<redacted>"

# header.payload[.signature], base64url: a JWT's header always starts with '{"', i.e. "eyJ".
_JWT: Final = r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)?"
#: Response headers whose whole value is a credential, whatever it looks like.
_SECRET_HEADERS: Final = frozenset({AUTH_HEADER.lower(), "authorization", "cookie", "set-cookie"})


class Redactor:
    """Replace ``secrets`` and JWT-shaped strings with ``<redacted>``; never shown."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is hidden whole.
        given = sorted({s for s in secrets if isinstance(s, str) and s}, key=len, reverse=True)
        self._pattern = re.compile("|".join([*map(re.escape, given), _JWT]))

    def __repr__(self) -> str:
        return "Redactor(<hidden>)"

    def text(self, value: str) -> str:
        return self._pattern.sub(REDACTED, value)

    def value(self, value: object) -> object:
        """Return a copy of a parsed JSON value with every string (keys included) redacted.

        Walks without recursion: a body nested a thousand deep parses, then must not raise
        RecursionError here.
        """
        root: list[Any] = [value]
        pending: list[tuple[Any, Any]] = [(root, 0)]  # (container, slot) still to copy
        while pending:
            into, slot = pending.pop()
            item = into[slot]
            if isinstance(item, str):
                into[slot] = self.text(item)
            elif isinstance(item, dict):
                copy = {(self.text(k) if isinstance(k, str) else k): v for k, v in item.items()}
                into[slot] = copy
                pending.extend((copy, key) for key in copy)
            elif isinstance(item, list):
                into[slot] = list(item)
                pending.extend((into[slot], index) for index in range(len(item)))
        return root[0]

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            name: REDACTED if name.lower() in _SECRET_HEADERS else self.text(value)
            for name, value in headers.items()
        }
