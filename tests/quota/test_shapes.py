"""The chosen pacing meets issue 10's targets on every server shape (virtual time, seconds)."""

from __future__ import annotations

import pytest

from benchmarks import _shapes

CHOSEN = "GCRA burst 1 + learn (chosen)"


@pytest.mark.parametrize("shape", _shapes.SHAPES, ids=lambda shape: shape.name)
def test_chosen_pacing_meets_the_targets(shape: _shapes.Shape) -> None:
    cell = _shapes.run_cell(shape, CHOSEN, seconds=20 * _shapes.PER)
    assert cell.goodput >= _shapes.GOODPUT_TARGET
    assert cell.to_target is None or cell.to_target <= _shapes.WINDOWS_TO_TARGET
    assert cell.refused <= _shapes.REFUSED_TARGET


def test_todays_sliding_log_misses_them_on_a_token_bucket() -> None:
    bucket = next(shape for shape in _shapes.SHAPES if shape.policy.mode == "token_bucket")
    cell = _shapes.run_cell(bucket, "sliding log + cut (today)", seconds=8 * _shapes.PER)
    assert cell.refused > _shapes.REFUSED_TARGET
