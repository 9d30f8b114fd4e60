"""Async Python SDK for the Kore.ai Campaign Management contact-list APIs.

>>> async with CampaignClient("https://platform.kore.ai", client_id=..., client_secret=...) as c:
...     account = c.account("<account id>", iid="st-...")
...     created = await account.contact_lists.create("Renewal Due - July 2025", "...")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

from ._accounts import Account
from ._client import CampaignClient
from ._clock import Clock, ManualClock, Sleep
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
from ._http.policy import RetryBudget, RetryPolicy
from ._http.transport import HttpRequest, RawResponse, Transport
from ._observe.events import AttemptEvent, RetryEvent
from ._observe.hooks import Hooks
from ._quota.limiter import AccountLimiter
from ._quota.outcomes import Turn
from ._quota.pacing import PacingState
from ._quota.rate_limit import PacingSettings, RateLimit
from ._quota.store import AccountKey, Lease, LimitStore, LocalLimitStore, Permit, PermitRefused
from ._resources.contact_lists import ContactLists
from ._version import __version__
from ._wire.models import (
    AddContactsResult,
    CampaignRef,
    Contact,
    ContactList,
    ContactListCreate,
    ContactListListing,
    ContactListSpec,
    ContactListUpdate,
    ContactPage,
    ResponseMeta,
    UpdatedContactList,
)

if TYPE_CHECKING:
    from ._bulk.operations import HasListOperations, ListOperations
    from ._bulk.outcomes import CreateReport, Outcome, ReportCallback, SyncReport
    from ._bulk.plan import FieldChange, PlannedChange, SyncPlan
    from ._bulk.specs import ContactListSpecs
    from ._bulk.sync import PlanCallback
    from ._bulk.sync_many import AccountTarget
    from ._quota.redis_store import RedisLimitStore

#: Public names whose modules load when a name is first read (PEP 562), as most programs never
#: use them: the bulk jobs (create_many, sync, sync_many) and the Redis store.
_LAZY: Final = {
    "AccountTarget": "._bulk.sync_many",
    "ContactListSpecs": "._bulk.specs",
    "CreateReport": "._bulk.outcomes",
    "FieldChange": "._bulk.plan",
    "HasListOperations": "._bulk.operations",
    "ListOperations": "._bulk.operations",
    "Outcome": "._bulk.outcomes",
    "PlanCallback": "._bulk.sync",
    "PlannedChange": "._bulk.plan",
    "RedisLimitStore": "._quota.redis_store",
    "ReportCallback": "._bulk.outcomes",
    "SyncPlan": "._bulk.plan",
    "SyncReport": "._bulk.outcomes",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # read once: later reads find it like any other name
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
    "Clock",
    "ConfigurationError",
    "ConflictError",
    "Contact",
    "ContactList",
    "ContactListCreate",
    "ContactListListing",
    "ContactListSpec",
    "ContactListSpecs",
    "ContactListUpdate",
    "ContactLists",
    "ContactPage",
    "CreateReport",
    "EventLoopMismatchError",
    "FieldChange",
    "HasListOperations",
    "Hooks",
    "HttpRequest",
    "InternalServerError",
    "JwtSigner",
    "KoreError",
    "Lease",
    "LimitStore",
    "ListOperations",
    "LocalLimitStore",
    "ManualClock",
    "NotFoundError",
    "Outcome",
    "PacingSettings",
    "PacingState",
    "PermissionDeniedError",
    "Permit",
    "PermitRefused",
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
    "Sleep",
    "StaticToken",
    "SyncPlan",
    "SyncReport",
    "Timeout",
    "TokenError",
    "TokenProvider",
    "TokenSource",
    "Transport",
    "Turn",
    "UpdatedContactList",
    "ValidationError",
    "__version__",
]
