"""The fault script: order, times, filters and seeded probability, without a server."""

from __future__ import annotations

import pytest

from kore_campaign_async.testing._faults import Fault, FaultPlan


def kinds(plan: FaultPlan, count: int, operation: str = "create") -> list[str | None]:
    picks = (plan.pick(operation, "acc") for _ in range(count))
    return [None if fault is None else fault.kind for fault in picks]


def test_a_script_applies_in_order_and_then_stops() -> None:
    plan = FaultPlan()
    plan.add_many([Fault("status"), Fault("pass"), Fault("status", status=500)])
    picks = [plan.pick("create", "acc") for _ in range(4)]
    assert [None if p is None else (p.kind, p.status) for p in picks] == [
        ("status", 503),
        ("pass", 503),
        ("status", 500),
        None,
    ]
    assert len(plan) == 0


def test_times_counts_matching_requests_only() -> None:
    plan = FaultPlan()
    plan.add(Fault("reset", operation="delete", account_id="acc", times=2))
    assert plan.pick("create", "acc") is None
    assert plan.pick("delete", "other") is None
    assert kinds(plan, 3, "delete") == ["reset", "reset", None]


def test_times_none_never_runs_out() -> None:
    plan = FaultPlan()
    plan.add(Fault("status", times=None))
    assert kinds(plan, 50) == ["status"] * 50
    assert plan.pending == [Fault("status", times=None)]


def test_first_matching_rule_wins() -> None:
    plan = FaultPlan()
    plan.add(Fault("reset", operation="get"))
    plan.add(Fault("status"))
    assert kinds(plan, 1, "create") == ["status"]
    assert kinds(plan, 2, "get") == ["reset", None]


def test_probability_is_seeded_and_falls_through_to_later_rules() -> None:
    def run(seed: int) -> list[str | None]:
        plan = FaultPlan(seed)
        plan.add(Fault("status", probability=0.3, times=None))
        plan.add(Fault("pass", times=None))
        return kinds(plan, 400)

    first = run(7)
    assert first == run(7)
    assert first != run(8)
    assert set(first) == {"status", "pass"}
    assert 80 < first.count("status") < 160


def test_reseed_replays_the_rolls() -> None:
    plan = FaultPlan(3)
    plan.add(Fault("status", probability=0.5, times=None))
    before = kinds(plan, 30)
    plan.reseed(3)
    assert kinds(plan, 30) == before


def test_clear_forgets_every_rule() -> None:
    plan = FaultPlan()
    plan.add_many([Fault("status"), Fault("reset")])
    plan.clear()
    assert plan.pick("create", "acc") is None


def test_default_error_body_names_the_status() -> None:
    assert Fault("status", status=503).error_body() == {
        "errors": [{"msg": "Service Unavailable", "code": 503}]
    }
    assert Fault("status", status=599).error_body() == {
        "errors": [{"msg": "Injected fault", "code": 599}]
    }
    assert Fault("status", body="down").error_body() == "down"


def test_headers_cannot_be_changed_behind_the_plan() -> None:
    headers = {"X-A": "1"}
    fault = Fault("status", headers=headers)
    headers["X-A"] = "2"
    assert fault.headers == {"X-A": "1"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "explode"},
        {"kind": "status", "operation": "upsert"},
        {"kind": "status", "times": 0},
        {"kind": "status", "probability": 1.5},
        {"kind": "delay", "delay": -1.0},
        {"kind": "status", "status": 1000},
    ],
)
def test_bad_faults_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - attrs validators raise plain ValueError
        Fault(**kwargs)  # type: ignore[arg-type]
