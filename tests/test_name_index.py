"""NameIndex: a set of names (any case) that stores positions only and reads names back."""

from __future__ import annotations

import random

import pytest

from kore_campaign_async._bulk.name_index import NameIndex


def index_over(names: list[str]) -> NameIndex:
    return NameIndex(names.__getitem__)


def test_first_position_wins_regardless_of_case() -> None:
    names = ["Alpha", "beta", "ALPHA", "Beta", "gamma"]
    index = index_over(names)
    assert [index.setdefault(name, n) for n, name in enumerate(names)] == [0, 1, 0, 1, 4]
    assert len(index) == 3
    assert index.get("alpha") == 0
    assert index.get("GAMMA") == 4
    assert index.get("delta") is None


def test_agrees_with_a_dict_through_many_growths() -> None:
    rng = random.Random(7)
    # Many repeats, in every case, spread far apart: the table grows many times meanwhile.
    pool = [f"list-{rng.randrange(10**9):09d}" for _ in range(6000)]
    names = [rng.choice(pool) for _ in range(20000)]
    names = [name.upper() if rng.random() < 0.3 else name for name in names]
    index = index_over(names)
    model: dict[str, int] = {}
    for position, name in enumerate(names):
        expected = model.setdefault(name.lower(), position)
        assert index.setdefault(name, position) == expected
    assert len(index) == len(model)
    for key, position in model.items():
        assert index.get(key.upper()) == position


@pytest.mark.parametrize("count", [1, 11, 12, 1000, 50_000])
def test_takes_at_most_twelve_bytes_a_name_whatever_the_names(count: int) -> None:
    names = [f"a-rather-long-contact-list-name-{n:012d}" for n in range(count)]
    index = index_over(names)
    for position, name in enumerate(names):
        index.setdefault(name, position)
    assert index.nbytes <= max(12 * count, 4 * 16)


def test_colliding_slots_are_told_apart_by_name() -> None:
    # Sixteen slots and twelve names: most probes land on a used slot of another name.
    names = [f"n{n}" for n in range(11)]
    index = index_over(names)
    for position, name in enumerate(names):
        assert index.setdefault(name, position) == position
    assert [index.get(name) for name in names] == list(range(11))


def test_name_at_is_asked_for_the_position_being_added_when_the_table_grows() -> None:
    names: list[str] = []
    index = index_over(names)
    for position in range(40):  # grows at 12 and 23: each time while adding a name
        names.append(f"n{position}")
        assert index.setdefault(names[-1], position) == position
    assert index.get("N39") == 39
