"""FakeLists: one account's contact lists in memory, behind the bulk layer's ListOperations.

The one double of the bulk and sync unit tests. It records every call, answers at once (or
after a few loop turns, or when a gate opens), raises the errors it is told to, and counts
what a bounded pool must bound: writes in flight, tasks alive, writes cancelled.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
from collections.abc import Iterable
from typing import Any

import attrs

import kore_campaign_async as kca
from kore_campaign_async._bulk.operations import IfExists, ListOperations
from kore_campaign_async._quota.store import AccountKey, Lease, LocalLimitStore


class FakeLists:
    """An account's lists in memory, with the operations bulk creation and sync call."""

    def __init__(
        self,
        account_id: str = "acc-1",
        lists: Iterable[kca.ContactList] = (),
        *,
        api_version: kca.ApiVersion = "v2",
        bulk_concurrency: int = 4,
    ) -> None:
        self.account_id = account_id
        self.api_version: kca.ApiVersion = api_version
        self.bulk_concurrency = bulk_concurrency
        self.lists = {item.id: item for item in lists}
        #: Keep what create makes (a 10,000-item test does not need to).
        self.remember = True
        #: Every call in order: (operation, argument): a name, (id, changes), an id, or None.
        self.calls: builtins.list[tuple[str, Any]] = []
        #: The if_exists of each create, and the api_version of each update.
        self.if_exists: builtins.list[IfExists] = []
        self.update_versions: builtins.list[kca.ApiVersion | None] = []
        #: "operation:name" (or "list:") -> the error that call raises.
        self.fail: dict[str, BaseException] = {}
        #: Names whose create answers "adopted" (the list already existed).
        self.adopt: set[str] = set()
        #: Attempts each operation reports in its result's meta.
        self.attempts = {"create": 2, "update": 3, "delete": 1}
        #: Loop turns a write of that name takes (default 1).
        self.turns: dict[str, int] = {}
        #: When set, every write waits for it.
        self.gate: asyncio.Event | None = None
        #: Set whenever a write starts with at least ``busy_at`` writes in flight.
        self.busy = asyncio.Event()
        self.busy_at = 1
        self.in_flight = 0
        self.max_in_flight = 0
        self.max_tasks = 0
        self.finished = 0
        self.cancelled = 0
        #: Where the account's leases live (share one between two FakeLists of one account).
        self.leases = LocalLimitStore()

    def lease(self, name: str) -> contextlib.AbstractAsyncContextManager[Lease]:
        """The account's lease, held in this process (as the default limit store holds it)."""
        return self.leases.lease(AccountKey("fake", self.account_id), name)

    def as_operations(self) -> ListOperations:
        return self

    @property
    def sent(self) -> builtins.list[str]:
        """The names of the creates sent, in order."""
        return [arg for operation, arg in self.calls if operation == "create"]

    def writes(self) -> builtins.list[str]:
        """The write operations sent, in order."""
        return [operation for operation, _ in self.calls if operation != "list"]

    async def _step(self, operation: str, name: str, arg: Any) -> None:
        self.calls.append((operation, arg))
        if operation == "list":
            await asyncio.sleep(0)
            self._raise_if_told(operation, name)
            return
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.in_flight >= self.busy_at:
            self.busy.set()
        if len(self.calls) % 10 == 1:  # sampled: all_tasks() is slow next to a fake write
            self.max_tasks = max(self.max_tasks, len(asyncio.all_tasks()))
        try:
            if self.gate is not None:
                await self.gate.wait()
            for _ in range(self.turns.get(name, 1)):
                await asyncio.sleep(0)
            self._raise_if_told(operation, name)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1
        self.finished += 1

    def _raise_if_told(self, operation: str, name: str) -> None:
        error = self.fail.get(f"{operation}:{name}")
        if error is not None:
            raise error

    def _meta(self, operation: str, *, adopted: bool = False) -> kca.ResponseMeta:
        return kca.ResponseMeta(attempts=self.attempts[operation], adopted=adopted)

    async def list(
        self, *, api_version: kca.ApiVersion | None = None
    ) -> builtins.list[kca.ContactList]:
        await self._step("list", "", None)
        return builtins.list(self.lists.values())

    async def create(
        self,
        spec: kca.ContactListCreate,
        /,
        *,
        if_exists: IfExists,
        api_version: kca.ApiVersion | None = None,
    ) -> kca.ContactList:
        self.if_exists.append(if_exists)
        await self._step("create", spec.name, spec.name)
        created = kca.ContactList(
            id=f"cl-{spec.name}",
            name=spec.name,
            description=spec.description or "",  # what create sends for None
            allow_duplicates=bool(spec.allow_duplicates),
            source=spec.source,
        )
        if self.remember:
            self.lists[created.id] = created
        return attrs.evolve(created, meta=self._meta("create", adopted=spec.name in self.adopt))

    async def update(
        self,
        list_id: str,
        changes: kca.ContactListUpdate,
        /,
        *,
        api_version: kca.ApiVersion | None = None,
    ) -> kca.UpdatedContactList:
        current = self.lists[list_id]
        if api_version == "v2":
            assert changes.allow_duplicates is None, "Kore's v2 update takes no allowDuplicates"
        self.update_versions.append(api_version)
        await self._step("update", current.name, (list_id, changes))
        self.lists[list_id] = attrs.evolve(
            current,
            description=current.description if changes.description is None else changes.description,
            allow_duplicates=(
                current.allow_duplicates
                if changes.allow_duplicates is None
                else changes.allow_duplicates
            ),
        )
        return kca.UpdatedContactList(id=list_id, meta=self._meta("update"))

    async def delete(
        self, list_id: str, /, *, api_version: kca.ApiVersion | None = None
    ) -> kca.ContactList:
        await self._step("delete", self.lists[list_id].name, list_id)
        return attrs.evolve(self.lists.pop(list_id), meta=self._meta("delete"))


class FakeAccount:
    """An account handle: just ``.contact_lists``, as sync_many reads it."""

    def __init__(self, lists: FakeLists) -> None:
        self.contact_lists = lists
