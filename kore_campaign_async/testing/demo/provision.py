"""``kore-campaign demo``: the whole job against an embedded fake Kore server, with faults on.

Kore's 60 requests per minute become 60 per ``--window`` seconds, so thousands of lists take
seconds. The demo walks one list through its lifecycle, provisions every account with
``client.sync_many``, re-runs the sync (which must write nothing) and checks the server's own
store: every desired list exists exactly once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Final

import attrs
from rich.console import Console

from kore_campaign_async import Account, CampaignClient, Contact, ContactListCreate, RateLimit

from ..._config import RATE_LIMIT_MESSAGE
from .._faults import Fault
from .._ratelimit import ServerRateLimit
from .._server import FakeKoreServer

#: Kore's documented limit, per account; only the window is scaled.
REQUESTS_PER_WINDOW: Final = 60
WRITE_OPERATIONS: Final = ("create", "update", "delete")

SyncRunner = Callable[
    [CampaignClient, Mapping[Account, Sequence[ContactListCreate]], str], Awaitable[bool]
]
"""Sync (pruning) each account to its lists, shown under a title; True if every account
succeeded. The CLI passes its own ``sync`` command, so the demo shows what a user would see."""


@attrs.frozen
class DemoSettings:
    """How big, fast and faulty the demo is."""

    accounts: int = 5
    lists: int = 600
    #: Seconds that stand for Kore's minute.
    window: float = 1.0
    faults: bool = True
    #: Seed of the server's fault dice.
    seed: int = 0


def demo_faults(window: float, burst_account: str) -> list[Fault]:
    """Return the failure script: resets, 503s, answers lost after commit and 429s."""
    rate_limited = {"errors": [{"msg": RATE_LIMIT_MESSAGE, "code": 429}]}
    retry_after = {"Retry-After": f"{window / 10:g}"}
    return [
        # A burst of 429s for one account's first creates: the others keep their pace.
        Fault(
            "status",
            operation="create",
            account_id=burst_account,
            times=5,
            status=429,
            body=rate_limited,
            headers=retry_after,
        ),
        Fault("reset", times=None, probability=0.01),
        Fault("status", times=None, probability=0.01, status=503),
        Fault("commit_then_drop", operation="create", times=None, probability=0.005),
        Fault(
            "status",
            times=None,
            probability=0.003,
            status=429,
            body=rate_limited,
            headers=retry_after,
        ),
    ]


def desired_lists(account_id: str, count: int) -> list[ContactListCreate]:
    """Return the lists the demo wants in one account."""
    return [
        ContactListCreate(
            name=f"Demo list {index:04d}",
            description=f"Demo contact list {index} of {account_id}",
            allow_duplicates=index % 3 == 0,
        )
        for index in range(count)
    ]


def seed_account(
    server: FakeKoreServer, account: Account, desired: Sequence[ContactListCreate]
) -> None:
    """Store what an account already has, so the sync has something to update, keep and protect."""
    account_id, iid = account.account_id, account.iid
    server.seed_list(
        account_id, iid, "July renewals", "In use", campaign_in_use=[{"id": "c-1", "name": "July"}]
    )
    server.seed_list(account_id, iid, "Uploaded in the UI", source="localDrive", status="Validated")
    server.seed_list(account_id, iid, "Old promotion", "Not wanted any more")
    first = desired[0]
    server.seed_list(account_id, iid, first.name, "An outdated description")
    if len(desired) > 1:
        second = desired[1]
        server.seed_list(
            account_id,
            iid,
            second.name,
            second.description or "",
            allow_duplicates=bool(second.allow_duplicates),
        )


@attrs.frozen
class Verification:
    """What the server's store holds compared with what was desired."""

    lost: int
    duplicated: int
    protected_kept: int
    protected_total: int


def verify(
    server: FakeKoreServer, desired: Mapping[Account, Sequence[ContactListCreate]]
) -> Verification:
    """Count desired names missing from the store, and extra copies of any of them."""
    lost = duplicated = kept = total = 0
    for account, specs in desired.items():
        names = Counter(str(doc["name"]).lower() for doc in server.lists(account.account_id))
        for spec in specs:
            found = names.get(spec.name.lower(), 0)
            lost += found == 0
            duplicated += max(0, found - 1)
        total += 2
        kept += sum(names.get(name, 0) == 1 for name in ("july renewals", "uploaded in the ui"))
    return Verification(lost, duplicated, kept, total)


async def lifecycle(account: Account, out: Console) -> None:
    """Walk one list through every operation and print what happened."""
    lists = account.contact_lists

    def say(operation: str, version: str, text: str) -> None:
        out.print(f"  {operation:<13} {version}  {text}", highlight=False, markup=False)

    out.print(f"[bold]Lifecycle of one list in {account.account_id}[/bold]")
    made = await lists.create("Lifecycle demo", "Walks through every call", allow_duplicates=False)
    say("create", "v2", f"{made.id} {made.name!r} status={made.status}")
    got = await lists.get(made.id)
    say("get", "v2", f"{got.id} {got.name!r} allow_duplicates={got.allow_duplicates}")
    new_name = "Lifecycle demo (renamed)"
    await lists.update(made.id, name=new_name, description="Renamed by the demo")
    say("update", "v2", f"{made.id} renamed to {new_name!r}")
    every = await lists.list()
    say("list", "v2", f"{len(every)} lists, ours among them: {any(i.id == made.id for i in every)}")
    phones = [Contact(phone_number=f"+1415555{number:04d}") for number in range(3)]
    added = await lists.add_contacts(new_name, phones)
    say("add_contacts", "   ", f"{added.submitted} submitted: {added.message}")
    contacts = [contact async for contact in lists.iter_contacts(made.id)]
    say("iter_contacts", "v2", f"{len(contacts)} contacts read back")
    gone = await lists.delete(made.id)
    say("delete", "v2", f"{gone.id} {gone.name!r}")
    old = await lists.create("Lifecycle demo v1", "Made with v1 paths", api_version="v1")
    say("create", "v1", f"{old.id} {old.name!r}")
    again = await lists.get(old.id, api_version="v1")
    say("get", "v1", f"{again.id} {again.name!r} lname={again.lname!r}")
    await lists.delete(old.id, api_version="v1")
    say("delete", "v1", f"{old.id}")


def _writes(server: FakeKoreServer) -> int:
    return sum(server.count(operation=operation) for operation in WRITE_OPERATIONS)


async def run_demo(settings: DemoSettings, out: Console, sync: SyncRunner) -> bool:
    """Run the demo; True only if nothing was lost, duplicated or failed."""
    window = settings.window
    limit = ServerRateLimit(REQUESTS_PER_WINDOW, window, mode="sliding", retry_after="seconds")
    async with FakeKoreServer(rate_limit=limit, seed=settings.seed) as server:
        client = CampaignClient(
            server.url,
            client_id=server.client_id,
            client_secret=server.client_secret,
            rate_limit=RateLimit(REQUESTS_PER_WINDOW, per=window),
        )
        async with client:
            return await _run(settings, server, client, out, sync)


async def _run(
    settings: DemoSettings,
    server: FakeKoreServer,
    client: CampaignClient,
    out: Console,
    sync: SyncRunner,
) -> bool:
    accounts = [
        client.account(f"demo-account-{n}", iid=f"st-demo-app-{n}")
        for n in range(1, settings.accounts + 1)
    ]
    out.print(
        f"Fake Kore server at {server.url}: {len(accounts)} accounts, "
        f"{REQUESTS_PER_WINDOW} requests per {settings.window:g} s each (Kore: per minute)",
        highlight=False,
    )
    await lifecycle(accounts[0], out)

    count = settings.lists
    desired = {account: desired_lists(account.account_id, count) for account in accounts}
    for account, specs in desired.items():
        seed_account(server, account, specs)
    if settings.faults:
        server.faults.add_many(demo_faults(settings.window, accounts[-1].account_id))
        out.print(
            "Faults on: 1% resets, 1% 503s, 0.5% creates lost after commit, 429s "
            f"(dice seeded with {settings.seed}; requests meet them in arrival order, so the "
            "count varies from run to run)",
            highlight=False,
        )

    out.print(f"\n[bold]Provisioning {count} lists in each of {len(accounts)} accounts[/bold]")
    started = time.monotonic()
    first = await sync(client, desired, "Summary")
    out.print(f"Provisioned in {time.monotonic() - started:.1f} s", highlight=False)

    out.print("\n[bold]Running the same sync again[/bold]")
    writes_before = _writes(server)
    second = await sync(client, desired, "Re-run")
    rerun_writes = _writes(server) - writes_before

    records = server.requests
    faults = sum(record.fault is not None for record in records)
    refused = sum(record.status == 429 and record.fault is None for record in records)
    out.print(
        f"\nServer saw {len(records)} requests: {faults} injected faults, "
        f"{refused} refused by its rate limit; the re-run wrote {rerun_writes} times",
        highlight=False,
    )
    result = verify(server, desired)
    out.print(
        f"lost: {result.lost}, duplicated: {result.duplicated}, protected lists kept: "
        f"{result.protected_kept}/{result.protected_total}",
        highlight=False,
    )
    success = (
        first
        and second
        and result.lost == 0
        and result.duplicated == 0
        and result.protected_kept == result.protected_total
        and rerun_writes == 0
    )
    out.print("[bold green]OK[/bold green]" if success else "[bold red]FAILED[/bold red]")
    return success
