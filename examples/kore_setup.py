"""Settings and the one client of a web backend, opened on the server's event loop.

A ``CampaignClient`` is bound to the event loop it was opened on (its aiohttp session, limiters
and token cache live there): open it in the server's startup hook (FastAPI's lifespan,
aiohttp's cleanup_ctx), share it across requests, close it at shutdown. Never make one per
request (each would pace the account on its own, breaking Kore's 60 requests a minute per
account) and never carry one to another loop (a thread with ``asyncio.run``, a test's loop).

Under several workers (``uvicorn --workers 3``, gunicorn) each worker is a process with its own
client: set ``KORE_REDIS_URL`` and every worker paces the account through that Redis, together
within Kore's limit; without it each worker paces alone, and together they exceed the limit.
Each worker logs which of the two it does when it starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import attrs

import kore_campaign_async as kca

logger = logging.getLogger(__name__)


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
    redis_url: str | None = attrs.field(default=None, repr=False)  # may carry a password
    """A Redis every worker paces the account through (``redis://host:6379/0``)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> KoreSettings:
        """Read the CLI's variables (``KORE_REDIS_URL`` too), plus ``KORE_TOKEN_URL``."""
        return cls(
            host=env.get("KORE_HOST", "https://platform.kore.ai"),
            account_id=env["KORE_ACCOUNT_ID"],
            iid=env["KORE_IID"],
            client_id=env.get("KORE_CLIENT_ID"),
            client_secret=env.get("KORE_CLIENT_SECRET"),
            token_url=env.get("KORE_TOKEN_URL"),
            redis_url=env.get("KORE_REDIS_URL") or None,
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


def _limit_store(
    settings: KoreSettings, stack: contextlib.AsyncExitStack, log: logging.Logger
) -> kca.LimitStore | None:
    """The Redis store every worker shares, closed after the client; say which mode it is."""
    quota = f"{settings.rate_limit.requests} per {settings.rate_limit.per:g} s"
    if settings.redis_url is None:
        log.info(
            "Kore quota for account %s (%s) paced in this process only: with several workers, "
            "set KORE_REDIS_URL so that they share it",
            settings.account_id,
            quota,
        )
        return None
    store = kca.RedisLimitStore.from_url(settings.redis_url)
    stack.push_async_callback(store.aclose)
    log.info(
        "Kore quota for account %s (%s) shared through Redis (KORE_REDIS_URL) by every worker",
        settings.account_id,
        quota,
    )
    return store


@contextlib.asynccontextmanager
async def open_account(
    settings: KoreSettings, log: logging.Logger = logger
) -> AsyncIterator[kca.Account]:
    """Open the backend's one client on the running loop; yield the account it serves."""
    async with contextlib.AsyncExitStack() as stack:
        store = _limit_store(settings, stack, log)
        if settings.token_url is not None:
            session = await stack.enter_async_context(aiohttp.ClientSession())
            credentials: dict[str, Any] = {
                "token_provider": token_service(session, settings.token_url)
            }
        else:
            credentials = {
                "client_id": settings.client_id,
                "client_secret": settings.client_secret,
            }
        client = kca.CampaignClient(
            settings.host, **credentials, rate_limit=settings.rate_limit, limit_store=store
        )
        await stack.enter_async_context(client)
        yield client.account(settings.account_id, iid=settings.iid)
