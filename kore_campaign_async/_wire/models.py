"""attrs models of Kore's contact-list resources, snake_case on our side, camelCase on the wire.

Response models keep every field Kore sends: documented ones as attributes, the rest in ``extra``,
because Kore adds fields over time and decoding must never break on them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypedDict

if sys.version_info >= (3, 11):
    from typing import Required
else:
    from typing_extensions import Required

import attrs

from .._config import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PASSIVE_API_SOURCE,
    ApiVersion,
)
from .._exceptions import ValidationError
from .validation import (
    PASSIVE_SOURCES,
    attrs_validator,
    check_description,
    check_name,
    check_optional_bool,
    check_source,
)


@attrs.frozen(kw_only=True)
class ResponseMeta:
    """How a result was obtained: attempts, HTTP status, API version, adoption."""

    attempts: int = 1
    """HTTP attempts the call made (retries and token renewals included)."""
    status: int = 200
    api_version: ApiVersion | None = None
    adopted: bool = False
    """True when a create found its list already made by an earlier, unanswered attempt."""


@attrs.frozen(kw_only=True)
class CampaignRef:
    """A campaign that uses a contact list (``campaignInUse`` holds ids or ``{id, name}``)."""

    id: str | None = None
    name: str | None = None
    extra: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True, eq=True, hash=False)
class ContactList:
    """A contact list as Kore returns it (create, get, list, delete)."""

    id: str
    """Kore's ``_id``, e.g. ``cl-67a405c-...``."""
    name: str = ""
    description: str = ""
    status: str | None = None
    """``Ready`` for API lists; UI uploads show ``Validated`` and others."""
    is_active: bool | None = None
    total_record_count: int | None = None
    allow_duplicates: bool | None = None
    source: str | None = None
    """``passiveApi``/``passiveApiIntegration`` for API lists, ``localDrive`` for UI uploads."""
    list_type: str | None = None
    is_list_in_use: bool | None = None
    campaign_in_use: tuple[CampaignRef, ...] = ()
    mapping: dict[str, Any] = attrs.field(factory=dict)
    api_configurations: dict[str, Any] = attrs.field(factory=dict)
    columns: tuple[Any, ...] = ()
    files: tuple[Any, ...] = ()
    is_global_dnc: bool | None = None
    is_default: bool | None = None
    created_by: str | None = None
    updated_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    org_id: str | None = None
    lname: str | None = None
    iid: str | None = None
    account_id: str | None = None
    extra: dict[str, Any] = attrs.field(factory=dict)
    """Fields Kore sent that this version of the SDK does not know and, in a listing, fields it
    could not read (that attribute then keeps its default): the raw value under its wire name."""
    meta: ResponseMeta = attrs.field(factory=ResponseMeta, eq=False, repr=False)
    """How the result was obtained: attempts, status, API version, adoption."""

    @property
    def in_use(self) -> bool:
        """True when any campaign uses the list: it must not be deleted.

        Also True when a listing could not read ``isListInUse`` or ``campaignInUse`` (kept in
        ``extra``): a list is never taken for unused on data the SDK could not read.
        """
        return (
            bool(self.is_list_in_use)
            or bool(self.campaign_in_use)
            or not _IN_USE_WIRE.isdisjoint(self.extra)
        )

    @property
    def created_by_api(self) -> bool:
        """True for passive-API lists (not uploaded in the UI)."""
        return self.source in ("passiveApi", "passiveApiIntegration")


#: Wire names of the fields that say a list is in use.
_IN_USE_WIRE = frozenset({"isListInUse", "campaignInUse"})


class ContactListListing(list[ContactList]):
    """What a listing returns: a plain ``list`` of the contact lists it could read.

    One unreadable record never fails the listing. A field that cannot be read keeps its default
    (None for the optional ones) and its raw value in the list's ``extra`` under its wire name;
    an item without a usable id or name is left out and counted in ``skipped``. Each is logged
    as a WARNING on the ``kore_campaign_async`` logger.
    """

    skipped: int
    """Items left out because they had no usable id or name."""
    meta: ResponseMeta
    """How the listing was obtained (also on each list)."""

    def __init__(
        self,
        lists: Iterable[ContactList] = (),
        *,
        skipped: int = 0,
        meta: ResponseMeta | None = None,
    ) -> None:
        super().__init__(lists)
        self.skipped = skipped
        self.meta = ResponseMeta() if meta is None else meta

    def __repr__(self) -> str:
        return f"ContactListListing({list.__repr__(self)}, skipped={self.skipped})"


@attrs.frozen(kw_only=True)
class UpdatedContactList:
    """What an update answers: the id and the changed metadata, not the whole list."""

    id: str
    name: str | None = None
    description: str | None = None
    allow_duplicates: bool | None = None
    source: str | None = None
    org_id: str | None = None
    iid: str | None = None
    list_type: str | None = None
    account_id: str | None = None
    updated_by: str | None = None
    scope: Any = None
    extra: dict[str, Any] = attrs.field(factory=dict)
    meta: ResponseMeta = attrs.field(factory=ResponseMeta, eq=False, repr=False)
    """How the result was obtained: attempts, status, API version, adoption."""


@attrs.frozen(kw_only=True)
class Contact:
    """A contact: what add_contacts sends, and what getAllContacts returns."""

    phone_number: str
    """Checked when sent (add_contacts), so contacts read back never fail to decode."""
    first_name: str | None = None
    last_name: str | None = None
    time_zone: str | None = None
    unique_id: str | None = None
    contact_priority: int | str | None = None
    fields: dict[str, Any] = attrs.field(factory=dict)
    """Custom columns, sent and received as-is."""
    id: str | None = None
    """Kore's ``_id``; set on contacts read back from a list."""
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen(kw_only=True)
class ContactPage:
    """One page of getAllContacts."""

    results: tuple[Contact, ...] = ()
    skip: int = 0
    limit: int = 0
    has_more: bool = False
    total_pages: int | None = None
    total_results: int | None = None
    extra: dict[str, Any] = attrs.field(factory=dict)
    meta: ResponseMeta = attrs.field(factory=ResponseMeta, eq=False, repr=False)
    """How the result was obtained: attempts, status, API version, adoption."""


@attrs.frozen(kw_only=True)
class AddContactsResult:
    """Kore accepted contacts for asynchronous ingestion; they appear in the list later."""

    list_name: str
    submitted: int
    message: str = ""
    meta: ResponseMeta = attrs.field(factory=ResponseMeta, eq=False, repr=False)
    """How the result was obtained: attempts, status, API version, adoption."""


class ContactListSpec(TypedDict, total=False):
    """A list to create or keep, as a plain mapping: what ``create_many`` and ``sync`` take
    besides :class:`ContactListCreate` (a key mypy does not know is a typo)."""

    name: Required[str]
    description: str | None
    allow_duplicates: bool | None
    allowDuplicates: bool | None
    """Kore's own spelling, for specs read from Kore's JSON."""
    source: str


_CREATE_KEYS = frozenset({"name", "description", "allow_duplicates", "allowDuplicates", "source"})


@attrs.frozen(kw_only=True)
class ContactListCreate:
    """A contact list to create. Checked against Kore's limits when constructed."""

    name: str
    """At most 48 characters; unique per account regardless of case."""
    description: str | None = None
    """At most 256 characters. None creates the list with "" and, in sync, means "do not care"
    (an existing list keeps its description); "" is a wish for no description."""
    allow_duplicates: bool | None = None
    """None leaves Kore's default (false) and, in sync, means "do not care"."""
    source: str = PASSIVE_API_SOURCE

    def __attrs_post_init__(self) -> None:
        # One pass over the common, valid case (a bulk job builds one spec per list); the
        # checks in _validation run only to name what is wrong, in field order. Non-ASCII
        # text takes the full checks, which refuse a lone surrogate (isascii() is O(1)).
        name, description, source = self.name, self.description, self.source
        if not (
            name.__class__ is str
            and len(name) <= NAME_MAX_LENGTH
            and name.strip()
            and name.isascii()
            and (
                description is None
                or (
                    description.__class__ is str
                    and len(description) <= DESCRIPTION_MAX_LENGTH
                    and description.isascii()
                )
            )
            and (self.allow_duplicates is None or self.allow_duplicates.__class__ is bool)
            and source.__class__ is str
            and source in PASSIVE_SOURCES
        ):
            check_name(name, "name")
            if description is not None:
                check_description(description, "description")
            check_optional_bool("allow_duplicates", self.allow_duplicates)
            check_source(source, "source")

    @classmethod
    def from_mapping(cls, spec: Mapping[str, Any]) -> ContactListCreate:
        """Build from a plain mapping (snake_case or Kore's camelCase keys).

        A key that is absent or None leaves its field None ("do not care" in sync).
        """
        if not _CREATE_KEYS.issuperset(spec):
            unknown = sorted(set(spec) - _CREATE_KEYS)
            raise ValidationError(
                unknown[0], f"unknown field; expected one of {sorted(_CREATE_KEYS)}"
            )
        if "name" not in spec:
            raise ValidationError("name", "is required")
        get = spec.get
        dup = get("allow_duplicates")
        return cls(
            name=spec["name"],
            description=get("description"),
            allow_duplicates=get("allowDuplicates") if dup is None else dup,
            source=get("source", PASSIVE_API_SOURCE),
        )


@attrs.frozen(kw_only=True)
class ContactListUpdate:
    """Changes to a contact list; fields left None keep their current value."""

    name: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(attrs_validator(lambda f, v: check_name(v, f))),
    )
    description: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(attrs_validator(lambda f, v: check_description(v, f))),
    )
    allow_duplicates: bool | None = attrs.field(
        default=None, validator=attrs_validator(check_optional_bool)
    )
    source: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(attrs_validator(lambda f, v: check_source(v, f))),
    )

    def __attrs_post_init__(self) -> None:
        if self.name is None and self.description is None and self.allow_duplicates is None:
            raise ValidationError(
                "update", "give at least one of name, description, allow_duplicates"
            )

    def is_complete_for_v1(self) -> bool:
        """v1 requires name and allowDuplicates: without them the SDK reads the list first."""
        return self.name is not None and self.allow_duplicates is not None


def name_key(name: str) -> str:
    """Kore compares list names without regard to case (its ``lname`` is the lower-cased name)."""
    return name.lower()
