"""Body and query rules, without a server."""

from __future__ import annotations

import pytest

from kore_campaign_async.testing._validation import (
    InvalidRequest,
    contacts_page,
    create_fields,
    json_object,
    update_fields,
)


def test_create_fields_keep_only_documented_keys() -> None:
    body = {"name": " N ", "description": "d", "source": "passiveApi", "extra": 1}
    assert create_fields(body) == {
        "name": "N",
        "description": "d",
        "source": "passiveApi",
        "allowDuplicates": False,
    }


def test_update_v2_changes_only_what_is_sent_and_ignores_source() -> None:
    assert update_fields({"source": "bogus"}, "v2") == {}
    # Kore's v2 update documents name and description only: the flag is not applied.
    assert update_fields({"allowDuplicates": True}, "v2") == {}
    assert update_fields({"description": "d", "allowDuplicates": True}, "v2") == {
        "description": "d"
    }


def test_update_v1_validates_source() -> None:
    body = {"name": "N", "source": "localDrive", "allowDuplicates": False}
    with pytest.raises(InvalidRequest, match="source: must be one of"):
        update_fields(body, "v1")


@pytest.mark.parametrize(
    ("query", "expected"),
    [({}, (0, 50)), ({"skip": "", "limit": ""}, (0, 50)), ({"skip": "7", "limit": "51"}, (7, 50))],
)
def test_contacts_page(query: dict[str, str], expected: tuple[int, int]) -> None:
    assert contacts_page(query) == expected


@pytest.mark.parametrize(
    ("raw", "msg"),
    [(b"", "must be a JSON object"), (b"null", "must be a JSON object"), (b"{", "valid JSON")],
)
def test_json_object(raw: bytes, msg: str) -> None:
    with pytest.raises(InvalidRequest, match=msg):
        json_object(raw)
