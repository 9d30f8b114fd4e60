"""What an operator sees in the log: the right level, a ``kore_*`` field per fact, no secret."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, cast

import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async._observe import log as observe
from kore_campaign_async._quota.store import AccountKey, LimitStore, LocalLimitStore
from tests.helpers.clients import MakeClient
from tests.helpers.scripts import LIST, Script, failed, just_made, lost, ok, scripted

SECRET = "s" * 40
#: Every attribute a LogRecord has of its own: what is left over came in through ``extra``.
_PLAIN = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every SDK record, DEBUG up, while the test runs."""
    with caplog.at_level(logging.DEBUG, logger="kore_campaign_async"):
        yield caplog


def extra(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _PLAIN}


def above_debug(records: list[logging.LogRecord]) -> list[tuple[str, int, str]]:
    return [(r.name, r.levelno, r.getMessage()) for r in records if r.levelno > logging.DEBUG]


async def test_attempts_are_debug_lines_and_each_retry_an_info_line_with_fields(
    make_client: MakeClient, log: pytest.LogCaptureFixture
) -> None:
    records = log.records
    await scripted(make_client, Script(failed(503), ok(LIST))).create("Renewal Due")
    assert [(name, level) for name, level, _ in above_debug(records)] == [
        ("kore_campaign_async.http", logging.INFO)
    ]
    first, retry, second = records
    assert first.name == retry.name == "kore_campaign_async.http"
    assert "POST" in first.getMessage()
    assert "attempt 1 -> 503" in first.getMessage()
    fields = extra(first)
    assert fields["kore_url"].endswith("/createContactList")
    assert {k: fields[k] for k in fields if k not in {"kore_url", "kore_elapsed", "kore_wait"}} == {
        "kore_account_id": "acct-1",
        "kore_operation": "contact_lists.create",
        "kore_method": "POST",
        "kore_attempt": 1,
        "kore_status": 503,
        "kore_error_type": "InternalServerError",
    }
    assert extra(retry)["kore_wait"] == 0.5
    assert extra(retry)["kore_account_id"] == "acct-1"
    assert retry.getMessage().startswith(
        "contact_lists.create for account acct-1: retrying in 0.5 s after attempt 1: "
        "InternalServerError: "
    )
    assert extra(second)["kore_status"] == 200


async def test_giving_up_is_info_not_warning(
    make_client: MakeClient, log: pytest.LogCaptureFixture
) -> None:
    records = log.records
    lists = scripted(make_client, Script(failed(500), failed(500)), kca.RetryPolicy(max_attempts=2))
    with pytest.raises(kca.InternalServerError):
        await lists.get("cl-1")
    [(_, _, retried), (name, level, message)] = above_debug(records)
    assert " s after attempt 1: InternalServerError" in retried  # jittered wait
    assert (name, level) == ("kore_campaign_async.http", logging.INFO)
    assert message.startswith("contact_lists.get for account acct-1 failed after 2 attempt(s)")
    gave_up = [r for r in records if r.levelno == logging.INFO][-1]
    assert extra(gave_up) == {
        "kore_account_id": "acct-1",
        "kore_operation": "contact_lists.get",
        "kore_attempt": 2,
        "kore_status": 500,
        "kore_error_type": "InternalServerError",
    }


async def test_a_renewed_token_is_an_auth_info_line(
    make_client: MakeClient, log: pytest.LogCaptureFixture
) -> None:
    records = log.records
    script = Script(failed(401), ok(LIST))
    await scripted(make_client, script, client_id="app-1", client_secret=SECRET).get("cl-1")
    assert above_debug(records) == [
        (
            "kore_campaign_async.auth",
            logging.INFO,
            "contact_lists.get for account acct-1: token refused (401); renewing it and "
            "resending once",
        )
    ]
    first, second = (dict(r.headers)["auth"] for r in script.sent)
    assert first != second


async def test_an_answer_recovered_without_resending_is_info(
    make_client: MakeClient, log: pytest.LogCaptureFixture
) -> None:
    records = log.records
    answers = Script(lost(), ok([just_made(LIST)]))
    created = await scripted(make_client, answers).create("Renewal Due", "d")
    assert created.meta is not None
    assert created.meta.adopted
    assert above_debug(records)[-1] == (
        "kore_campaign_async.http",
        logging.INFO,
        "contact_lists.create for account acct-1: answer lost; recovered without resending",
    )


async def test_a_spent_retry_budget_warns_once_then_says_when_it_is_full(
    make_client: MakeClient, log: pytest.LogCaptureFixture
) -> None:
    records = log.records
    budget = kca.RetryBudget(capacity=5, retry_cost=5, success_refund=5)
    script = Script(failed(503), failed(503), failed(503), failed(503), ok(LIST))
    lists = scripted(
        make_client, script, kca.RetryPolicy(jitter=False, max_attempts=2), retry_budget=budget
    )
    with pytest.raises(kca.InternalServerError):
        await lists.get("cl-1")  # the retry spends the budget; the second attempt fails too
    for _ in range(2):
        with pytest.raises(kca.RetryBudgetExhaustedError):
            await lists.get("cl-1")
    await lists.get("cl-1")
    levels = [(name, level) for name, level, _ in above_debug(records)]
    assert levels == [
        ("kore_campaign_async.http", logging.INFO),  # retrying after the first 503
        ("kore_campaign_async.http", logging.INFO),  # gave up: 503 after 2 attempts
        ("kore_campaign_async.http", logging.WARNING),  # the budget ran dry: said once
        ("kore_campaign_async.http", logging.INFO),  # fail fast
        ("kore_campaign_async.http", logging.INFO),  # fail fast
        ("kore_campaign_async.http", logging.INFO),  # the success refilled it
    ]
    dry = next(r for r in records if r.levelno == logging.WARNING)
    assert "retry budget spent (0 of 5 tokens left)" in dry.getMessage()
    assert extra(dry) == {
        "kore_account_id": "acct-1",
        "kore_operation": "contact_lists.get",
        "kore_attempt": 1,
        "kore_budget_available": 0,
        "kore_budget_capacity": 5,
    }
    assert records[-1].getMessage() == (
        "retry budget full again (5 tokens): failed calls are retried again"
    )


async def test_a_bulk_job_that_stops_for_an_account_says_so_once(
    make_client: MakeClient, log: pytest.LogCaptureFixture
) -> None:
    records = log.records
    lists = scripted(make_client, Script(failed(403, "forbidden")))
    report = await lists.create_many([{"name": n} for n in "ABC"], concurrency=1)
    assert [o.status for o in report.outcomes] == ["failed"] * 3
    bulk = [r for r in records if r.name == "kore_campaign_async.bulk"]
    [halted] = bulk
    assert halted.levelno == logging.INFO
    assert halted.getMessage().startswith(
        "bulk job stops sending for account acct-1: 'A' failed with PermissionDeniedError"
    )
    assert extra(halted) == {
        "kore_account_id": "acct-1",
        "kore_item_name": "A",
        "kore_status": 403,
        "kore_error_type": "PermissionDeniedError",
    }


def test_observe_limit_changes_say_which_way(log: pytest.LogCaptureFixture) -> None:
    observe.limit_changed("acct-1", 60, 42, 60, 60.0)
    observe.limit_changed("acct-1", 42, 43, 60, 60.0)
    observe.limit_changed("acct-1", 59, 60, 60, 60.0)
    assert [(r.levelno, r.getMessage()) for r in log.records] == [
        (logging.INFO, "account acct-1: rate cut after a 429 to 42 of 60 requests per 60s"),
        (logging.DEBUG, "account acct-1: rate probed up to 43 of 60 requests per 60s"),
        (logging.INFO, "account acct-1: rate back to the configured 60 of 60 requests per 60s"),
    ]
    assert extra(log.records[0]) == {
        "kore_account_id": "acct-1",
        "kore_limit": 42,
        "kore_limit_max": 60,
    }


async def test_no_record_of_a_failing_run_holds_a_secret(
    make_client: MakeClient, log: pytest.LogCaptureFixture
) -> None:
    records = log.records
    script = Script(
        failed(401),
        failed(401),
        failed(429),
        lost(),
        failed(500),
        failed(503),
        failed(503),
        failed(403),
    )
    lists = scripted(make_client, script, client_id="app-1", client_secret=SECRET)
    for _ in range(3):
        with pytest.raises(kca.KoreError):
            await lists.create("Renewal Due", "d")
    tokens = {dict(r.headers)["auth"] for r in script.sent}
    assert len(tokens) >= 2
    assert {r.levelno for r in records} >= {logging.DEBUG, logging.INFO}
    for record in records:
        assert all(key.startswith("kore_") for key in extra(record)), record
        seen = [
            record.getMessage(),
            *map(repr, record.args or ()),
            *map(repr, vars(record).values()),
        ]
        for text in seen:
            for secret in (*tokens, SECRET):
                assert secret not in text, record


async def test_the_limiter_logs_its_pauses_its_cut_and_its_way_back(
    client_clock: ManualClock, log: pytest.LogCaptureFixture
) -> None:
    store, key = LocalLimitStore(clock=client_clock), AccountKey("h", "acct-9")
    limiter = kca.AccountLimiter(
        kca.RateLimit(10, 10.0),
        4,
        clock=client_clock,
        sleep=client_clock.sleep,
        store=store,
        key=key,
    )
    async with limiter.slot() as turn:
        pass
    turn.succeeded()
    state = store.state(key)
    assert state is not None
    state.strays = 0.0  # no stray 429 left to forgive: this one teaches
    async with limiter.slot() as turn:
        pass
    turn.rate_limited(2.0)
    while limiter.effective_limit != 10:
        async with limiter.slot() as turn:
            pass
        turn.succeeded()
    quota = [(r.levelno, r.getMessage()) for r in log.records if r.name.endswith(".quota")]
    assert quota == [
        (logging.WARNING, "account acct-9 paused by a 429 for 2.000s (Retry-After 2s)"),
        (logging.INFO, "account acct-9: rate cut after a 429 to 7 of 10 requests per 10s"),
        (logging.DEBUG, "account acct-9: rate probed up to 8 of 10 requests per 10s"),
        (logging.DEBUG, "account acct-9: rate probed up to 9 of 10 requests per 10s"),
        (logging.INFO, "account acct-9: rate back to the configured 10 of 10 requests per 10s"),
    ]
    assert extra(log.records[0]) == {
        "kore_account_id": "acct-9",
        "kore_pause_seconds": 2.0,
        "kore_retry_after": 2.0,
        "kore_status": 429,
    }


class _Shared:
    """A store that is not the in-process one (as a Redis store is not), over a local one."""

    def __init__(self, clock: ManualClock) -> None:
        self._local = LocalLimitStore(clock=clock)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._local, name)


async def test_a_pause_a_shared_store_sets_is_logged_when_it_answers(
    client_clock: ManualClock, log: pytest.LogCaptureFixture
) -> None:
    store = cast(LimitStore, _Shared(client_clock))
    limiter = kca.AccountLimiter(
        kca.RateLimit(10, 10.0),
        4,
        clock=client_clock,
        sleep=client_clock.sleep,
        store=store,
        key=AccountKey("h", "acct-7"),
    )
    async with limiter.slot() as turn:
        pass
    turn.rate_limited(3.0)
    await limiter.aclose()  # waits for the store's answer
    [paused] = [r for r in log.records if r.levelno == logging.WARNING]
    assert paused.getMessage() == "account acct-7 paused by a 429 for 3.000s (Retry-After 3s)"
