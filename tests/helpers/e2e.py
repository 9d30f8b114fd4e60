"""The end-to-end tests' client: one that outlasts the faults the fake server injects."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest

import kore_campaign_async as kca
from tests.helpers.clients import MakeClient

#: Enough attempts that a run of faults on one item (p ~ 0.15 each) never exhausts them.
PATIENT_RETRY = kca.RetryPolicy(max_attempts=10, backoff_base=0.001, backoff_cap=0.01, deadline=30)

Connect = Callable[..., kca.CampaignClient]


@pytest.fixture
def connect(make_client: MakeClient) -> Connect:
    """``connect(server, **settings)``: a client that outlasts the faults (PATIENT_RETRY, no
    retry budget)."""
    return functools.partial(make_client, retry=PATIENT_RETRY, retry_budget=None)
