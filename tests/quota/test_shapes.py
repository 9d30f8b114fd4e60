"""The chosen pacing meets issues 10's and 21's targets on the server shapes (virtual time)."""

from __future__ import annotations

import pytest

from benchmarks import _shapes

CHOSEN = "GCRA burst 1 + learn (chosen)"


#: A lower limit with 1 % stray 429s on top: met on most seeds, not all (see below).
LOWER_AND_STRAY = next(s for s in _shapes.SHAPES if s.stray and s.policy.limit < _shapes.REQUESTS)


@pytest.mark.parametrize(
    "shape", [s for s in _shapes.SHAPES if s != LOWER_AND_STRAY], ids=lambda shape: shape.name
)
def test_chosen_pacing_meets_the_targets(shape: _shapes.Shape) -> None:
    cell = _shapes.run_cell(shape, CHOSEN, seconds=20 * _shapes.PER)
    assert cell.goodput >= _shapes.GOODPUT_TARGET
    assert cell.to_target is None or cell.to_target <= _shapes.WINDOWS_TO_TARGET
    if shape.stray:
        assert cell.refused - cell.injected <= _shapes.EXTRA_REFUSED_TARGET
    else:
        assert cell.refused <= _shapes.REFUSED_TARGET
    assert cell.meets(shape)


def test_a_storm_of_429s_is_recovered_from_within_two_windows() -> None:
    # Refusals before anything got through only pause: the storm no longer cuts the pace five
    # times over (that took about 5 windows to get back to 90 %).
    storm = next(shape for shape in _shapes.SHAPES if shape.storm)
    cell = _shapes.run_cell(storm, CHOSEN, seconds=20 * _shapes.PER)
    assert cell.to_target is not None
    assert cell.to_target <= 1.5


def test_stray_429s_cost_no_more_than_the_pauses_they_ask_for() -> None:
    # 1 % of answers refused at random, a tenth of a window each: the pace is never cut, so the
    # chosen pacing gets what honouring those pauses alone gets, over several seeds.
    stray = next(shape for shape in _shapes.SHAPES if shape.stray)
    for seed in (2, 3, 4):
        chosen = _shapes.run_cell(stray, CHOSEN, 20 * _shapes.PER, seed)
        pause_only = _shapes.run_cell(stray, "GCRA burst 1, pause only", 20 * _shapes.PER, seed)
        assert chosen.goodput >= pause_only.goodput - 0.01
        assert chosen.refused - chosen.injected == 0


def test_a_lower_limit_with_stray_429s_meets_the_targets() -> None:
    # Over 24 seeds all meet them (17 before). A stray within a window of a change costs twice
    # the allowance, unless at or below a limit that held a window; a cut after a short epoch
    # is the pause's share of a window and a failed probe steps back one request (seed 1: 76 %
    # before, 92 %). Four seeds here keep the test quick.
    for seed in (1, 2, 3, 4):
        cell = _shapes.run_cell(LOWER_AND_STRAY, CHOSEN, 40 * _shapes.PER, seed)
        assert cell.goodput >= _shapes.GOODPUT_TARGET, seed
        assert cell.beyond_injected <= _shapes.EXTRA_REFUSED_TARGET, seed
        assert cell.meets(LOWER_AND_STRAY), seed


def test_the_pace_comes_back_within_three_windows_of_a_lifted_lower_limit() -> None:
    spell = next(shape for shape in _shapes.SHAPES if shape.spell is not None)
    cell = _shapes.run_cell(spell, CHOSEN, seconds=12 * _shapes.PER)
    assert cell.to_target is not None
    assert cell.to_target <= _shapes.WINDOWS_TO_TARGET


def test_late_wake_ups_cost_goodput_without_the_catch_up() -> None:
    sliding = next(shape for shape in _shapes.SHAPES if shape.name == "sliding 60/60s")
    before = _shapes.run_cell(sliding, "GCRA burst 1 + learn, no catch-up", 8 * _shapes.PER)
    after = _shapes.run_cell(sliding, CHOSEN, seconds=8 * _shapes.PER)
    assert before.goodput < _shapes.GOODPUT_TARGET
    assert after.goodput >= 0.97
    assert after.refused == 0


def test_todays_sliding_log_misses_them_on_a_token_bucket() -> None:
    bucket = next(shape for shape in _shapes.SHAPES if shape.policy.mode == "token_bucket")
    cell = _shapes.run_cell(bucket, "sliding log + cut (today)", seconds=8 * _shapes.PER)
    assert cell.refused > _shapes.REFUSED_TARGET


def test_the_spread_over_seeds_has_a_row_per_shape_with_its_verdict() -> None:
    table = _shapes.spread(seconds=4 * _shapes.PER, seeds=2)
    rows = [line for line in table.splitlines() if line.startswith("| ") and " w | " in line]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows] == [
        shape.name for shape in _shapes.SHAPES
    ]
    assert all(row.endswith("/2 |") for row in rows)
