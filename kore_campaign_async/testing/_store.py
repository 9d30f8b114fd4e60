"""Contact lists and their contacts, kept per account and indexed by id and by lower-cased name."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import attrs

FAKE_ORG_ID: Final = "o-fake-org"
FAKE_USER_ID: Final = "u-fake-user"
# Fields of the v1 document that v2 answers leave out.
V1_ONLY_FIELDS: Final = frozenset({"orgId", "lname", "iId", "accountId"})
_MAPPING_FIELDS: Final = (
    "firstName",
    "lastName",
    "phoneNumber",
    "timeZone",
    "uniqueId",
    "contactPriority",
)


class NameTakenError(ValueError):
    """Another list of the account already has this name (compared without case)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Contact list with name '{name}' already exists")


def iso_timestamp(seconds: float) -> str:
    """Format epoch seconds like Kore: ``2025-12-05T09:22:51.001Z``."""
    # Round to the millisecond first: truncating 51.001 would give 51.000.
    whole, millis = divmod(round(seconds * 1000), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def compact_json(value: Any) -> bytes:
    """Encode ``value`` as the server sends JSON: no spaces."""
    return json.dumps(value, separators=(",", ":")).encode()


def new_id(prefix: str) -> str:
    """Return a Kore-looking id such as ``cl-67a405c-ae3b-4a42-8cd2-5dcd6993f1a2``."""
    hex_ = uuid.uuid4().hex
    return f"{prefix}-{hex_[:7]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}"


@attrs.define(eq=False)
class StoredList:
    """One contact list: its v1 document, and its contacts in insertion order."""

    #: The full v1 document, served as is (callers must not mutate it).
    doc: dict[str, Any]
    contacts: list[dict[str, Any]] = attrs.field(factory=list)
    #: Phone numbers present, so duplicate checks are O(1).
    phones: set[str] = attrs.field(factory=set)
    #: API version -> the document encoded in its shape; emptied when the list changes.
    _encoded: dict[str, bytes] = attrs.field(factory=dict, repr=False)

    @property
    def id(self) -> str:
        return str(self.doc["_id"])

    @property
    def name(self) -> str:
        return str(self.doc["name"])

    def v2(self) -> dict[str, Any]:
        """Return the v2 shape: the document without the v1-only fields."""
        return {key: value for key, value in self.doc.items() if key not in V1_ONLY_FIELDS}

    def shaped(self, version: str) -> dict[str, Any]:
        """Return the document in ``version``'s shape (v1 as stored, v2 without v1's fields)."""
        return self.doc if version == "v1" else self.v2()

    def encoded(self, version: str) -> bytes:
        """Return the list as JSON in ``version``'s shape, encoded once until it changes.

        A listing joins these: serving an account of 10,000 lists then costs the server ~5 ms
        instead of ~80 ms, time in which it answered no other request (Kore's own servers do
        not stall so). The store calls ``changed`` whenever it changes the document.
        """
        encoded = self._encoded.get(version)
        if encoded is None:
            encoded = compact_json(self.shaped(version))
            self._encoded[version] = encoded
        return encoded

    def changed(self) -> None:
        """Forget the encoded forms: the document changed."""
        self._encoded.clear()


@attrs.define
class _Account:
    by_id: dict[str, StoredList] = attrs.field(factory=dict)
    by_lname: dict[str, StoredList] = attrs.field(factory=dict)


class ContactListStore:
    """Every account's contact lists."""

    def __init__(self, wall_clock: Callable[[], float] = time.time) -> None:
        self._now = wall_clock
        self._accounts: dict[str, _Account] = {}

    def clear(self) -> None:
        """Forget every list of every account."""
        self._accounts.clear()

    def lists(self, account_id: str) -> Iterable[StoredList]:
        """Return the account's lists in creation order."""
        account = self._accounts.get(account_id)
        return () if account is None else account.by_id.values()

    def get(self, account_id: str, list_id: str) -> StoredList | None:
        """Return the list with this id, or None."""
        account = self._accounts.get(account_id)
        return None if account is None else account.by_id.get(list_id)

    def find_by_name(self, account_id: str, name: str) -> StoredList | None:
        """Return the list with this name, compared without case, or None."""
        account = self._accounts.get(account_id)
        return None if account is None else account.by_lname.get(name.lower())

    def create(
        self,
        account_id: str,
        iid: str,
        fields: Mapping[str, Any],
        *,
        campaign_in_use: Iterable[Mapping[str, Any]] = (),
    ) -> StoredList:
        """Store a new list; ``fields`` holds name, description, source, allowDuplicates, ...

        Any other key of ``fields`` (e.g. status) overrides the default document.
        """
        account = self._accounts.setdefault(account_id, _Account())
        name = str(fields["name"])
        lname = name.lower()
        if lname in account.by_lname:
            raise NameTakenError(name)
        stamp = iso_timestamp(self._now())
        in_use = [dict(campaign) for campaign in campaign_in_use]
        doc: dict[str, Any] = {
            "_id": new_id("cl"),
            "isActive": True,
            "orgId": FAKE_ORG_ID,
            "name": name,
            "lname": lname,
            "description": "",
            "totalRecordCount": 0,
            "status": "Ready",
            "createdBy": FAKE_USER_ID,
            "updatedBy": FAKE_USER_ID,
            "mapping": {field: field for field in _MAPPING_FIELDS},
            "isListInUse": bool(in_use),
            "iId": iid,
            "listType": "call",
            "isGlobalDNC": False,
            "isDefault": False,
            "campaignInUse": in_use,
            "accountId": account_id,
            "source": "passiveApi",
            "apiConfigurations": {"dataSyncMode": "allowDuplicates"},
            "columns": [],
            "files": [],
            "createdAt": stamp,
            "updatedAt": stamp,
            "allowDuplicates": False,
        }
        doc.update(fields)
        stored = StoredList(doc)
        account.by_id[stored.id] = stored
        account.by_lname[lname] = stored
        return stored

    def update(self, account_id: str, stored: StoredList, changes: Mapping[str, Any]) -> None:
        """Apply ``changes`` to a stored list; a new name must be free in the account."""
        account = self._accounts[account_id]
        name = changes.get("name")
        if name is not None:
            old_lname = stored.doc["lname"]
            lname = str(name).lower()
            holder = account.by_lname.get(lname)
            if holder is not None and holder is not stored:
                raise NameTakenError(str(name))
            del account.by_lname[old_lname]
            account.by_lname[lname] = stored
            stored.doc["lname"] = lname
        stored.doc.update(changes)
        stored.doc["updatedAt"] = iso_timestamp(self._now())
        stored.changed()

    def delete(self, account_id: str, list_id: str) -> StoredList | None:
        """Remove and return the list with this id, or return None."""
        account = self._accounts.get(account_id)
        stored = None if account is None else account.by_id.pop(list_id, None)
        if account is not None and stored is not None:
            del account.by_lname[stored.doc["lname"]]
        return stored

    def add_contacts(self, stored: StoredList, items: Iterable[Mapping[str, Any]]) -> int:
        """Append contacts (skipping known phone numbers unless duplicates are allowed)."""
        allow_duplicates = bool(stored.doc.get("allowDuplicates"))
        stamp = iso_timestamp(self._now())
        added = 0
        for item in items:
            phone = str(item["phoneNumber"])
            if not allow_duplicates and phone in stored.phones:
                continue
            contact: dict[str, Any] = {
                "_id": new_id("c"),
                "phoneNumber": phone,
                "createdAt": stamp,
                "updatedAt": stamp,
            }
            # The caller's extra fields ride along; the server's own fields win.
            contact.update((key, value) for key, value in item.items() if key not in contact)
            stored.contacts.append(contact)
            stored.phones.add(phone)
            added += 1
        stored.doc["totalRecordCount"] = len(stored.contacts)
        stored.changed()
        return added
