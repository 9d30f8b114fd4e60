"""Route table and identity-header checks, without a server."""

from __future__ import annotations

import pytest

from kore_campaign_async.testing._routes import Route, header_problem, resolve

V1 = "/agentassist/api/v1/public/st-1/campaign/contactList"
V2 = "/campaign/api/v2/public/st-1/campaign/contactList"


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", f"{V1}/createContactList", Route("create", "v1")),
        ("POST", f"{V2}/createContactList", Route("create", "v2")),
        ("PUT", f"{V1}/cl-1", Route("update", "v1", "cl-1")),
        ("PUT", f"{V2}/cl-1", Route("update", "v2", "cl-1")),
        ("GET", f"{V1}/cl-1", Route("get", "v1", "cl-1")),
        ("GET", f"{V2}/cl-1", Route("get", "v2", "cl-1")),
        ("DELETE", f"{V1}/cl-1", Route("delete", "v1", "cl-1")),
        ("DELETE", f"{V2}/cl-1", Route("delete", "v2", "cl-1")),
        ("POST", f"{V1}/getAllListDetails", Route("list", "v1")),
        ("POST", f"{V2}/getAllListDetails", Route("list", "v2")),
        ("GET", f"{V1}/cl-1/getAllContacts", Route("contacts", "v1", "cl-1")),
        ("GET", f"{V2}/cl-1/getAllContacts", Route("contacts", "v2", "cl-1")),
        (
            "POST",
            "/api/1.1/public/st-1/campaign/contactList/addContacts",
            Route("add_contacts", "v1"),
        ),
    ],
)
def test_every_documented_endpoint_resolves(method: str, path: str, expected: Route) -> None:
    assert resolve(method, path) == expected


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", f"{V1}"),
        ("GET", f"{V1}/"),
        ("POST", f"{V1}/cl-1"),
        ("PATCH", f"{V2}/cl-1"),
        ("GET", f"{V2}/getAllListDetails/extra/more"),
        ("POST", f"{V2}/cl-1/getAllContacts"),
        ("GET", "/campaign/api/v3/public/st-1/campaign/contactList/cl-1"),
        ("GET", "/agentassist/api/v1/public//campaign/contactList/cl-1"),
        ("GET", "/api/1.1/public/st-1/campaign/contactList/addContacts"),
        ("POST", "/api/1.1/public/st-1/campaign/contactList/other"),
    ],
)
def test_anything_else_is_unknown(method: str, path: str) -> None:
    assert resolve(method, path) is None


GOOD = {"auth": "t", "iid": "st-1", "accountId": "acc"}


@pytest.mark.parametrize("missing", ["auth", "iid", "accountId"])
def test_each_identity_header_is_required(missing: str) -> None:
    headers = {key: value for key, value in GOOD.items() if key != missing}
    problem = header_problem(Route("get", "v1", "x"), headers, {})
    assert problem == f"{missing}: header is required"


def test_v2_needs_the_account_in_the_query_too() -> None:
    route = Route("get", "v2", "x")
    assert header_problem(route, GOOD, {}) == "accountId: query parameter is required"
    assert header_problem(route, GOOD, {"accountId": "acc"}) is None
    mismatch = header_problem(route, GOOD, {"accountId": "other"})
    assert mismatch == "accountId: query parameter does not match the accountId header"


def test_v1_query_account_is_optional_but_must_agree() -> None:
    route = Route("contacts", "v1", "x")
    assert header_problem(route, GOOD, {}) is None
    assert header_problem(route, GOOD, {"accountId": "other"}) is not None
