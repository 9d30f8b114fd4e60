"""The converter reads Kore's documented samples and survives what Kore may add."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

import attrs
import pytest

import kore_campaign_async as kca
from kore_campaign_async._wire.bodies import camel
from kore_campaign_async._wire.converter import ResultHook, converter

DOCS = Path(__file__).resolve().parents[2] / "shared" / "api-docs"


def sample(name: str, marker: str = "{") -> dict[str, Any]:
    text = (DOCS / name).read_text()
    start = (
        text.index('{\n    "status"') if '{\n    "status"' in text else text.index('{\n"status"')
    )
    depth = 0
    for end in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            return json.loads(text[start : end + 1])  # type: ignore[no-any-return]
    raise AssertionError("no JSON sample")


@pytest.mark.skipif(not DOCS.exists(), reason="../shared/api-docs not beside the repo")
def test_documented_v2_create_sample() -> None:
    cl = converter.structure(sample("create-contact-list-v2.md")["data"], kca.ContactList)
    assert cl.id == "cl-67a405c-ae3b-4a42-8cd2-5dcd699xxxxx"
    assert cl.allow_duplicates is True
    assert cl.is_global_dnc is False
    assert cl.is_default is False
    assert cl.mapping["contactPriority"] == "contactPriority"
    assert cl.created_at == datetime(2025, 12, 5, 9, 22, 51, 1000, tzinfo=timezone.utc)
    assert cl.extra == {}


@pytest.mark.skipif(not DOCS.exists(), reason="../shared/api-docs not beside the repo")
def test_documented_v1_delete_and_update_samples() -> None:
    deleted = converter.structure(sample("delete-contact-list-v1.txt")["data"], kca.ContactList)
    assert (deleted.org_id, deleted.lname, deleted.source) == (
        "o-f8b351e7-f83a-51bd-bd42-d5d4086xxxx",
        "renewal due - august 2025",
        "passiveApiIntegration",
    )
    assert deleted.iid == "st-0603182c-7ffb-53c3-b307-47ca14b9xxxx"
    assert deleted.created_by_api
    upd = converter.structure(sample("update-contact-list-v1.txt")["data"], kca.UpdatedContactList)
    assert upd.id == "cl-c2ce382-2516-457e-8eb4-9847deecxxxx"
    assert upd.list_type == "call"


def test_unknown_fields_are_kept_not_fatal() -> None:
    cl = converter.structure(
        {"_id": "cl-1", "name": "n", "brandNewField": {"a": 1}, "priority": 3}, kca.ContactList
    )
    assert cl.extra == {"brandNewField": {"a": 1}, "priority": 3}


def test_campaign_in_use_ids_or_objects() -> None:
    cl = converter.structure(
        {"_id": "x", "campaignInUse": ["cmp-1", {"id": "cmp-2", "name": "Q3", "status": "on"}]},
        kca.ContactList,
    )
    assert [(c.id, c.name) for c in cl.campaign_in_use] == [("cmp-1", None), ("cmp-2", "Q3")]
    assert cl.campaign_in_use[1].extra == {"status": "on"}
    assert cl.in_use


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-06-26T12:32:02.735Z", datetime(2025, 6, 26, 12, 32, 2, 735000, tzinfo=timezone.utc)),
        ("2025-06-26T12:32:02Z", datetime(2025, 6, 26, 12, 32, 2, tzinfo=timezone.utc)),
        ("2025-06-26T12:32:02", datetime(2025, 6, 26, 12, 32, 2, tzinfo=timezone.utc)),
        (
            "2025-06-26T14:32:02+02:00",
            datetime(2025, 6, 26, 14, 32, 2, tzinfo=timezone(timedelta(hours=2))),
        ),
        (1750941122735, datetime(2025, 6, 26, 12, 32, 2, 735000, tzinfo=timezone.utc)),
    ],
)
def test_datetimes_are_aware(value: object, expected: datetime) -> None:
    parsed = converter.structure(value, datetime)
    assert parsed == expected
    assert parsed.tzinfo is not None


@pytest.mark.parametrize("value", ["true", "True", 1, True])
def test_bools_are_read_strictly(value: object) -> None:
    assert converter.structure({"_id": "x", "isActive": value}, kca.ContactList).is_active is True


def test_bool_string_false_is_false_and_garbage_fails() -> None:
    assert (
        converter.structure({"_id": "x", "isActive": "false"}, kca.ContactList).is_active is False
    )
    with pytest.raises(TypeError):
        converter.structure({"_id": "x", "isActive": "maybe"}, kca.ContactList)


def test_contact_custom_columns_round_trip() -> None:
    contact = converter.structure(
        {"_id": "c1", "phoneNumber": "+1", "firstName": "A", "plan": "gold"}, kca.Contact
    )
    assert contact.fields == {"plan": "gold"}
    assert contact.id == "c1"
    body = converter.unstructure(contact)
    assert body == {"phoneNumber": "+1", "firstName": "A", "plan": "gold"}


@pytest.mark.parametrize(
    ("attr", "wire"),
    [
        ("id", "_id"),
        ("iid", "iId"),
        ("is_global_dnc", "isGlobalDNC"),
        ("total_record_count", "totalRecordCount"),
        ("name", "name"),
    ],
)
def test_wire_names(attr: str, wire: str) -> None:
    assert camel(attr) == wire


META = kca.ResponseMeta(attempts=2, status=200, api_version="v2", adopted=True)


def structure_with_meta(data: object, cls: type[Any], meta: kca.ResponseMeta | None) -> Any:
    """What ModelDecoder does: the model's hook, given the result's meta as third argument."""
    hook = cast("ResultHook[Any]", converter.get_structure_hook(cls))
    return hook(data, cls, meta)


@pytest.mark.parametrize(
    ("cls", "data"),
    [
        (kca.ContactList, {"_id": "cl-1", "name": "A", "isActive": "true", "orgId": None}),
        (kca.ContactList, {"_id": "cl-1", "name": "A", "newField": [1]}),
        (kca.UpdatedContactList, {"contactListId": "cl-1", "body": {"name": "B", "new": 1}}),
    ],
)
def test_meta_given_to_the_hook_builds_what_structure_then_evolve_did(
    cls: type[Any], data: dict[str, Any]
) -> None:
    plain = converter.structure(data, cls)
    assert plain.meta == kca.ResponseMeta()  # the default of a result built without an answer
    with_meta = structure_with_meta(data, cls, META)
    assert with_meta.meta is META
    assert with_meta == attrs.evolve(plain, meta=META)
    assert repr(with_meta) == repr(plain)


@pytest.mark.parametrize("meta", [None, META])
def test_json_keys_spelled_like_ours_stay_in_extra(meta: kca.ResponseMeta | None) -> None:
    data = {"_id": "cl-1", "\x00meta": {"attempts": 9}, "\x00extra": "x"}
    result = (
        converter.structure(data, kca.ContactList)
        if meta is None
        else structure_with_meta(data, kca.ContactList, meta)
    )
    assert result.meta == (kca.ResponseMeta() if meta is None else meta)
    assert result.extra == {"\x00meta": {"attempts": 9}, "\x00extra": "x"}


def test_optional_fields_take_none_or_their_types_hook() -> None:
    found = converter.structure(
        {"_id": "x", "isActive": None, "isDefault": 1, "totalRecordCount": "7", "createdAt": 0},
        kca.ContactList,
    )
    assert found.is_active is None
    assert found.is_default is True
    assert found.total_record_count == 7
    assert found.created_at == datetime(1970, 1, 1, tzinfo=timezone.utc)


def test_json_objects_are_copied_not_shared() -> None:
    data: dict[str, Any] = {"_id": "x", "mapping": {"firstName": "firstName"}}
    found = converter.structure(data, kca.ContactList)
    assert found.mapping == data["mapping"]
    assert found.mapping is not data["mapping"]


@pytest.mark.parametrize("value", [["not", "an", "object"], [["a", 1]], [], "ab", 7, True])
def test_json_object_fields_refuse_what_is_not_a_json_object(value: object) -> None:
    """Never a list of pairs read as an object (what ``dict(value)`` would do)."""
    with pytest.raises(TypeError, match="expected a JSON object, got"):
        converter.structure({"_id": "x", "apiConfigurations": value}, kca.ContactList)


def test_json_objects_from_any_mapping_keep_their_keys_and_values() -> None:
    data = MappingProxyType({"_id": "x", "mapping": MappingProxyType({"phone": {"col": 1}})})
    found = converter.structure(data, kca.ContactList)
    assert found.mapping == {"phone": {"col": 1}}
    assert type(found.mapping) is dict


@pytest.mark.parametrize(
    ("kind", "value"), [(int, True), (int, False), (str, True), (bool, 2), (bool, 1.0)]
)
def test_a_scalar_of_another_json_type_goes_by_the_rule_not_as_it_is(
    kind: type[Any], value: object
) -> None:
    """A boolean is an int to Python, but no whole number or text to Kore; 1.0 is no boolean."""
    with pytest.raises(TypeError):
        converter.structure(value, kind)


@pytest.mark.parametrize(("kind", "value"), [(int, 7), (str, "7"), (bool, False)])
def test_a_scalar_of_its_own_type_is_taken_as_it_is(kind: type[Any], value: object) -> None:
    found = converter.structure(value, kind)
    assert found == value
    assert type(found) is kind


def _str_fields(cls: type[Any]) -> list[str]:
    attrs.resolve_types(cls)
    return [field.name for field in attrs.fields(cls) if field.type is str]


#: Every response model the converter builds, with the smallest valid JSON for it.
RESPONSE_MODELS: list[tuple[type[Any], dict[str, Any]]] = [
    (kca.ContactList, {"_id": "cl-1"}),
    (kca.UpdatedContactList, {"contactListId": "cl-1"}),
    (kca.Contact, {"phoneNumber": "+14155550100"}),
    (kca.ContactPage, {}),
    (kca.CampaignRef, {"id": "cmp-1"}),
]


@pytest.mark.parametrize(
    ("cls", "minimal"), RESPONSE_MODELS, ids=lambda v: getattr(v, "__name__", "")
)
def test_null_in_any_field_never_reads_as_the_text_none(
    cls: type[Any], minimal: dict[str, Any]
) -> None:
    """A JSON null means what an absent field means: its default, or a decode error."""
    for field in attrs.fields(cls):
        if field.name in ("extra", "fields", "meta", "id") or (cls, field.name) == (
            kca.Contact,
            "phone_number",
        ):
            continue
        wire = camel(field.name)
        absent = converter.structure(minimal, cls)
        nulled = converter.structure({**minimal, wire: None}, cls)
        assert getattr(nulled, field.name) == getattr(absent, field.name), field.name
        assert getattr(nulled, field.name) != "None", field.name


def test_every_str_field_is_covered() -> None:
    """Response models' str fields: null is "" for optional text, an error where required."""
    assert _str_fields(kca.ContactList) == ["id", "name", "description"]
    assert _str_fields(kca.UpdatedContactList) == ["id"]
    assert _str_fields(kca.Contact) == ["phone_number"]
    assert _str_fields(kca.ContactPage) == []
    assert _str_fields(kca.CampaignRef) == []


def test_null_description_and_name_read_as_empty_text() -> None:
    cl = converter.structure({"_id": "cl-1", "name": None, "description": None}, kca.ContactList)
    assert (cl.name, cl.description) == ("", "")
    assert cl.status is None


@pytest.mark.parametrize(
    ("cls", "data"),
    [
        (kca.ContactList, {"_id": None, "name": "A"}),
        (kca.Contact, {"_id": "c1", "phoneNumber": None}),
    ],
)
def test_null_in_a_required_text_field_is_a_decode_error(
    cls: type[Any], data: dict[str, Any]
) -> None:
    with pytest.raises(TypeError, match="expected a string, got null"):
        converter.structure(data, cls)


def test_null_update_id_is_unknown_not_none_text() -> None:
    upd = converter.structure(
        {"contactListId": None, "body": {"name": None}}, kca.UpdatedContactList
    )
    assert upd.id == ""
    assert upd.name is None


@pytest.mark.parametrize(("value", "expected"), [("x", "x"), (7, "7"), (1.5, "1.5")])
def test_text_fields_take_strings_and_numbers(value: object, expected: str) -> None:
    assert converter.structure({"_id": "x", "description": value}, kca.ContactList).description == (
        expected
    )


@pytest.mark.parametrize(("value", "expected"), [("x", "x"), (7, "7"), (None, None)])
def test_optional_text_fields_take_strings_numbers_and_null(
    value: object, expected: object
) -> None:
    assert converter.structure({"_id": "x", "status": value}, kca.ContactList).status == expected


@pytest.mark.parametrize("value", [True, {"a": 1}, ["a"]])
def test_text_fields_refuse_other_json(value: object) -> None:
    with pytest.raises(TypeError, match="expected a string"):
        converter.structure({"_id": "x", "description": value}, kca.ContactList)


@pytest.mark.skipif(not DOCS.exists(), reason="../shared/api-docs not beside the repo")
def test_a_list_without_allow_duplicates_is_unknown_not_false() -> None:
    """Kore's v1 delete sample has no allowDuplicates (only apiConfigurations.dataSyncMode)."""
    deleted = converter.structure(sample("delete-contact-list-v1.txt")["data"], kca.ContactList)
    assert deleted.allow_duplicates is None
    assert deleted.api_configurations == {"dataSyncMode": "allowDuplicates"}


def test_list_fields_are_tuples_so_a_frozen_list_stays_unchanged() -> None:
    found = converter.structure(
        {"_id": "x", "columns": [{"name": "a"}, "b"], "files": None}, kca.ContactList
    )
    assert found.columns == ({"name": "a"}, "b")
    assert found.files == ()
    assert converter.structure({"_id": "x"}, kca.ContactList).columns == ()


def test_a_missing_required_field_names_the_wire_key() -> None:
    with pytest.raises(KeyError, match="_id"):
        converter.structure({"name": "x"}, kca.ContactList)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("cd-1", [("cd-1", None)]),
        ({"id": "cd-1", "name": "Q3"}, [("cd-1", "Q3")]),
        (["cd-1", {"id": "cd-2"}], [("cd-1", None), ("cd-2", None)]),
    ],
)
def test_one_campaign_where_a_list_belongs_is_a_list_of_one(
    value: object, expected: list[tuple[str, str | None]]
) -> None:
    """Never its characters ("c", "d", ...) nor its keys (``CampaignRef(id='id')``)."""
    found = converter.structure({"_id": "x", "campaignInUse": value}, kca.ContactList)
    assert [(ref.id, ref.name) for ref in found.campaign_in_use] == expected


@pytest.mark.parametrize(
    ("wire", "value"),
    [("columns", "abc"), ("files", {"a": 1}), ("campaignInUse", 5), ("campaignInUse", [True])],
)
def test_list_fields_refuse_what_is_not_a_json_array(wire: str, value: object) -> None:
    with pytest.raises(TypeError, match="expected a JSON"):
        converter.structure({"_id": "x", wire: value}, kca.ContactList)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1750941122, datetime(2025, 6, 26, 12, 32, 2, tzinfo=timezone.utc)),
        (1750941122.5, datetime(2025, 6, 26, 12, 32, 2, 500000, tzinfo=timezone.utc)),
        (1750941122735, datetime(2025, 6, 26, 12, 32, 2, 735000, tzinfo=timezone.utc)),
        (99_999_999_999, datetime(5138, 11, 16, 9, 46, 39, tzinfo=timezone.utc)),
        (100_000_000_000, datetime(1973, 3, 3, 9, 46, 40, tzinfo=timezone.utc)),
    ],
)
def test_epoch_numbers_below_1e11_are_seconds_from_it_milliseconds(
    value: float, expected: datetime
) -> None:
    assert converter.structure(value, datetime) == expected


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf"), True, "yesterday", [1]])
def test_what_is_no_timestamp_is_refused(value: object) -> None:
    with pytest.raises((TypeError, ValueError, OverflowError)):
        converter.structure(value, datetime)


@pytest.mark.parametrize(("value", "expected"), [(7, 7), ("7", 7), (7.0, 7)])
def test_whole_numbers_are_read(value: object, expected: int) -> None:
    found = converter.structure({"_id": "x", "totalRecordCount": value}, kca.ContactList)
    assert found.total_record_count == expected


@pytest.mark.parametrize("value", [1.5, True, "many", [7], {"n": 7}])
def test_what_is_no_whole_number_is_refused(value: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        converter.structure({"_id": "x", "totalRecordCount": value}, kca.ContactList)
