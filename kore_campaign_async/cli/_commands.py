"""The one-off commands: lists, get, create, update, delete, contacts."""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Final

import attrs
from rich.console import Console
from rich.table import Table

from kore_campaign_async import (
    Account,
    CampaignClient,
    ConfigurationError,
    ContactListUpdate,
    LimitStore,
    RateLimit,
    RedisLimitStore,
    UpdatedContactList,
)

from . import _exit
from ._apply import Confirm
from ._config import Settings, names_of
from ._exit import UsageError
from ._output import contacts_table, detail_table, lists_table, plural, to_jsonable

#: Fields of a list an update keeps when it does not change them.
KEPT_FIELDS: Final = ("name", "description", "allow_duplicates", "source")

Command = Callable[[argparse.Namespace, Account, Console, Confirm], Awaitable[int]]


@contextlib.asynccontextmanager
async def open_client(settings: Settings) -> AsyncIterator[CampaignClient]:
    """Open the client the settings describe (and its Redis limit store, if any); close both."""
    try:
        store = RedisLimitStore.from_url(settings.redis_url) if settings.redis_url else None
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    try:
        async with make_client(settings, store) as client:
            yield client
    finally:
        if store is not None:
            await store.aclose()


def make_client(settings: Settings, limit_store: LimitStore | None = None) -> CampaignClient:
    """Build the client the settings describe; a bad setting is a usage error."""
    credentials = settings.credentials()
    try:
        return CampaignClient(
            settings.host,
            client_id=credentials.get("client_id"),
            client_secret=credentials.get("client_secret"),
            token=credentials.get("token"),
            api_version=settings.api_version,
            rate_limit=RateLimit(settings.rate_limit, per=settings.rate_period),
            max_concurrency=settings.max_concurrency,
            limit_store=limit_store,
            allow_insecure_http=settings.allow_insecure_http,
        )
    except ConfigurationError as exc:
        # The client names its keyword; a command-line user sets the flag or the variable.
        message = str(exc).replace("allow_insecure_http=True", f"{names_of('allow_insecure_http')}")
        raise UsageError(message) from None


def open_account(client: CampaignClient, settings: Settings) -> Account:
    """Return the handle of the account the settings name."""
    account_id, iid, stream_id = settings.account()
    return client.account(account_id, iid=iid, stream_id=stream_id)


def merge_update(
    answer: UpdatedContactList, sent: ContactListUpdate
) -> tuple[UpdatedContactList, tuple[str, ...]]:
    """Return what is true after an update, and the fields it left as they were.

    Kore's update answer echoes only what was sent (v2 leaves out even a kept description):
    a field the answer lacks takes the value sent, and one neither sent nor answered was not
    changed, which is what the CLI says rather than showing it empty.
    """
    filled: dict[str, Any] = {
        field: getattr(sent, field)
        for field in KEPT_FIELDS
        if getattr(sent, field) is not None and getattr(answer, field) is None
    }
    merged = attrs.evolve(answer, **filled)
    return merged, tuple(field for field in KEPT_FIELDS if getattr(merged, field) is None)


def print_json(out: Console, data: Any) -> None:
    """Write JSON as is: rich would wrap long lines, and scripts read this."""
    out.file.write(json.dumps(to_jsonable(data), indent=2, ensure_ascii=False) + "\n")
    out.file.flush()


def _show(out: Console, args: argparse.Namespace, result: Any) -> None:
    if args.json:
        print_json(out, result)
    else:
        out.print(detail_table(result))


def _show_many(
    out: Console, args: argparse.Namespace, items: Sequence[Any], as_table: Table, noun: str
) -> None:
    if args.json:
        print_json(out, items)
    else:
        out.print(as_table)
        out.print(plural(len(items), noun), highlight=False)


async def cmd_lists(
    args: argparse.Namespace, account: Account, out: Console, _confirm: Confirm
) -> int:
    lists = await account.contact_lists.list()
    _show_many(out, args, lists, lists_table(lists), "contact list")
    return _exit.OK


async def cmd_get(
    args: argparse.Namespace, account: Account, out: Console, _confirm: Confirm
) -> int:
    _show(out, args, await account.contact_lists.get(args.id))
    return _exit.OK


async def cmd_create(
    args: argparse.Namespace, account: Account, out: Console, _confirm: Confirm
) -> int:
    created = await account.contact_lists.create(
        args.name, args.description, allow_duplicates=args.allow_duplicates
    )
    _show(out, args, created)
    return _exit.OK


async def cmd_update(
    args: argparse.Namespace, account: Account, out: Console, _confirm: Confirm
) -> int:
    if args.name is None and args.description is None and args.allow_duplicates is None:
        raise UsageError("give at least one of --name, --description, --allow-duplicates")
    # With no version named, update() sends a change of the flag through v1.
    changes = ContactListUpdate(
        name=args.name, description=args.description, allow_duplicates=args.allow_duplicates
    )
    answer = await account.contact_lists.update(args.id, changes)
    updated, unchanged = merge_update(answer, changes)
    if args.json:
        data = to_jsonable(updated)
        for field in unchanged:
            del data[field]
        print_json(out, data)
    else:
        out.print(detail_table(updated, unchanged=unchanged))
    return _exit.OK


async def cmd_delete(
    args: argparse.Namespace, account: Account, out: Console, confirm: Confirm
) -> int:
    if not args.yes:
        current = await account.contact_lists.get(args.id)
        if not confirm(f"Delete contact list {current.id} ({current.name!r})?"):
            out.print("Not deleted.")
            return _exit.FAILED
    deleted = await account.contact_lists.delete(args.id)
    if args.json:
        print_json(out, deleted)
    else:
        out.print(f"Deleted {deleted.id} {deleted.name!r}", highlight=False, markup=False)
    return _exit.OK


async def cmd_contacts(
    args: argparse.Namespace, account: Account, out: Console, _confirm: Confirm
) -> int:
    contacts = [contact async for contact in account.contact_lists.iter_contacts(args.id)]
    _show_many(out, args, contacts, contacts_table(contacts), "contact")
    return _exit.OK


COMMANDS: dict[str, Command] = {
    "lists": cmd_lists,
    "get": cmd_get,
    "create": cmd_create,
    "update": cmd_update,
    "delete": cmd_delete,
    "contacts": cmd_contacts,
}
