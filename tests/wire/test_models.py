"""Input models reject what Kore would reject, naming the field and the limit."""

from __future__ import annotations

from typing import Any

import pytest

import kore_campaign_async as kca


@pytest.mark.parametrize(
    ("kwargs", "field", "needle"),
    [
        ({"name": ""}, "name", "must not be empty"),
        ({"name": "   "}, "name", "must not be empty"),
        ({"name": "x" * 49}, "name", "at most 48 characters, got 49"),
        ({"name": 5}, "name", "must be a string, got int"),
        (
            {"name": "ok", "description": "d" * 257},
            "description",
            "at most 256 characters, got 257",
        ),
        ({"name": "ok", "allow_duplicates": "yes"}, "allow_duplicates", "true or false"),
        ({"name": "ok", "allow_duplicates": 1}, "allow_duplicates", "true or false"),
        ({"name": "ok", "source": "localDrive"}, "source", "must be one of"),
    ],
)
def test_create_validation(kwargs: dict[str, Any], field: str, needle: str) -> None:
    with pytest.raises(kca.ValidationError) as info:
        kca.ContactListCreate(**kwargs)
    assert info.value.field == field
    assert needle in str(info.value)
    assert str(info.value).startswith(f"{field}: ")


def test_limits_are_inclusive() -> None:
    spec = kca.ContactListCreate(name="x" * 48, description="d" * 256, allow_duplicates=False)
    assert len(spec.name) == 48


def test_from_mapping_accepts_both_spellings_and_rejects_unknown_keys() -> None:
    a = kca.ContactListCreate.from_mapping({"name": "A", "allowDuplicates": True})
    b = kca.ContactListCreate.from_mapping({"name": "A", "allow_duplicates": True})
    assert a == b
    assert a.allow_duplicates is True
    with pytest.raises(kca.ValidationError, match="nme: unknown field"):
        kca.ContactListCreate.from_mapping({"nme": "A"})
    with pytest.raises(kca.ValidationError, match="name: is required"):
        kca.ContactListCreate.from_mapping({"description": "A"})


def test_update_needs_a_change() -> None:
    with pytest.raises(kca.ValidationError, match="at least one"):
        kca.ContactListUpdate()
    with pytest.raises(kca.ValidationError, match="name: must be at most 48"):
        kca.ContactListUpdate(name="n" * 49)
    assert not kca.ContactListUpdate(name="x").is_complete_for_v1()
    assert kca.ContactListUpdate(name="x", allow_duplicates=False).is_complete_for_v1()


def test_validation_error_is_a_value_error_and_kore_error() -> None:
    with pytest.raises(ValueError):  # noqa: PT011  # the point is the base class
        kca.ContactListCreate(name="")
    assert issubclass(kca.ValidationError, kca.KoreError)


def test_public_api_is_sorted_and_complete() -> None:
    assert kca.__all__ == sorted(kca.__all__)
    for name in kca.__all__:
        assert hasattr(kca, name), name
    exported_errors = {
        name
        for name in kca.__all__
        if isinstance(getattr(kca, name), type) and issubclass(getattr(kca, name), kca.KoreError)
    }
    import kore_campaign_async._exceptions as exc_module

    defined = {
        name
        for name, obj in vars(exc_module).items()
        if isinstance(obj, type) and issubclass(obj, kca.KoreError)
    }
    assert defined == exported_errors


def test_every_type_a_public_method_names_is_exported() -> None:
    """A user must be able to import whatever a public signature returns or takes."""
    import inspect
    import re

    from_elsewhere = {"Any", "AsyncGenerator", "AsyncIterator", "Iterable", "Literal", "Mapping"}
    from_elsewhere |= {"Sequence", "AbstractAsyncContextManager"}
    from_elsewhere |= {"IfExists"}
    from_elsewhere |= {"ContactInput", "ContactListSpecs", "None", "TracebackType", "BaseException"}
    from_elsewhere |= {"aiohttp", "ClientSession"}
    for owner in (kca.CampaignClient, kca.Account, kca.ContactLists):
        # Inherited methods too: ContactLists gets its contact operations from a base class.
        members = {attr: getattr(owner, attr) for attr in dir(owner)}
        for attr, member in members.items():
            if attr.startswith("_") or not callable(member):
                continue
            signature = inspect.signature(member)
            annotations = [str(p.annotation) for p in signature.parameters.values()]
            annotations.append(str(signature.return_annotation))
            for text in annotations:
                for name in re.findall(r"\b[A-Z][A-Za-z]+\b", text):
                    assert name in kca.__all__ or name in from_elsewhere, (owner, attr, name)


def test_a_missing_description_is_none_not_empty() -> None:
    assert kca.ContactListCreate(name="A").description is None
    assert kca.ContactListCreate.from_mapping({"name": "A"}).description is None
    assert kca.ContactListCreate.from_mapping({"name": "A", "description": ""}).description == ""
    with pytest.raises(kca.ValidationError, match="description: must be a string"):
        kca.ContactListCreate(name="A", description=5)  # type: ignore[arg-type]
