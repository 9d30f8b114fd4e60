"""Which list a create adopts after a lost answer, and how few listings the adoptions cost."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async._resources.lost_answers import ADOPT_CLOCK_SKEW, not_made_by
from kore_campaign_async._resources.names import LISTING_SPACING
from tests.helpers.scripts import LIST, ListsFor, Script, failed, just_made, lost, ok

LISTING = "POST getAllListDetails"
CREATE = "POST createContactList"


def made_ago(seconds: float, **fields: Any) -> dict[str, Any]:
    """LIST (name "Renewal Due", description "d") as created ``seconds`` ago, with ``fields``."""
    created = datetime.now(timezone.utc) - timedelta(seconds=seconds)
    return {**LIST, "createdAt": created.isoformat(), **fields}


AMBIGUOUS = [
    pytest.param(lambda: lost(), id="dropped"),
    pytest.param(lambda: failed(502, "bad gateway"), id="502"),
    pytest.param(lambda: kca.APITimeoutError("read timed out"), id="timeout"),
]


@pytest.mark.parametrize("failure", AMBIGUOUS)
async def test_a_lost_answer_does_not_adopt_a_list_older_than_the_call(
    lists_for: ListsFor, failure: Any
) -> None:
    script = Script(failure(), ok([made_ago(3600, _id="cl-old")]))
    with pytest.raises(kca.ConflictError) as caught:
        await lists_for(script).create("Renewal Due", "d")
    error = caught.value
    assert "'cl-old'" in str(error)
    assert "'Renewal Due'" in str(error)
    assert "before this call began" in str(error)
    assert isinstance(error.body, dict)
    assert error.body["existing"]["id"] == "cl-old"
    assert (error.status, error.attempts) == (409, 2)
    assert script.paths == [CREATE, LISTING]  # not resent: Kore would only say "name taken"


async def test_a_name_taken_after_a_lost_answer_does_not_adopt_an_older_list(
    lists_for: ListsFor,
) -> None:
    script = Script(lost(), ok([]), failed(409, "already exists"), ok([made_ago(3600)]))
    with pytest.raises(kca.ConflictError, match=r"'cl-1'.*before this call began") as caught:
        await lists_for(script).create("Renewal Due", "d")
    assert caught.value.attempts == 4
    assert isinstance(caught.value.__context__, kca.ConflictError)  # Kore's own answer


@pytest.mark.parametrize(
    ("found", "reason"),
    [
        (made_ago(0, description="someone else's"), "its description is"),
        (made_ago(0, allowDuplicates=False), "its allowDuplicates is False"),
        (LIST, "did not report when it was created"),
        (made_ago(0, createdAt="not a date"), "createdAt for it could not be read"),
        (made_ago(0, description={"text": "d"}), "description for it could not be read"),
    ],
    ids=["description", "allow_duplicates", "no_created_at", "bad_created_at", "bad_description"],
)
async def test_a_lost_answer_adopts_only_a_list_like_the_one_sent(
    lists_for: ListsFor, found: dict[str, Any], reason: str
) -> None:
    script = Script(lost(), ok([found]))
    with pytest.raises(kca.ConflictError, match=reason):
        await lists_for(script).create("Renewal Due", "d", allow_duplicates=True)


async def test_allow_duplicates_not_sent_is_not_compared(lists_for: ListsFor) -> None:
    script = Script(lost(), ok([made_ago(0, allowDuplicates=True)]))
    adopted = await lists_for(script).create("RENEWAL DUE", "d")
    assert adopted.meta is not None
    assert adopted.meta.adopted


@pytest.mark.parametrize(
    ("age", "adopted"), [(ADOPT_CLOCK_SKEW - 60, True), (ADOPT_CLOCK_SKEW + 60, False)]
)
async def test_a_list_created_within_the_clock_skew_allowance_is_adopted(
    lists_for: ListsFor, age: float, adopted: bool
) -> None:
    script = Script(lost(), ok([made_ago(age)]))
    call = lists_for(script).create("Renewal Due", "d")
    if adopted:
        assert (await call).id == "cl-1"
    else:
        with pytest.raises(kca.ConflictError):
            await call


def test_not_made_by_reads_the_skew_against_the_call_start() -> None:
    spec = kca.ContactListCreate(name="Renewal Due", description="d")
    found = kca.ContactList(
        id="cl-1",
        name="renewal due",
        description="d",
        created_at=datetime.fromtimestamp(1000.0, tz=timezone.utc),
    )
    assert not_made_by(spec, found, started_at=1000.0 + ADOPT_CLOCK_SKEW) is None
    assert not_made_by(spec, found, started_at=1000.5 + ADOPT_CLOCK_SKEW) is not None
    assert not_made_by(spec, found, started_at=1300.0, skew=0.0) is not None


async def test_if_exists_adopt_still_adopts_any_list_of_the_name(lists_for: ListsFor) -> None:
    script = Script(lost(), ok([{**LIST, "description": "other"}]))
    adopted = await lists_for(script).create("Renewal Due", "d", if_exists="adopt")
    assert adopted.meta == kca.ResponseMeta(attempts=2, api_version="v2", adopted=True)


# -- the lookup reads only the lists of the name --------------------------------------------


def skipped_or_unreadable(caplog: pytest.LogCaptureFixture) -> list[int]:
    """The listing items logged as skipped or partly unreadable, by index."""
    return [r.__dict__["kore_item_index"] for r in caplog.records if hasattr(r, "kore_item_index")]


async def test_a_lookup_reads_no_list_of_another_name(
    lists_for: ListsFor, caplog: pytest.LogCaptureFixture
) -> None:
    # Reading a record costs ~14 µs, an account has tens of thousands: a lookup reads its name
    # only. These others would each log an unreadable createdAt if they were read.
    others = [{"_id": f"cl-o{n}", "name": f"Other {n}", "createdAt": "garbage"} for n in range(3)]
    script = Script(lost(), ok([*others, just_made(LIST)]))
    with caplog.at_level(logging.WARNING, logger="kore_campaign_async"):
        assert (await lists_for(script).create("Renewal Due", "d")).id == "cl-1"
    assert skipped_or_unreadable(caplog) == []


async def test_malformed_records_never_break_a_lookup(
    lists_for: ListsFor, caplog: pytest.LogCaptureFixture
) -> None:
    listing = [
        ["not", "an", "object"],  # 0: no name: skipped, logged
        {"_id": "cl-x", "name": {"text": "x"}},  # 1: no readable name: skipped, logged
        {"_id": "cl-n", "name": 5, "createdAt": []},  # 2: another name: never read
        {"_id": None, "name": "RENEWAL DUE"},  # 3: the name, no usable id: skipped, logged
        {"_id": "cl-bad", "name": "Renewal Due", "createdAt": "garbage"},  # 4: kept raw, logged
        just_made(LIST),  # 5: a later record of the name: not read, the first usable one wins
    ]
    script = Script(lost(), ok(listing))
    with (
        caplog.at_level(logging.WARNING, logger="kore_campaign_async"),
        pytest.raises(kca.ConflictError, match=r"'cl-bad'.*createdAt for it could not be read"),
    ):
        await lists_for(script).create("Renewal Due", "d")
    assert skipped_or_unreadable(caplog) == [0, 1, 3, 4]


async def test_a_lookup_adopts_the_first_usable_record_of_the_name(lists_for: ListsFor) -> None:
    listing = [
        {"_id": " ", "name": "Renewal Due"},
        just_made(LIST),
        just_made({**LIST, "_id": "x"}),
    ]
    script = Script(lost(), ok(listing))
    assert (await lists_for(script).create("renewal due", "d")).id == "cl-1"


async def test_a_listing_without_a_list_fails_the_lookup_clearly(lists_for: ListsFor) -> None:
    script = Script(lost(), *[ok({"lists": []})] * 20)  # each retry looks again
    with pytest.raises(kca.APIResponseDecodeError, match="'data' is not a list"):
        await lists_for(script).create("Renewal Due", "d")
    assert CREATE not in script.paths[1:]  # never resent without a lookup


# -- the account's name map -----------------------------------------------------------------


async def test_waiting_for_the_accounts_next_listing_does_not_spend_the_deadline(
    lists_for: ListsFor, client_clock: ManualClock
) -> None:
    # Each listing takes 3 s and the next waits out the spacing: the second create resends
    # past its 5 s deadline unless that wait is off its clock.
    second = {**LIST, "_id": "cl-2", "name": "Second"}
    script = Script(lost(), ok([just_made(LIST)]), lost(), ok([]), ok(second))

    async def slow_listings(request: kca.HttpRequest) -> kca.RawResponse:
        if request.url.endswith("getAllListDetails"):
            await client_clock.sleep(3.0)
        return script(request)

    lists = lists_for(slow_listings, retry=kca.RetryPolicy(jitter=False, deadline=5.0))
    assert (await lists.create("Renewal Due", "d")).id == "cl-1"
    began = client_clock()
    assert (await lists.create("Second", "d")).id == "cl-2"
    assert client_clock() - began >= LISTING_SPACING * 3.0 + 3.0 > 5.0
    assert script.paths == [CREATE, LISTING] * 2 + [CREATE]


async def test_name_taken_adoptions_share_the_accounts_recent_listing(lists_for: ListsFor) -> None:
    others = [{**LIST, "_id": f"cl-{n}", "name": f"L{n}"} for n in range(3)]
    taken = failed(409, "already exists")
    script = Script(taken, ok(others), taken, taken)
    lists = lists_for(script)
    ids = [(await lists.create(f"l{n}", if_exists="adopt")).id for n in range(3)]
    assert ids == ["cl-0", "cl-1", "cl-2"]
    assert script.paths.count(LISTING) == 1


async def test_a_name_the_map_lacks_lists_again(lists_for: ListsFor) -> None:
    script = Script(
        failed(409, "already exists"),
        ok([{**LIST, "_id": "cl-a", "name": "A"}]),
        failed(409, "already exists"),
        ok([{**LIST, "_id": "cl-a", "name": "A"}, {**LIST, "_id": "cl-b", "name": "B"}]),
    )
    lists = lists_for(script)
    assert (await lists.create("A", if_exists="adopt")).id == "cl-a"
    assert (await lists.create("B", if_exists="adopt")).id == "cl-b"
    assert script.paths.count(LISTING) == 2


async def test_a_map_older_than_a_minute_is_listed_again(
    lists_for: ListsFor, client_clock: ManualClock
) -> None:
    first, second = {**LIST, "_id": "cl-old"}, {**LIST, "_id": "cl-new"}
    taken = failed(409, "already exists")
    script = Script(taken, ok([first]), taken, taken, ok([second]))
    lists = lists_for(script)
    assert (await lists.create("Renewal Due", if_exists="adopt")).id == "cl-old"
    client_clock.advance(30)
    assert (await lists.create("Renewal Due", if_exists="adopt")).id == "cl-old"
    client_clock.advance(31)
    assert (await lists.create("Renewal Due", if_exists="adopt")).id == "cl-new"


async def test_a_delete_or_update_drops_the_map(lists_for: ListsFor) -> None:
    taken = failed(409, "already exists")
    script = Script(
        taken,
        ok([{**LIST, "_id": "cl-old"}]),
        ok({**LIST, "_id": "cl-old"}),
        taken,
        ok([{**LIST, "_id": "cl-new"}]),
        ok({"contactListId": "cl-new", "body": {"name": "Renewal Due"}}),
        taken,
        ok([{**LIST, "_id": "cl-new"}]),
    )
    lists = lists_for(script)
    assert (await lists.create("Renewal Due", if_exists="adopt")).id == "cl-old"
    await lists.delete("cl-old")
    assert (await lists.create("Renewal Due", if_exists="adopt")).id == "cl-new"
    await lists.update("cl-new", description="x")
    assert (await lists.create("Renewal Due", if_exists="adopt")).id == "cl-new"
    assert script.paths.count(LISTING) == 3


async def test_a_lost_answer_never_adopts_from_a_listing_begun_before_its_call(
    lists_for: ListsFor,
) -> None:
    # The map (from an adopting create) holds an old "Renewal Due" within the skew allowance;
    # a lost answer with if_exists="error" must list again: its own list cannot be in the map.
    script = Script(
        failed(409, "already exists"),
        ok([made_ago(60, _id="cl-old")]),
        lost(),
        ok([just_made({**LIST, "_id": "cl-mine"})]),
    )
    lists = lists_for(script)
    assert (await lists.create("Renewal Due", "d", if_exists="adopt")).id == "cl-old"
    assert (await lists.create("Renewal Due", "d")).id == "cl-mine"
    assert script.paths == [CREATE, LISTING, CREATE, LISTING]
