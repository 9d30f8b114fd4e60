"""One table of operations: every reader of an operation's facts finds its entry there."""

from __future__ import annotations

import typing

import pytest

from kore_campaign_async._exceptions import APIResponseDecodeError
from kore_campaign_async._http.policy import RetryPolicy, is_retryable
from kore_campaign_async._observe.observer import qualified
from kore_campaign_async._wire import endpoints
from kore_campaign_async._wire.endpoints import OPERATIONS, AccountRef, OperationName, RequestSpec
from kore_campaign_async.testing._operations import ContactListApi
from kore_campaign_async.testing._routes import resolve
from kore_campaign_async.testing._store import ContactListStore

NAMES = set(typing.get_args(OperationName))
ACCOUNT = AccountRef("acct-1", "st-iid", "st-stream")


def built() -> list[RequestSpec]:
    """One request of every builder, in each API version it has."""
    body = {"name": "N", "source": "passiveApi"}
    requests = [endpoints.add_contacts(ACCOUNT, "N", [{"phoneNumber": "+15550000001"}])]
    for version in ("v1", "v2"):
        requests += [
            endpoints.create(version, ACCOUNT, body),
            endpoints.get(version, ACCOUNT, "cl-1"),
            endpoints.update(version, ACCOUNT, "cl-1", body),
            endpoints.delete(version, ACCOUNT, "cl-1"),
            endpoints.list_all(version, ACCOUNT),
            endpoints.contacts(version, ACCOUNT, "cl-1", skip=0, limit=50),
        ]
    return requests


def test_every_operation_has_one_entry() -> None:
    assert set(OPERATIONS) == NAMES
    assert all(spec.name == name for name, spec in OPERATIONS.items())


@pytest.mark.parametrize("request_", built(), ids=lambda r: f"{r.operation}-{r.api_version}")
def test_every_request_built_has_an_entry_that_agrees(request_: RequestSpec) -> None:
    spec = OPERATIONS[request_.operation]
    assert request_.method == spec.method
    route = resolve(request_.method, request_.path)  # the fake server knows it by the same name
    assert route is not None
    assert route.operation == request_.operation


def test_the_builders_cover_every_operation() -> None:
    assert {request.operation for request in built()} == NAMES


def test_the_fake_server_answers_every_operation() -> None:
    assert ContactListApi(ContactListStore()).handled == NAMES


@pytest.mark.parametrize("name", sorted(NAMES))
def test_logs_spans_and_retry_rules_read_the_table(name: OperationName) -> None:
    spec = OPERATIONS[name]
    assert qualified(name) == spec.public_name
    unreadable = APIResponseDecodeError("not JSON", status=200)
    assert is_retryable(unreadable, RetryPolicy(), name) is spec.resend_after_unreadable
