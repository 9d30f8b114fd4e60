"""What a web backend answers when a Kore call fails: one table, shared by both recipes.

The caller's mistakes keep their status and message (422, 404, 409). Kore's pace becomes 503
with ``Retry-After``, so a client or a load balancer backs off. Everything else is Kore's or our
configuration's problem, not the caller's: 502/504 with a generic message, and the details go
to our own log (SDK messages never hold secrets, but they name Kore URLs and account ids).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import attrs

import kore_campaign_async as kca

logger = logging.getLogger("examples.kore_http")

#: Retry-After when Kore did not say how long to wait: its rate window is a minute.
DEFAULT_RETRY_AFTER = 60


@attrs.frozen
class HttpError:
    """The status, JSON body and headers to answer with."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = attrs.field(factory=dict)


def http_error(exc: kca.KoreError) -> HttpError:
    """Map an SDK error to the answer a web client should get."""
    kind = type(exc).__name__
    if isinstance(exc, kca.ValidationError):
        return HttpError(422, {"error": kind, "field": exc.field, "message": exc.message})
    if isinstance(exc, (kca.NotFoundError, kca.ConflictError)):
        status = 404 if isinstance(exc, kca.NotFoundError) else 409
        return HttpError(status, {"error": kind, "message": exc.message})
    if isinstance(exc, (kca.RateLimitError, kca.RetryBudgetExhaustedError, kca.ClientClosedError)):
        wait = getattr(exc, "retry_after", None)
        seconds = DEFAULT_RETRY_AFTER if wait is None else max(1, math.ceil(wait))
        body = {"error": "Unavailable", "message": "Kore is busy; try again later"}
        return HttpError(503, body, {"Retry-After": str(seconds)})
    logger.error("Kore call failed: %s: %s", kind, exc)
    if isinstance(exc, kca.APITimeoutError):
        return HttpError(504, {"error": "GatewayTimeout", "message": "Kore did not answer in time"})
    return HttpError(
        502, {"error": "BadGateway", "message": "Kore could not be reached or refused"}
    )


def list_json(item: kca.ContactList) -> dict[str, Any]:
    """The fields of a list the recipes answer with."""
    return {
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "allow_duplicates": item.allow_duplicates,
    }
