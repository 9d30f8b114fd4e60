"""PauseListeners: every listener of an account hears its pauses; unsubscribing stops that."""

from __future__ import annotations

import gc

from kore_campaign_async._quota.store import AccountKey, PauseListeners

KEY = AccountKey("https://kore.example", "acc-1")
OTHER = AccountKey("https://kore.example", "acc-2")


def test_each_listener_of_the_account_hears_its_pauses_until_it_unsubscribes() -> None:
    listeners = PauseListeners()
    first: list[float] = []
    second: list[float] = []
    stop_first = listeners.add(KEY, first.append)
    stop_second = listeners.add(KEY, second.append)
    listeners.add(OTHER, second.append)
    listeners.tell(KEY, 1.5)
    assert first == [1.5]
    assert second == [1.5]
    stop_first()
    stop_first()  # twice: nothing more to remove
    listeners.tell(KEY, 2.0)
    assert first == [1.5]
    assert second == [1.5, 2.0]
    stop_second()
    listeners.tell(KEY, 3.0)
    assert second == [1.5, 2.0]
    listeners.tell(OTHER, 4.0)
    assert second == [1.5, 2.0, 4.0]


def test_an_account_with_no_listener_left_leaves_no_entry() -> None:
    listeners = PauseListeners()
    heard: list[float] = []
    stops = [listeners.add(KEY, heard.append) for _ in range(3)]
    for stop in stops:
        stop()
    listeners.tell(KEY, 1.0)
    assert heard == []
    assert KEY not in listeners._listeners


def test_one_listener_costs_one_small_unsubscribe_object_and_no_list() -> None:
    listeners = PauseListeners()
    heard: list[float] = []
    listener = heard.append
    listeners.add(OTHER, listener)  # the table holds objects already (an empty one is untracked)
    gc.collect()
    before = len(gc.get_objects())
    stop = listeners.add(KEY, listener)
    # The unsubscribe function alone: the listener is stored as given, not in a list.
    assert len(gc.get_objects()) - before == 1
    assert listeners._listeners[KEY] is listener
    stop()
    assert KEY not in listeners._listeners
