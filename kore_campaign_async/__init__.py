"""Async Python SDK for the Kore.ai Campaign Management contact-list APIs.

>>> async with CampaignClient("https://platform.kore.ai", client_id=..., client_secret=...) as c:
...     account = c.account("<account id>", iid="st-...")
...     created = await account.contact_lists.create("Renewal Due - July 2025", "...")
"""

from __future__ import annotations

from ._bulk.outcomes import CreateReport, Outcome, ReportCallback, SyncReport
from ._bulk.plan import FieldChange, PlannedChange, SyncPlan
from ._bulk.sync import AccountTarget, PlanCallback
from ._client import Account, CampaignClient
from ._clock import ManualClock
from ._config import ApiVersion, Timeout
from ._exceptions import (
    APIConnectionError,
    APIResponseDecodeError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    EventLoopMismatchError,
    InternalServerError,
    KoreError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    RetryBudgetExhaustedError,
    TokenError,
    ValidationError,
)
from ._http.auth import JwtSigner, ProviderToken, StaticToken, TokenProvider, TokenSource
from ._http.events import AttemptEvent
from ._http.limits import AccountLimiter
from ._http.requester import Hooks
from ._http.retry import RetryBudget, RetryEvent, RetryPolicy
from ._http.transport import HttpRequest, RawResponse, Transport
from ._quota.pacing import RateLimit
from ._quota.redis_store import RedisLimitStore
from ._quota.store import AccountKey, Lease, LimitStore, LocalLimitStore
from ._resources.contact_lists import ContactLists
from ._version import __version__
from ._wire.models import (
    AddContactsResult,
    CampaignRef,
    Contact,
    ContactList,
    ContactListCreate,
    ContactListUpdate,
    ContactPage,
    ResponseMeta,
    UpdatedContactList,
)

__all__ = [
    "APIConnectionError",
    "APIResponseDecodeError",
    "APIStatusError",
    "APITimeoutError",
    "Account",
    "AccountKey",
    "AccountLimiter",
    "AccountTarget",
    "AddContactsResult",
    "ApiVersion",
    "AttemptEvent",
    "AuthenticationError",
    "BadRequestError",
    "CampaignClient",
    "CampaignRef",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "Contact",
    "ContactList",
    "ContactListCreate",
    "ContactListUpdate",
    "ContactLists",
    "ContactPage",
    "CreateReport",
    "EventLoopMismatchError",
    "FieldChange",
    "Hooks",
    "HttpRequest",
    "InternalServerError",
    "JwtSigner",
    "KoreError",
    "Lease",
    "LimitStore",
    "LocalLimitStore",
    "ManualClock",
    "NotFoundError",
    "Outcome",
    "PermissionDeniedError",
    "PlanCallback",
    "PlannedChange",
    "ProviderToken",
    "RateLimit",
    "RateLimitError",
    "RawResponse",
    "RedisLimitStore",
    "ReportCallback",
    "ResponseMeta",
    "ResponseTooLargeError",
    "RetryBudget",
    "RetryBudgetExhaustedError",
    "RetryEvent",
    "RetryPolicy",
    "StaticToken",
    "SyncPlan",
    "SyncReport",
    "Timeout",
    "TokenError",
    "TokenProvider",
    "TokenSource",
    "Transport",
    "UpdatedContactList",
    "ValidationError",
    "__version__",
]
