"""Every error the SDK raises derives from :class:`KoreError`.

::

    KoreError
    ├── ConfigurationError            bad client or account settings (also ValueError)
    ├── ValidationError               bad input, caught before anything is sent (also ValueError)
    ├── ClientClosedError             the client (or the aiohttp session it was given) is closed
    ├── EventLoopMismatchError        the client was used from another event loop than its own
    ├── TokenError                    a token could not be made, fetched, or sent as a header
    ├── RetryBudgetExhaustedError     too many retries lately: failing fast instead of storming
    ├── APIConnectionError            no HTTP answer (request_sent: may it have arrived?)
    │   └── APITimeoutError           connect or read timed out
    ├── APIResponseDecodeError        an answer that cannot be read (status, body, method, url)
    │   └── ResponseTooLargeError     an answer longer than max_response_bytes, never read whole
    └── APIStatusError                Kore answered with an error (status, method, url, body)
        ├── BadRequestError           400 (and 412, 422 validation answers)
        ├── AuthenticationError       401
        ├── PermissionDeniedError     403
        ├── NotFoundError             404
        ├── ConflictError             409 (e.g. a list name already taken)
        ├── RateLimitError            429, or Kore's rate-limit message in any answer
        └── InternalServerError       5xx

The three API errors split on what came back: nothing usable (:class:`APIConnectionError`),
an answer the SDK cannot read (:class:`APIResponseDecodeError`: the server did answer, so
``request_sent`` is always True and a write may have been applied), or Kore's refusal
(:class:`APIStatusError`). Each carries ``method`` and ``url``; the last two ``status`` and
``body``.

Every error that came from a call carries ``attempts``: how many HTTP attempts the call made.
Every :class:`APIStatusError` carries ``retry_after``: the delay its answer asked for, if any.
Bodies, messages and headers of errors built from an answer have the request's token and
anything shaped like a JWT replaced with ``<redacted>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class KoreError(Exception):
    """Base of every error raised by kore_campaign_async."""

    attempts: int = 0


class ConfigurationError(KoreError, ValueError):
    """A client or account setting is invalid."""


class ValidationError(KoreError, ValueError):
    """Input that Kore would reject, caught before any request is sent."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ClientClosedError(KoreError, RuntimeError):
    """The client was used after it was closed, or the aiohttp session it was given is closed.

    ``request_sent`` is True when the call had sent an attempt whose answer was lost before the
    client closed: a write may have been applied (the lost attempt's error is the cause).
    """

    def __init__(self, message: str, *, request_sent: bool = False) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class EventLoopMismatchError(KoreError, RuntimeError):
    """The client was used from another event loop than the one it was opened on.

    An aiohttp session (and its connections) belongs to one event loop: make one client per
    loop (per thread running a loop). Checked before anything is sent.
    """


class TokenError(KoreError):
    """A JWT could not be created, or the token provider failed."""


class RetryBudgetExhaustedError(KoreError):
    """The client's retry budget is spent: the call fails fast instead of retrying."""

    def __init__(self, message: str, *, last_error: BaseException | None = None) -> None:
        super().__init__(message)
        self.last_error = last_error


class APIConnectionError(KoreError):
    """The request got no usable HTTP answer (refused, reset, DNS, TLS...)."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        url: str = "",
        request_sent: bool = True,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        #: False when the request certainly never reached the server (connect failed).
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    """The request timed out (connect or total)."""


class APIResponseDecodeError(KoreError):
    """An answer whose body is not the documented JSON envelope (usually a 2xx).

    Not a connection error: the server answered, so the request reached it. Not a status
    error either: nothing says Kore refused, and a 2xx write may well have been applied.
    """

    def __init__(
        self, message: str, *, method: str = "", url: str = "", status: int = 0, body: str = ""
    ) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.status = status
        #: The start of the raw body (or of what could not be read), as text.
        self.body = body
        #: Always True: an answer came back, so the request was sent.
        self.request_sent = True


class ResponseTooLargeError(APIResponseDecodeError):
    """An answer longer than the client's ``max_response_bytes``: refused, not read whole.

    Refused from its ``Content-Length`` before reading, or as soon as the bytes read pass the
    limit. Never retried: the same request would get the same answer.
    """

    def __init__(self, message: str, *, limit: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        #: The ``max_response_bytes`` the answer exceeded.
        self.limit = limit


class APIStatusError(KoreError):
    """Kore answered with an error status (or a ``status: failure`` envelope)."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str,
        url: str,
        body: object = None,
        headers: Mapping[str, str] | None = None,
        code: int | str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        #: The request URL. Never contains secrets: credentials travel in headers only.
        self.url = url
        #: The parsed JSON body, or the raw text when it was not JSON.
        self.body = body
        self.headers: dict[str, str] = dict(headers or {})
        #: Kore's own error code from ``errors[0].code``, when present.
        self.code = code
        #: Seconds the answer asked us to wait (``Retry-After`` or ``retry-after-ms``), in full:
        #: any finite, non-negative value, on any status. A retried call waits exactly this
        #: long; longer than ``RetryPolicy.max_retry_after`` and the call fails at once with
        #: this error.
        self.retry_after = retry_after

    def __str__(self) -> str:
        code = f" (code {self.code})" if self.code is not None else ""
        return f"{self.status} {self.method} {self.url}: {self.message}{code}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_status_error, (type(self), self.message, self.__dict__))


def _rebuild_status_error(
    cls: type[APIStatusError], message: str, state: dict[str, Any]
) -> APIStatusError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class BadRequestError(APIStatusError):
    """400 (or 412/422): Kore rejected the request body or parameters."""


class AuthenticationError(APIStatusError):
    """401: the JWT was rejected (bad signature, expired, wrong appId)."""


class PermissionDeniedError(APIStatusError):
    """403: the app lacks the Campaign Management scope or access to the account."""


class NotFoundError(APIStatusError):
    """404: no such contact list (or path)."""


class ConflictError(APIStatusError):
    """409: the request conflicts with existing state, e.g. a list name already taken."""


class RateLimitError(APIStatusError):
    """429, or Kore's per-minute rate-limit message in any answer.

    Also raised, with ``request_sent`` False and nothing sent (never retried), when an earlier
    429 paused the account for longer than the call's ``RetryPolicy.max_retry_after`` (or past
    its deadline): ``retry_after`` is then the part of that pause still to run; or when the
    call's turn did not come within ``RetryPolicy.max_queue_wait``: ``retry_after`` is then
    an estimate of when a turn would come (None when there is nothing to estimate from).
    """

    def __init__(self, message: str, *, request_sent: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        #: False when the SDK refused to send the request because its account is paused.
        self.request_sent = request_sent


class InternalServerError(APIStatusError):
    """5xx: Kore failed. The request may or may not have been applied."""
