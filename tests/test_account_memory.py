"""What an account costs: its per-account objects carry no instance dict, an idle account leaves
only its id and limits behind, and what an app's accounts share is made once."""

from __future__ import annotations

import gc
from collections import Counter

import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async._quota.limiter import AccountLimiter
from kore_campaign_async._quota.pacing import PacingState
from kore_campaign_async._quota.rate_limit import PacingSettings
from kore_campaign_async._quota.store import AccountKey, LocalLimitStore
from kore_campaign_async._wire.endpoints import AccountRef
from kore_campaign_async.testing import MockTransport
from tests.helpers.scripts import LIST, ok

HOST = "https://kore.example"


def client_on(clock: ManualClock) -> kca.CampaignClient:
    transport = MockTransport(lambda request: ok(LIST))
    return kca.CampaignClient(HOST, token="t", transport=transport, clock=clock, sleep=clock.sleep)


async def test_the_objects_an_account_keeps_while_it_calls_have_no_instance_dict() -> None:
    clock = ManualClock()
    async with client_on(clock) as client:
        account = client.account("acc-1", iid="st-1")
        await account.contact_lists.create("l-1", "d")
        store = client.limit_store
        assert isinstance(store, LocalLimitStore)
        key = account.limiter._key
        state = store.state(key)
        permit = store.apply(key, account.limiter._settings or PacingSettings(), "permit")
        assert account.contact_lists._names is None  # made only when an adoption looks
        names = account.contact_lists._name_index("v2")
        kept = [account, account.limiter, account.ref, key, state, permit, names]
        assert [type(thing).__name__ for thing in kept if hasattr(thing, "__dict__")] == []


async def test_an_idle_account_leaves_no_key_and_no_state_yet_keeps_its_settings() -> None:
    clock = ManualClock()
    async with client_on(clock) as client:
        ids = [f"idle-memory-{number}" for number in range(3)]  # no other test's accounts
        for account_id in ids:
            await client.account(account_id, iid="st-1").contact_lists.create("l", "d")
        clock.advance(3600.0)
        gc.collect()
        client.forget_idle()
        store = client.limit_store
        assert isinstance(store, LocalLimitStore)
        assert store._states == {}
        # The store keeps the account's settings by its id string: no key object per account.
        objects = gc.get_objects()
        keys = [key for key in objects if isinstance(key, AccountKey) and key.account_id in ids]
        assert keys == []
        with pytest.raises(kca.ConfigurationError, match="already paced"):
            store.apply(AccountKey(client._base_url.origin, ids[0]), PacingSettings(7), "permit")


def test_settings_are_one_per_account_whichever_equal_object_paces_it() -> None:
    clock = ManualClock()
    store = LocalLimitStore(clock=clock)
    key = AccountKey("h", "acc-1")
    store.apply(key, PacingSettings(2, 60.0), "permit")
    # Equal settings (an unset burst is a burst of 1), another object: the same pace.
    assert store.apply(key, PacingSettings(2, 60.0, burst=1), "permit").wait > 0
    with pytest.raises(kca.ConfigurationError, match="already paced"):
        store.apply(key, PacingSettings(2, 60.0, adaptive=False), "permit")
    clock.advance(3600.0)
    assert store.forget_idle() == 1
    assert store.state(key) is None


def test_a_limiter_is_its_queues_and_its_pause_watch_and_nothing_more() -> None:
    clock = ManualClock()
    store, rate, sleep = LocalLimitStore(clock=clock), kca.RateLimit(), clock.sleep
    keys = [AccountKey("h", f"acc-{number}") for number in range(50)]
    # The first limiter makes what every limiter with these settings shares.
    AccountLimiter(rate, 4, clock=clock, sleep=sleep, store=store, key=AccountKey("h", "first"))
    gc.collect()
    before = _sdk_objects()
    limiters = [
        AccountLimiter(rate, 4, clock=clock, sleep=sleep, store=store, key=key) for key in keys
    ]
    made = _sdk_objects() - before
    # Per limiter (the store's own: its listener's unwatch function): its outcomes are its
    # own, and a store of today's protocol needs no background sender.
    each = {name: count / len(limiters) for name, count in made.items()}
    assert each == {"AccountLimiter": 1, "FifoSemaphore": 2, "PauseWatch": 1, "_Unwatch": 1}


def _sdk_objects() -> Counter[str]:
    """The SDK's objects the garbage collector tracks now, by type name."""
    kinds = (type(thing) for thing in gc.get_objects())
    return Counter(
        kind.__name__ for kind in kinds if str(kind.__module__).startswith("kore_campaign_async")
    )


async def test_bind_fixes_the_settings_and_the_first_permit_starts_the_pacing() -> None:
    clock = ManualClock()
    store = LocalLimitStore(clock=clock)
    key, settings = AccountKey("h", "acc-1"), PacingSettings(2, 60.0)
    await store.bind(key, settings)
    assert store.state(key) is None  # no state (and no clock reading) kept for a bind
    with pytest.raises(kca.ConfigurationError, match="already paced"):
        await store.bind(key, PacingSettings(3, 60.0))
    clock.advance(5.0)
    permit = await store.permit(key, settings)
    state = store.state(key)
    assert permit.granted
    assert state is not None
    assert state.touched == state.epoch_start == permit.at == clock()


def test_fresh_accounts_share_the_floats_of_their_configured_limit_and_burst() -> None:
    settings = PacingSettings(60, 60.0, burst=3)
    first, second = PacingState.fresh(settings, 1.0), PacingState.fresh(settings, 2.0)
    assert (first.limit, first.burst, first.ceiling) == (60.0, 3.0, 60.0)
    assert type(first.limit) is float
    assert type(first.burst) is float
    assert first.limit is second.limit
    assert first.burst is second.burst


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_accounts_of_one_app_share_its_path_prefix(version: kca.ApiVersion) -> None:
    first, second = AccountRef("acc-1", "st 1", "st 1"), AccountRef("acc-2", "st 1", "st 1")
    assert first.prefix(version) is second.prefix(version)
    assert "/st%201/" in first.prefix(version)
    assert first.query(version) is first.query(version)
    assert second.query(version) == (() if version == "v1" else (("accountId", "acc-2"),))
