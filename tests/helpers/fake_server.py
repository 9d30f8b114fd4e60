"""Plain aiohttp + PyJWT helpers for talking to the fake server (not the SDK client)."""

from __future__ import annotations

import asyncio
import json
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
import attrs
import jwt
from multidict import CIMultiDictProxy

from kore_campaign_async.testing import FakeKoreServer

IID = "st-fake-iid"
ACCOUNT = "acc-1"
V1 = f"/agentassist/api/v1/public/{IID}/campaign/contactList"
V2 = f"/campaign/api/v2/public/{IID}/campaign/contactList"
ADD_CONTACTS = f"/api/1.1/public/{IID}/campaign/contactList/addContacts"


async def settle(condition: Callable[[], bool], *, turns: int = 10_000) -> None:
    """Yield to the event loop until ``condition()`` holds; fail after ``turns`` turns."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


def make_token(
    app_id: str = FakeKoreServer.DEFAULT_CLIENT_ID,
    secret: str = FakeKoreServer.DEFAULT_CLIENT_SECRET,
    *,
    algorithm: str = "HS256",
    lifetime: float = 60.0,
    **claims: Any,
) -> str:
    """Sign a Kore-style token: appId, sub, iat, exp (plus ``claims``)."""
    now = time.time()
    payload = {"appId": app_id, "sub": "tester", "iat": int(now), "exp": int(now + lifetime)}
    payload.update(claims)
    with warnings.catch_warnings():
        # The documented default secret is shorter than PyJWT's recommended 32 bytes.
        warnings.simplefilter("ignore")
        return jwt.encode(payload, secret, algorithm=algorithm)


@attrs.frozen
class Answer:
    """A finished HTTP exchange."""

    status: int
    #: Parsed JSON, or the raw text when it is not JSON.
    body: Any
    headers: CIMultiDictProxy[str]


@attrs.define
class Kore:
    """Send contact-list requests to the fake server with valid identity headers."""

    session: aiohttp.ClientSession
    server: FakeKoreServer
    account: str = ACCOUNT
    token: str = attrs.field(factory=make_token)

    def headers(self, account: str | None = None) -> dict[str, str]:
        return {"auth": self.token, "iid": IID, "accountId": account or self.account}

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send one request and read the whole answer."""
        async with self.session.request(
            method,
            self.server.url + path,
            json=body,
            params=params,
            headers=self.headers() if headers is None else headers,
        ) as response:
            text = await response.text()
        try:
            parsed: Any = json.loads(text)
        except ValueError:
            parsed = text
        return Answer(response.status, parsed, response.headers)

    async def op(
        self,
        method: str,
        version: str,
        suffix: str = "",
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        account: str | None = None,
    ) -> Answer:
        """Call a v1 or v2 contact-list path (v2 gets its ``?accountId=``)."""
        account = account or self.account
        query = dict(params or {})
        if version == "v2":
            query.setdefault("accountId", account)
        path = (V1 if version == "v1" else V2) + suffix
        return await self.call(method, path, body=body, params=query, headers=self.headers(account))

    async def create(
        self, name: str, version: str = "v2", *, account: str | None = None, **fields: Any
    ) -> Answer:
        body = {"name": name, "description": "", "source": "passiveApi", **fields}
        return await self.op("POST", version, "/createContactList", body=body, account=account)

    async def list_all(self, version: str = "v2", *, account: str | None = None) -> Answer:
        return await self.op(
            "POST", version, "/getAllListDetails", params={"type": "call"}, account=account
        )

    async def add_contacts(self, list_name: str, phones: list[str]) -> Answer:
        body = {"contact_list_name": list_name, "data": [{"phoneNumber": p} for p in phones]}
        return await self.call("POST", ADD_CONTACTS, body=body)
