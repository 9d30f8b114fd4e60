"""Settings and the one client of a web backend, opened on the server's event loop.

A ``CampaignClient`` is bound to the event loop it was opened on (its aiohttp session, limiters
and token cache live there): open it in the server's startup hook (FastAPI's lifespan,
aiohttp's cleanup_ctx), share it across requests, close it at shutdown. Never make one per
request (each would pace the account on its own, breaking Kore's 60 requests a minute per
account) and never carry one to another loop (a thread with ``asyncio.run``, a test's loop).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Mapping

import aiohttp
import attrs

import kore_campaign_async as kca


@attrs.frozen(kw_only=True)
class KoreSettings:
    """Where Kore is, which account the backend serves, and how it gets its JWTs."""

    host: str = "https://platform.kore.ai"
    account_id: str
    iid: str
    client_id: str | None = None
    client_secret: str | None = attrs.field(default=None, repr=False)
    token_url: str | None = None
    """A token service that hands out Kore JWTs, so this service never holds the secret."""
    rate_limit: kca.RateLimit = attrs.field(factory=kca.RateLimit)
    """The account's quota: Kore's 60 a minute unless support raised it."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> KoreSettings:
        """Read the CLI's variables, plus ``KORE_TOKEN_URL`` for a token service."""
        return cls(
            host=env.get("KORE_HOST", "https://platform.kore.ai"),
            account_id=env["KORE_ACCOUNT_ID"],
            iid=env["KORE_IID"],
            client_id=env.get("KORE_CLIENT_ID"),
            client_secret=env.get("KORE_CLIENT_SECRET"),
            token_url=env.get("KORE_TOKEN_URL"),
            rate_limit=kca.RateLimit(
                int(env.get("KORE_RATE_LIMIT", "60")), per=float(env.get("KORE_RATE_PERIOD", "60"))
            ),
        )


def token_service(session: aiohttp.ClientSession, url: str) -> kca.TokenProvider:
    """Return a ``token_provider`` that fetches a JWT from ``url`` (``{"token": "..."}``).

    The SDK calls it once per token: it caches the JWT until shortly before its ``exp``, shares
    one fetch among concurrent requests, and fetches anew after a 401. A Vault or cloud
    secrets-manager lookup fits the same shape: any ``async def () -> str`` returning a JWT.
    """

    async def fetch() -> str:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
            response.raise_for_status()
            return str((await response.json())["token"])

    return fetch


@contextlib.asynccontextmanager
async def open_account(settings: KoreSettings) -> AsyncIterator[kca.Account]:
    """Open the backend's one client on the running loop; yield the account it serves."""
    async with contextlib.AsyncExitStack() as stack:
        if settings.token_url is not None:
            session = await stack.enter_async_context(aiohttp.ClientSession())
            client = kca.CampaignClient(
                settings.host,
                token_provider=token_service(session, settings.token_url),
                rate_limit=settings.rate_limit,
            )
        else:
            client = kca.CampaignClient(
                settings.host,
                client_id=settings.client_id,
                client_secret=settings.client_secret,
                rate_limit=settings.rate_limit,
            )
        await stack.enter_async_context(client)
        yield client.account(settings.account_id, iid=settings.iid)
