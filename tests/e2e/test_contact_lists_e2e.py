"""Every operation, both versions, against the fake server on a real loopback socket."""

from __future__ import annotations

from datetime import timezone

import pytest

import kore_campaign_async as kca
from kore_campaign_async.testing import FakeKoreServer
from tests.helpers.clients import MakeClient

VERSIONS = pytest.mark.parametrize("version", ["v1", "v2"])


@VERSIONS
async def test_full_lifecycle(
    account: kca.Account, server: FakeKoreServer, version: kca.ApiVersion
) -> None:
    lists = account.contact_lists
    created = await lists.create(
        "Renewal Due - July 2025",
        "Customers due in July",
        allow_duplicates=True,
        api_version=version,
    )
    assert created.name == "Renewal Due - July 2025"
    assert created.allow_duplicates is True
    assert created.status == "Ready"
    assert created.created_at is not None
    assert created.created_at.tzinfo is timezone.utc
    assert created.meta == kca.ResponseMeta(attempts=1, api_version=version)

    got = await lists.get(created.id, api_version=version)
    assert (got.id, got.description) == (created.id, "Customers due in July")
    assert (got.org_id is not None) is (version == "v1")  # v1 answers carry orgId, v2 not

    updated = await lists.update(created.id, name="Renewal Due - Aug 2025", api_version=version)
    assert (updated.id, updated.name) == (created.id, "Renewal Due - Aug 2025")
    stored = server.lists("acct-1")[0]
    assert stored["name"] == "Renewal Due - Aug 2025"
    assert stored["description"] == "Customers due in July"  # kept
    assert stored["allowDuplicates"] is True  # kept, even through v1's full-body PUT

    every = await lists.list(api_version=version)
    assert [cl.id for cl in every] == [created.id]

    added = await lists.add_contacts(
        "renewal due - aug 2025",
        [kca.Contact(phone_number=f"+1415555{i:04d}", first_name="A") for i in range(120)],
    )
    assert added.submitted == 120
    phones = [c.phone_number async for c in lists.iter_contacts(created.id, api_version=version)]
    assert phones == [f"+1415555{i:04d}" for i in range(120)]
    page = await lists.list_contacts(created.id, skip=100, limit=50, api_version=version)
    assert (len(page.results), page.has_more, page.total_results) == (20, False, 120)

    deleted = await lists.delete(created.id, api_version=version)
    assert deleted.id == created.id
    assert server.lists("acct-1") == []
    with pytest.raises(kca.NotFoundError) as info:
        await lists.get(created.id, api_version=version)
    assert info.value.status == 404
    assert info.value.attempts == 1


@VERSIONS
async def test_names_are_unique_regardless_of_case(
    account: kca.Account, version: kca.ApiVersion
) -> None:
    first = await account.contact_lists.create("Gold Customers", api_version=version)
    with pytest.raises(kca.ConflictError) as info:
        await account.contact_lists.create("GOLD customers", api_version=version)
    assert "already exists" in info.value.message
    adopted = await account.contact_lists.create(
        "gold CUSTOMERS", if_exists="adopt", api_version=version
    )
    assert adopted.id == first.id
    assert adopted.meta is not None
    assert adopted.meta.adopted


async def test_find_by_name(account: kca.Account) -> None:
    made = await account.contact_lists.create("Platinum")
    for spelling in ("platinum", "PLATINUM"):
        found = await account.contact_lists.find(spelling)
        assert found is not None
        assert found.id == made.id
    assert await account.contact_lists.find("nope") is None


async def test_accounts_are_isolated(client: kca.CampaignClient) -> None:
    a = client.account("acct-a", iid="st-1")
    b = client.account("acct-b", iid="st-1")
    await a.contact_lists.create("Same Name")
    await b.contact_lists.create("Same Name")  # no conflict across accounts
    assert len(await a.contact_lists.list()) == 1
    assert len(await b.contact_lists.list()) == 1


async def test_ui_uploaded_lists_decode(account: kca.Account, server: FakeKoreServer) -> None:
    server.seed_list(
        "acct-1",
        "st-app-1",
        "Uploaded",
        source="localDrive",
        status="Validated",
        campaign_in_use=[{"id": "cmp-1", "name": "Q3 push"}],
    )
    (uploaded,) = await account.contact_lists.list()
    assert uploaded.status == "Validated"
    assert not uploaded.created_by_api
    assert uploaded.in_use
    assert uploaded.campaign_in_use[0].name == "Q3 push"
    with pytest.raises(kca.ConflictError):
        await account.contact_lists.delete(uploaded.id)


async def test_wrong_secret_is_an_authentication_error(
    server: FakeKoreServer, make_client: MakeClient
) -> None:
    async with make_client(server, client_secret="w" * 40) as client:
        with pytest.raises(kca.AuthenticationError) as info:
            await client.account("acct-1", iid="st").contact_lists.list()
    assert info.value.status == 401
    assert info.value.attempts == 2  # the one token renewal, then final
    assert "w" * 40 not in str(info.value)
