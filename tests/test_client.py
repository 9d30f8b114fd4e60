"""Client configuration, lifecycle and session ownership."""

from __future__ import annotations

import inspect
import pydoc
import re
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses

import kore_campaign_async as kca
from kore_campaign_async.testing import FakeKoreServer, Fault
from tests.helpers.clients import MakeClient

SECRET = "0123456789abcdef0123456789abcdef"


def make(**kwargs: Any) -> kca.CampaignClient:
    kwargs.setdefault("client_id", "cs")
    kwargs.setdefault("client_secret", SECRET)
    return kca.CampaignClient(kwargs.pop("host", "https://platform.kore.ai"), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"host": "platform.kore.ai"}, "host must look like"),
        ({"host": "https://user:pw@h"}, "credentials"),
        ({"api_version": "v3"}, "api_version"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"rate_limit": 60}, "rate_limit"),
        ({"timeout": -1}, "timeout"),
        ({"token": "t"}, "exactly one"),
    ],
)
def test_bad_configuration(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(kca.ConfigurationError, match=needle):
        make(**kwargs)


def test_host_is_normalised() -> None:
    assert make(host="https://platform.kore.ai/").host == "https://platform.kore.ai"


@pytest.mark.parametrize(
    ("account_id", "iid", "field"),
    [("", "st-1", "account_id"), ("a", "", "iid"), ("a/b", "st", "account_id"), ("a", 5, "iid")],
)
def test_account_ids_are_checked(account_id: Any, iid: Any, field: str) -> None:
    with pytest.raises(kca.ValidationError) as info:
        make().account(account_id, iid=iid)
    assert info.value.field == field


def test_accounts_share_one_limiter_per_account_id() -> None:
    client = make()
    a = client.account("acct", iid="st-1")
    assert client.account("acct", iid="st-1") is a
    other_app = client.account("acct", iid="st-2")
    assert other_app is not a
    assert other_app.limiter is a.limiter
    assert client.account("acct-2", iid="st-1").limiter is not a.limiter
    assert a.stream_id == "st-1"


def test_per_account_limits_override_client_defaults() -> None:
    client = make(rate_limit=kca.RateLimit(60, per=60.0), max_concurrency=8)
    account = client.account(
        "acct", iid="st", rate_limit=kca.RateLimit(600, per=60.0), max_concurrency=2
    )
    assert account.limiter.rate_limit == kca.RateLimit(600, per=60.0)
    assert account.limiter.max_concurrency == 2


async def test_bad_input_is_rejected_before_anything_is_sent() -> None:
    with aioresponses() as mocked:
        async with make(rate_limit=None) as client:
            lists = client.account("acct", iid="st").contact_lists
            with pytest.raises(kca.ValidationError, match="name: must be at most 48"):
                await lists.create("n" * 49, "d")
            with pytest.raises(kca.ValidationError, match="list_id: must not be empty"):
                await lists.get("")
            with pytest.raises(kca.ValidationError, match="api_version"):
                await lists.list(api_version="v9")  # type: ignore[arg-type]
            with pytest.raises(kca.ValidationError, match=r"contacts\[1\].phone_number"):
                await lists.add_contacts("L", [{"phoneNumber": "+1"}, {"firstName": "x"}])
        assert mocked.requests == {}


async def test_closed_client_is_a_clear_error() -> None:
    client = make()
    await client.aclose()
    await client.aclose()  # twice is fine
    assert client.closed
    assert "closed" in repr(client)
    with pytest.raises(kca.ClientClosedError):
        client.account("a", iid="b")
    with pytest.raises(kca.ClientClosedError):
        async with client:
            pass


async def test_closing_mid_use_fails_later_calls() -> None:
    with aioresponses() as mocked:
        mocked.post(re.compile(".*"), payload={"status": "success", "data": []}, repeat=True)
        client = make(rate_limit=None)
        lists = client.account("a", iid="b").contact_lists
        assert await lists.list() == []
        await client.aclose()
        with pytest.raises(kca.ClientClosedError):
            await lists.list()


async def test_callers_session_is_used_and_never_closed() -> None:
    session = aiohttp.ClientSession()
    try:
        with aioresponses() as mocked:
            mocked.post(re.compile(".*"), payload={"status": "success", "data": []})
            async with make(session=session, rate_limit=None) as client:
                await client.account("a", iid="b").contact_lists.list()
        assert not session.closed
    finally:
        await session.close()


def test_host_credentials_never_reach_the_message() -> None:
    for host in ("htp://user:s3cret-pw@x", "https://user:s3cret-pw@platform.kore.ai"):
        with pytest.raises(kca.ConfigurationError, match="credentials") as info:
            make(host=host)
        assert "s3cret-pw" not in str(info.value)


def test_other_limits_for_a_known_account_are_refused_not_ignored() -> None:
    client = make()
    first = client.account("acct", iid="st", rate_limit=kca.RateLimit(600, per=60.0))
    # Asking again for the same limits, or for none, is fine.
    assert client.account("acct", iid="st", rate_limit=kca.RateLimit(600, per=60.0)) is first
    assert client.account("acct", iid="st-other").limiter is first.limiter
    with pytest.raises(kca.ConfigurationError, match=r"already has rate_limit=.*600"):
        client.account("acct", iid="st", rate_limit=kca.RateLimit(60, per=60.0))
    with pytest.raises(kca.ConfigurationError, match="already has max_concurrency=8; asked for 2"):
        client.account("acct", iid="st-other", max_concurrency=2)
    with pytest.raises(kca.ConfigurationError, match="max_concurrency must be an int >= 1"):
        client.account("acct-2", iid="st", max_concurrency=0)


def test_each_account_has_its_own_retry_budget_unless_one_is_shared() -> None:
    client = make()
    a, b = client.account("a", iid="st"), client.account("b", iid="st")
    assert isinstance(a.retry_budget, kca.RetryBudget)
    assert a.retry_budget is not b.retry_budget
    assert client.account("a", iid="st-2").retry_budget is a.retry_budget
    shared = kca.RetryBudget(capacity=50)
    client = make(retry_budget=shared)
    assert client.account("a", iid="st").retry_budget is shared
    assert client.account("b", iid="st").retry_budget is shared
    assert make(retry_budget=None).account("a", iid="st").retry_budget is None


async def test_one_accounts_outage_does_not_spend_another_accounts_retries(
    server: FakeKoreServer, client: kca.CampaignClient
) -> None:
    server.faults.add(Fault("status", status=503, account_id="broken", times=None))
    broken = client.account("broken", iid="st")
    budget = broken.retry_budget
    assert budget is not None
    while budget.available >= budget.retry_cost:
        with pytest.raises(kca.KoreError):
            await broken.contact_lists.list()
    with pytest.raises(kca.RetryBudgetExhaustedError):
        await broken.contact_lists.list()

    server.faults.add(Fault("status", status=503, account_id="healthy"))
    healthy = client.account("healthy", iid="st")
    assert await healthy.contact_lists.list() == []
    assert server.count(account_id="healthy") == 2  # the 503 was retried, not failed fast


async def test_aiohttp_never_resends_a_request_behind_the_sdks_back(
    server: FakeKoreServer, make_client: MakeClient
) -> None:
    """aiohttp resends a GET once when a reused keep-alive connection drops; we switch it off.

    That hidden resend escapes the limiter and the attempt count. This fails loudly if a new
    aiohttp renames the private switch and the resend comes back.
    """
    async with make_client(server, retry=kca.RetryPolicy.none()) as client:
        lists = client.account("acct-1", iid="st").contact_lists
        created = await lists.create("Kept alive")  # leaves a pooled keep-alive connection
        server.faults.add(Fault("reset", operation="get"))
        with pytest.raises(kca.APIConnectionError) as caught:
            await lists.get(created.id)
    assert caught.value.attempts == 1
    assert server.count(operation="get") == 1


def test_help_shows_readable_defaults() -> None:
    shown = pydoc.render_doc(kca.CampaignClient, renderer=pydoc.TextDoc())
    assert "object at 0x" not in shown
    signature = str(inspect.signature(kca.CampaignClient))
    assert "timeout: 'Timeout | float | None' = Timeout(total=60.0, connect=10.0)" in signature
    assert "retry_budget: 'RetryBudget | None' = <per account>" in signature
    assert "rate_limit: 'RateLimit | None' = <per account>" in str(
        inspect.signature(kca.CampaignClient.account)
    )


async def test_aiohttp_never_resends_on_a_session_the_caller_gives(
    server: FakeKoreServer, make_client: MakeClient
) -> None:
    """A caller's own session gets the same protection as the client's (see above)."""
    async with aiohttp.ClientSession() as session:
        async with make_client(server, session=session, retry=kca.RetryPolicy.none()) as client:
            lists = client.account("acct-1", iid="st").contact_lists
            created = await lists.create("Kept alive")
            server.faults.add(Fault("reset", operation="get"))
            with pytest.raises(kca.APIConnectionError) as caught:
                await lists.get(created.id)
        assert not session.closed  # still the caller's to close
    assert caught.value.attempts == 1
    assert server.count(operation="get") == 1
