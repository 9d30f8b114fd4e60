"""One host spelled several ways is one account's quota, not one quota a spelling."""

from __future__ import annotations

import pytest

import kore_campaign_async as kca
from kore_campaign_async.testing import MockTransport, json_response
from tests.helpers.clients import MakeClient

LIST = {"_id": "cl-1", "name": "Renewal Due", "description": ""}
SPELLINGS = [
    "https://kore.example",
    "https://KORE.example",
    "https://kore.example:443",
    "https://kore.example/api/..",
    "https://kore.example.",
]


def answer(_request: kca.HttpRequest) -> kca.RawResponse:
    return json_response({"status": "success", "data": LIST})


@pytest.mark.parametrize("other", SPELLINGS[1:])
async def test_spellings_of_one_host_share_the_accounts_quota(
    make_client: MakeClient, other: str
) -> None:
    store = kca.LocalLimitStore()
    settings = {
        "transport": MockTransport(answer),
        "limit_store": store,
        "rate_limit": kca.RateLimit(1, per=60.0),
        # Past the one permit a minute, a call fails at once instead of waiting its turn.
        "retry": kca.RetryPolicy(max_queue_wait=0.0),
    }
    async with make_client(host=SPELLINGS[0], **settings) as first:
        await first.account("acct-1", iid="st-1").contact_lists.get("cl-1")
    async with make_client(host=other, **settings) as second:
        with pytest.raises(kca.RateLimitError) as info:
            await second.account("acct-1", iid="st-1").contact_lists.get("cl-1")
    assert info.value.request_sent is False


async def test_another_port_is_another_quota(make_client: MakeClient) -> None:
    store = kca.LocalLimitStore()
    settings = {
        "limit_store": store,
        "rate_limit": kca.RateLimit(1, per=60.0),
        "retry": kca.RetryPolicy(max_queue_wait=0.0),
    }
    for host in ("https://kore.example", "https://kore.example:8443"):
        async with make_client(host=host, transport=MockTransport(answer), **settings) as c:
            await c.account("acct-1", iid="st-1").contact_lists.get("cl-1")
