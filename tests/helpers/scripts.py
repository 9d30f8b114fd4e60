"""Scripted answers for a client on MockTransport: no aiohttp, no socket, one answer per request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

import kore_campaign_async as kca
from kore_campaign_async.testing import MockTransport, json_response
from tests.helpers.clients import HOST, MakeClient

V2 = f"{HOST}/campaign/api/v2/public/st-1/campaign/contactList"
LIST: dict[str, Any] = {"_id": "cl-1", "name": "Renewal Due", "description": "d"}
Answer = kca.RawResponse | BaseException
Handler = Callable[[kca.HttpRequest], kca.RawResponse]
ListsFor = Callable[..., kca.ContactLists]


def just_made(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` as a listing shows a list created now (a create adopts only a list that new)."""
    return {**item, "createdAt": datetime.now(timezone.utc).isoformat()}


def ok(data: Any) -> kca.RawResponse:
    return json_response({"status": "success", "message": "", "data": data})


def failed(status: int, message: str = "boom") -> kca.RawResponse:
    return json_response({"errors": [{"msg": message}]}, status=status)


def lost(*, sent: bool = True) -> kca.APIConnectionError:
    """An attempt whose answer never came (``sent``: the server may have applied it)."""
    return kca.APIConnectionError("connection reset", request_sent=sent)


class Script:
    """Answer requests from a script, one entry per request, and record what was sent."""

    def __init__(self, *answers: Answer) -> None:
        self.answers: Iterator[Answer] = iter(answers)
        self.sent: list[kca.HttpRequest] = []

    def __call__(self, request: kca.HttpRequest) -> kca.RawResponse:
        self.sent.append(request)
        answer = next(self.answers)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    @property
    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.rpartition('/contactList/')[2]}" for r in self.sent]


@pytest.fixture
def lists_for(make_client: MakeClient) -> ListsFor:
    """``lists_for(handler, retry=None, **client_settings)``: the contact lists of a client
    whose every request ``handler`` answers (retries without jitter unless ``retry`` says)."""

    def build(
        handler: Handler, retry: kca.RetryPolicy | None = None, **kwargs: Any
    ) -> kca.ContactLists:
        client = make_client(
            token="jwt-token",
            transport=MockTransport(handler),
            retry=retry or kca.RetryPolicy(jitter=False),
            **kwargs,
        )
        return client.account("acct-1", iid="st-1").contact_lists

    return build


def scripted(
    make_client: MakeClient,
    script: Script,
    retry: kca.RetryPolicy | None = None,
    *,
    account: str = "acct-1",
    **settings: Any,
) -> kca.ContactLists:
    """The lists of ``account`` on a client whose every request ``script`` answers."""
    if "client_id" not in settings:
        settings.setdefault("token", "jwt-token")  # long enough to be redacted from nothing
    client = make_client(
        transport=MockTransport(script),
        retry=retry or kca.RetryPolicy(jitter=False, max_attempts=3),
        **settings,
    )
    return client.account(account, iid="st-1").contact_lists
