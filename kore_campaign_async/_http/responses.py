"""Pure response decoding: Kore's envelope on success, the right exception on failure.

Kore's error bodies come in three shapes (API-NOTES): ``{"errors": [{"msg", "code"}]}``,
``{"status": "failure", "message": ...}`` and plain text. Any of them may also carry the
per-minute rate-limit message, whatever the HTTP status. A success's ``data`` becomes our
models through the converter, or an :class:`APIResponseDecodeError` that says what it got.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import attrs

from .._exceptions import (
    APIResponseDecodeError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from .._wire.listing import read_listing
from .._wire.models import ContactListListing, ResponseMeta
from .._wire.quote import QUOTE_LIMIT, quote, shorten
from .._wire.retry_after import parse_retry_after
from .redact import Redactor
from .transport import RawResponse

if TYPE_CHECKING:
    from .._wire.converter import ResultHook

T = TypeVar("T")

_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    412: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
}
#: Kore's per-minute rate-limit message (``RATE_LIMIT_MESSAGE``), found in any case anywhere in
#: a message; a compiled pattern, so the success path checks its ``message`` in one C call.
_RATE_LIMIT_TEXT = re.compile(re.escape("exceeded the per-minute rate limit"), re.IGNORECASE)


@attrs.frozen
class ErrorDetail:
    message: str
    code: int | str | None
    body: object


def parse_body(body: bytes) -> object:
    """Return the JSON value of ``body``, or its text when it is not JSON (or nested too deep)."""
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # b"[" * 100000 makes the parser recurse too deep
        return body[: 4 * QUOTE_LIMIT].decode("utf-8", errors="replace")[:QUOTE_LIMIT]


def error_detail(parsed: object, status: int) -> ErrorDetail:
    """Extract message and code from any of Kore's error shapes."""
    message: str | None = None
    code: int | str | None = None
    if isinstance(parsed, Mapping):
        errors = parsed.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            first = errors[0]
            raw_msg = first.get("msg", first.get("message"))
            if raw_msg is not None:
                message = raw_msg if isinstance(raw_msg, str) else quote(raw_msg)
            raw_code = first.get("code")
            code = raw_code if isinstance(raw_code, (int, str)) else None
        if message is None:
            for key in ("message", "msg", "error"):
                value = parsed.get(key)
                if isinstance(value, str) and value:
                    message = value
                    break
    elif isinstance(parsed, str) and parsed.strip():
        message = parsed.strip()
    return ErrorDetail(shorten(message or f"HTTP {status}"), code, parsed)


def status_error(
    raw: RawResponse,
    *,
    method: str,
    url: str,
    parsed: object | None = None,
    secrets: Iterable[str] = (),
) -> APIStatusError:
    """Build the exception for an error answer (or a ``status: failure`` envelope).

    ``secrets`` (the request's token) and anything shaped like a JWT are redacted from the
    message, body and headers: a server may echo the ``auth`` header back.
    """
    redactor = Redactor(secrets)
    if parsed is None:
        parsed = parse_body(raw.body)
    detail = error_detail(redactor.value(parsed), raw.status)
    common: dict[str, Any] = {
        "status": raw.status,
        "method": method,
        "url": url,
        "body": detail.body,
        "headers": redactor.headers(raw.headers),
        "code": detail.code,
        "retry_after": parse_retry_after(raw.headers),
    }
    if raw.status == 429 or _RATE_LIMIT_TEXT.search(detail.message):
        return RateLimitError(detail.message, **common)
    cls = _STATUS_ERRORS.get(raw.status)
    if cls is None:
        cls = InternalServerError if raw.status >= 500 else APIStatusError
        if 200 <= raw.status < 300:
            # A 2xx carrying status: failure: pick the class from what it says.
            cls = _class_from_message(detail.message)
    return cls(detail.message, **common)


def _class_from_message(message: str) -> type[APIStatusError]:
    lowered = message.lower()
    if "already exist" in lowered:
        return ConflictError
    if "not found" in lowered:
        return NotFoundError
    return BadRequestError


def is_name_taken(error: APIStatusError) -> bool:
    """True when Kore refused a create/update because the list name is already used."""
    return isinstance(error, (ConflictError, BadRequestError)) and (
        "already exist" in error.message.lower() or error.status == 409
    )


#: JSON between systems is UTF-8 (RFC 8259, 8.1): read as such, no guessing at its encoding.
_parse_json = json.JSONDecoder().decode


def decode(raw: RawResponse, *, method: str, url: str, secrets: Iterable[str] = ()) -> Any:
    """Return the parsed JSON of a success answer, or raise the matching error.

    ``secrets`` are redacted from any error raised, as in :func:`status_error`.
    """
    if not 200 <= raw.status < 300:
        raise status_error(raw, method=method, url=url, secrets=secrets)
    try:
        payload = _parse_json(raw.body.decode()) if raw.body else None
    except (ValueError, RecursionError) as exc:
        problem = "nested too deep" if isinstance(exc, RecursionError) else "not JSON"
        raise APIResponseDecodeError(
            f"{raw.status} {method} {url}: answer is {problem}",
            method=method,
            url=url,
            status=raw.status,
            body=_quote_raw(raw.body, secrets),
        ) from None
    if isinstance(payload, dict):
        failed = str(payload.get("status", "")).lower() == "failure"
        message = payload.get("message")
        rate_limited = isinstance(message, str) and _RATE_LIMIT_TEXT.search(message)
        if failed or rate_limited or ("errors" in payload and "data" not in payload):
            raise status_error(raw, method=method, url=url, parsed=payload, secrets=secrets)
    return payload


class ModelDecoder(Generic[T]):
    """Read answers' ``data`` as ``cls``, with ``meta`` when given (a ``Decoder``).

    An answer without ``data``, or whose ``data`` is no ``cls``, is an APIResponseDecodeError.

    The converter's hook of ``cls`` is looked up when the first answer is read: importing the
    converter imports cattrs, which an application that never reads an answer does not need.
    """

    __slots__ = ("_structure", "cls")

    def __init__(self, cls: type[T]) -> None:
        self.cls = cls
        self._structure: ResultHook[T] | None = None

    def __call__(
        self,
        payload: Any,
        /,
        *,
        method: str,
        url: str,
        status: int,
        meta: ResponseMeta | None = None,
    ) -> T:
        if not isinstance(payload, dict) or "data" not in payload:
            raise _no_data(payload, method=method, url=url, status=status)
        structure = self._structure
        if structure is None:
            from .._wire.converter import converter  # lazy: cattrs and the hooks cost ~12 ms

            hook = converter.get_structure_hook(self.cls)
            structure = self._structure = cast("ResultHook[T]", hook)
        data = payload["data"]
        try:
            return structure(data, self.cls, meta)
        except Exception as exc:  # cattrs raises many types; one clear error for the caller
            raise APIResponseDecodeError(
                f"{status} {method} {url}: cannot read {self.cls.__name__}: "
                f"{shorten(str(exc), 500)}",
                method=method,
                url=url,
                status=status,
                body=quote(data, 500),
            ) from exc


def decode_lists(
    payload: Any, *, method: str, url: str, status: int, meta: ResponseMeta | None = None
) -> ContactListListing:
    """Return the envelope's ``data`` as contact lists, each with ``meta`` when given.

    Lenient per item (see :class:`ContactListListing`); strict about the envelope.
    """
    items = listing_items(payload, method=method, url=url, status=status)
    return read_listing(items, url=url, meta=meta)


def listing_items(payload: Any, *, method: str, url: str, status: int) -> list[Any]:
    """Return a listing envelope's ``data`` items, unread; a decode error if there are none."""
    if not isinstance(payload, dict) or "data" not in payload:
        raise _no_data(payload, method=method, url=url, status=status)
    data = payload["data"]
    if not isinstance(data, list):
        raise APIResponseDecodeError(
            f"{status} {method} {url}: 'data' is not a list", method=method, url=url, status=status
        )
    return data


def _no_data(payload: Any, *, method: str, url: str, status: int) -> APIResponseDecodeError:
    return APIResponseDecodeError(
        f"{status} {method} {url}: answer has no 'data' field",
        method=method,
        url=url,
        status=status,
        body=quote(payload),
    )


def _quote_raw(body: bytes, secrets: Iterable[str]) -> str:
    """The start of an answer's bytes as text, secrets redacted before it is cut short.

    Redacted first, so a token that straddles the cut is hidden whole, not half shown.
    """
    return shorten(Redactor(secrets).text(body[: 4 * QUOTE_LIMIT].decode("utf-8", "replace")))
