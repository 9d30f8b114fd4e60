"""What the bulk layer needs from an account: four list operations and a lease, as a Protocol.

``create_many`` and ``sync`` call only these, so they depend on this narrow seam rather than on
``ContactLists`` or ``Account`` (which import the bulk functions, not the other way round).
``account.contact_lists`` satisfies it; so does any in-memory double a test builds.
"""

from __future__ import annotations

import contextlib
from typing import Literal, Protocol, TypeAlias, runtime_checkable

from .._config import ApiVersion
from .._quota.store import Lease
from .._wire.models import ContactList, ContactListCreate, ContactListUpdate, UpdatedContactList

IfExists = Literal["error", "adopt"]


class ListOperations(Protocol):
    """The contact-list operations of one account that bulk creation and sync call."""

    @property
    def account_id(self) -> str:
        """The account the operations act on."""
        ...

    @property
    def api_version(self) -> ApiVersion:
        """The version used when a call names none."""
        ...

    @property
    def bulk_concurrency(self) -> int:
        """Workers a bulk job uses unless told otherwise."""
        ...

    async def create(
        self, spec: ContactListCreate, /, *, if_exists: IfExists, api_version: ApiVersion | None
    ) -> ContactList: ...

    async def list(self, *, api_version: ApiVersion | None) -> list[ContactList]: ...

    async def update(
        self, list_id: str, changes: ContactListUpdate, /, *, api_version: ApiVersion | None
    ) -> UpdatedContactList: ...

    async def delete(self, list_id: str, /, *, api_version: ApiVersion | None) -> ContactList: ...

    def lease(self, name: str) -> contextlib.AbstractAsyncContextManager[Lease]:
        """Hold the account's lease ``name``: one holder at a time, across processes when the
        client's limit store is shared."""
        ...


@runtime_checkable
class HasListOperations(Protocol):
    """An account handle: anything with ``.contact_lists`` (``client.account(...)`` is one)."""

    @property
    def contact_lists(self) -> ListOperations: ...


AccountLike: TypeAlias = HasListOperations | ListOperations
"""An account handle, or its list operations themselves."""


def operations_of(account: AccountLike) -> ListOperations:
    """Return the list operations of an account handle, or ``account`` if it is them already."""
    if isinstance(account, HasListOperations):
        return account.contact_lists
    return account
