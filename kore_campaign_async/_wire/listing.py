"""Read a listing (getAllListDetails) so that one bad record never blocks the account.

Each item is first read as strictly as a single result. Only an item that fails is read again
field by field: a field whose value its hook refuses keeps its default and its raw value goes to
the list's ``extra`` under its wire name. An item without a usable id or name (absent, null,
blank or unreadable), or that is no JSON object, is left out and counted. Both are logged as a
WARNING on the ``kore_campaign_async`` logger, with structured ``extra`` fields (``kore_url``,
``kore_item_index``, ``kore_list_id``, ``kore_fields``); the raw values are not logged.

An adoption lookup wants one name out of the account's lists: :class:`ListingByName` keeps the
items as Kore sent them, by name, and reads only the ones asked for, the same way.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import attrs

from .bodies import camel
from .models import ContactList, ContactListListing, ResponseMeta, name_key

if TYPE_CHECKING:
    from .converter import ResultHook

logger = logging.getLogger("kore_campaign_async")


@functools.cache
def _fields() -> dict[str, Any]:
    """Return the wire name -> type of each field a listing item carries.

    Made when an item is first read leniently, not at import: it evaluates every annotation of
    ContactList.
    """
    return {
        camel(field.name): field.type
        for field in attrs.fields(attrs.resolve_types(ContactList))
        if field.name not in ("extra", "meta")
    }


@functools.cache
def _structure() -> ResultHook[ContactList]:
    """Return ContactList's hook, which also takes the listing's meta."""
    from .converter import converter  # lazy: cattrs and the hooks cost ~12 ms to import

    return cast("ResultHook[ContactList]", converter.get_structure_hook(ContactList))


def read_listing(items: list[Any], *, url: str, meta: ResponseMeta | None) -> ContactListListing:
    """Return every contact list of ``items`` that has a usable id and name."""
    lists: list[ContactList] = []
    for index, item in enumerate(items):
        found = read_item(item, index, url=url, meta=meta)
        if found is not None:
            lists.append(found)
    return ContactListListing(lists, skipped=len(items) - len(lists), meta=meta)


def read_item(item: Any, index: int, *, url: str, meta: ResponseMeta | None) -> ContactList | None:
    """Return item ``index`` of a listing, or None (logged) if it has no usable id and name."""
    try:
        found: ContactList | None = _structure()(item, ContactList, meta)
    except Exception:  # cattrs raises many types; read it field by field instead
        found = _read_leniently(item, index, url, meta)
    if found is not None and found.id.strip() and found.name.strip():
        return found
    _skip(index, url, item)
    return None


class ListingByName:
    """A listing kept as Kore sent it, by name: an item is read only when its name is asked for.

    An account holds tens of thousands of lists and a lookup wants one. Items are keyed by
    their raw ``name`` as the strict reading would read it (any case); an item whose name
    cannot be read (or no JSON object) is logged as skipped here. ``get`` reads the items of
    the name in listing order, as :func:`read_listing` would, and returns the first usable one.
    """

    def __init__(self, items: list[Any], *, url: str, meta: ResponseMeta | None) -> None:
        self._items = items
        self._url = url
        self._meta = meta
        self._by_name: dict[str, list[int]] = {}
        for index, item in enumerate(items):
            name = _raw_name(item)
            if name is None:
                _skip(index, url, item)
            else:
                self._by_name.setdefault(name_key(name), []).append(index)

    def get(self, name: str) -> ContactList | None:
        """Return the first usable list called ``name`` (any case), or None."""
        for index in self._by_name.get(name_key(name), ()):
            found = read_item(self._items[index], index, url=self._url, meta=self._meta)
            if found is not None:
                return found
        return None


def _raw_name(item: Any) -> str | None:
    """Return the item's name as reading it would, or None if it has none."""
    from .converter import converter  # lazy: cattrs and the hooks cost ~12 ms to import

    if not isinstance(item, Mapping):
        return None
    try:  # a number reads as its text; anything else is no name
        return converter.structure(item.get("name"), str)
    except Exception:  # the str hook refuses with TypeError; never fatal
        return None


def _read_leniently(
    item: Any, index: int, url: str, meta: ResponseMeta | None
) -> ContactList | None:
    """Return the item with its unreadable fields moved to ``extra``, or None if it has no id."""
    from .converter import converter  # lazy: cattrs and the hooks cost ~12 ms to import

    if not isinstance(item, Mapping):
        return None
    kept = dict(item)
    unreadable: dict[str, Any] = {}
    for wire, tp in _fields().items():
        if kept.get(wire) is not None:
            try:
                converter.structure(kept[wire], tp)
            except Exception:  # any refusal: keep the raw value instead
                unreadable[wire] = kept.pop(wire)
    if "_id" in unreadable or "name" in unreadable:
        return None
    try:
        found = _structure()(kept, ContactList, meta)
    except Exception:  # e.g. no _id at all: skipped, never fatal
        return None
    if unreadable:
        logger.warning(
            "%s: list %s, item %d: could not read %s; kept raw in extra",
            url,
            found.id,
            index,
            ", ".join(unreadable),
            extra={
                "kore_url": url,
                "kore_item_index": index,
                "kore_list_id": found.id,
                "kore_fields": list(unreadable),
            },
        )
    return attrs.evolve(found, extra={**found.extra, **unreadable})


def _skip(index: int, url: str, item: Any) -> None:
    list_id = item.get("_id") if isinstance(item, Mapping) else None
    logger.warning(
        "%s: item %d skipped: no usable id or name",
        url,
        index,
        extra={
            "kore_url": url,
            "kore_item_index": index,
            "kore_list_id": list_id if isinstance(list_id, str) else None,
            "kore_fields": [],
        },
    )
