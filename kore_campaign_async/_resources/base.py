"""What every operation of ``account.contact_lists`` shares: account, version, timeout, decoding."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from .._config import ApiVersion, Timeout
from .._http.requester import Requester
from .._http.responses import decode_lists, decode_result
from .._wire import endpoints as ep
from .._wire.models import ContactList, ResponseMeta
from .._wire.validation import check_api_version

T = TypeVar("T")
CallTimeout = Timeout | float | Literal["default"] | None


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

    def _version(self, api_version: ApiVersion | None) -> ApiVersion:
        return self._default_version if api_version is None else check_api_version(api_version)

    def _timeout(self, timeout: CallTimeout) -> Timeout | None:
        return None if timeout == "default" else Timeout.coerce(timeout)

    def _decode(
        self,
        spec: ep.RequestSpec,
        payload: Any,
        status: int,
        cls: type[T],
        meta: ResponseMeta | None = None,
    ) -> T:
        url = self._requester.base_url + spec.path
        return decode_result(payload, cls, method=spec.method, url=url, status=status, meta=meta)

    def _decode_lists(
        self, spec: ep.RequestSpec, payload: Any, status: int, meta: ResponseMeta | None = None
    ) -> list[ContactList]:
        url = self._requester.base_url + spec.path
        return decode_lists(payload, method=spec.method, url=url, status=status, meta=meta)
