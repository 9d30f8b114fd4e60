"""What every operation of ``account.contact_lists`` shares: account, version, timeout, decoding."""

from __future__ import annotations

import contextlib
from typing import TypeVar

from .._config import ApiVersion
from .._http.calls import Decoder
from .._http.requester import Requester
from .._http.responses import ModelDecoder
from .._quota.store import Lease
from .._wire.validation import check_api_version

T = TypeVar("T")


def model(cls: type[T]) -> Decoder[T]:
    """Return a decoder of an answer's ``data`` into ``cls``, meta included."""
    return ModelDecoder(cls)


class AccountResource:
    """One account's requester and default API version, with the helpers each call needs."""

    def __init__(
        self,
        requester: Requester,
        *,
        api_version: ApiVersion,
        bulk_concurrency: int,
    ) -> None:
        self._requester = requester
        self._ref = requester.account
        self._default_version = api_version
        self._bulk_concurrency = bulk_concurrency

    @property
    def account_id(self) -> str:
        """The account these operations act on."""
        return self._ref.account_id

    @property
    def api_version(self) -> ApiVersion:
        """The version used when a call does not name one."""
        return self._default_version

    @property
    def bulk_concurrency(self) -> int:
        """Workers that create_many and sync use unless told otherwise."""
        return self._bulk_concurrency

    def lease(self, name: str) -> contextlib.AbstractAsyncContextManager[Lease]:
        """Hold the account's lease ``name``: one holder at a time in every process sharing
        the client's limit store (``sync(prune=True)`` takes "sync-prune")."""
        return self._requester.limiter.lease(name)

    def _version(self, api_version: ApiVersion | None) -> ApiVersion:
        return self._default_version if api_version is None else check_api_version(api_version)
