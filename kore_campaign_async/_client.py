"""``CampaignClient``: owns the session, the token source and one limiter per account."""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable, Mapping, Sequence
from ssl import SSLContext
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._accounts import Account, Accounts, check_same_limits
from ._clock import Clock, Sleep, asyncio_sleep, monotonic
from ._config import (
    DEFAULT_API_VERSION,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TOKEN_TIMEOUT,
    ApiVersion,
    Timeout,
    require_positive_int,
)
from ._exceptions import ClientClosedError, ConfigurationError
from ._http.auth import TokenProvider, TokenSource, token_source
from ._http.client_calls import ClientCalls
from ._http.gate import DEFAULT_CLOSE_GRACE, CallGate
from ._http.policy import RetryBudget, RetryPolicy
from ._http.requester import Requester, call_observer
from ._http.transport import Transport
from ._observe import otel_loader
from ._observe.hooks import Hooks
from ._quota.limiter import AccountLimiter
from ._quota.places import PlaceSizing, WirePlaces
from ._quota.rate_limit import DEFAULT_RATE_LIMIT, RateLimit
from ._quota.store import AccountKey, LimitStore, LocalLimitStore
from ._wire.endpoints import AccountRef
from ._wire.models import ContactList
from ._wire.validation import check_id

if TYPE_CHECKING:
    import aiohttp

    from ._bulk.outcomes import ReportCallback, SyncReport
    from ._bulk.specs import ContactListSpecs
    from ._bulk.sync import PlanCallback
    from ._bulk.sync_many import AccountTarget


class _Unset(enum.Enum):
    """An argument left out, whose default is decided later (readable in ``help()``)."""

    PER_ACCOUNT = "per account"

    def __repr__(self) -> str:
        return f"<{self.value}>"


_UNSET: Any = _Unset.PER_ACCOUNT
DEFAULT_TIMEOUT = Timeout()


class CampaignClient:
    """Async client for Kore.ai Campaign Management contact lists.

    Give exactly one of ``client_id`` + ``client_secret`` (the SDK signs JWTs), ``token`` (a JWT
    you made) or ``token_provider`` (an async callable returning a JWT). Use it as
    ``async with CampaignClient(...) as client:`` or call ``await client.aclose()``.

    Requests go out over aiohttp: a session of the client's own, or ``session`` (never closed
    by the client). ``transport`` replaces aiohttp altogether, e.g.
    ``kore_campaign_async.testing.MockTransport(handler)`` in tests; the client closes it.

    ``limit_store`` shares each account's pacing (permits, the pause after a 429, what the
    pacing learned, the rate-limit settings) with every process using the same store:
    ``RedisLimitStore.from_url(...)`` paces an account cluster-wide. By default the pacing
    lives in this process. The client never closes a store it was given.

    A client belongs to the event loop it is first used on (``EventLoopMismatchError``).

    ``token_timeout`` bounds each ``token_provider`` fetch (seconds; None: unbounded).
    ``max_response_bytes`` bounds each answer read (64 MiB by default, tens of thousands of
    lists in one getAllListDetails; None: unbounded): a longer one raises
    ``ResponseTooLargeError`` without being read whole.

    ``proxy`` (``http://user:password@proxy:3128``), ``ssl`` (an ``SSLContext``, or False for
    no TLS checks) and ``trust_env`` (``HTTPS_PROXY``/``NO_PROXY``; never ``.netrc``) set up the
    client's own session; see the README's "Proxies and TLS".
    """

    def __init__(
        self,
        host: str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        token: str | None = None,
        token_provider: TokenProvider | None = None,
        token_timeout: float | None = DEFAULT_TOKEN_TIMEOUT,
        jwt_subject: str | None = None,
        api_version: ApiVersion = DEFAULT_API_VERSION,
        timeout: Timeout | float | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        retry_budget: RetryBudget | None = _UNSET,
        rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        adaptive: bool = True,
        hooks: Hooks | None = None,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        trust_env: bool = True,
        proxy: str | None = None,
        ssl: SSLContext | bool | None = None,
        limit_store: LimitStore | None = None,
        clock: Clock = monotonic,
        sleep: Sleep = asyncio_sleep,
        allow_insecure_http: bool = False,
    ) -> None:
        # lazy: the settings' checks, network settings and aiohttp transport load with the first
        # client (~2.5 ms of import), not with the package
        from ._http.aiohttp_transport import AiohttpTransport
        from ._http.network import check_network
        from ._settings import ClientSettings

        # Checked first and whole: a bad setting fails here, before anything is opened.
        settings = ClientSettings(
            host,
            api_version=api_version,
            timeout=timeout,
            retry=retry,
            retry_budget=None if retry_budget is _UNSET else retry_budget,
            # Unset: each account gets a budget of its own, so one account's outage cannot make
            # another fail fast. A budget given here is shared by every account on purpose.
            budget_per_account=retry_budget is _UNSET,
            rate_limit=rate_limit,
            max_concurrency=max_concurrency,
            max_response_bytes=max_response_bytes,
            adaptive=adaptive,
            allow_insecure_http=allow_insecure_http,
        )
        self._store_from_env: LimitStore | None = None  # made by from_env, closed by aclose
        self.host: str = settings.host
        self._base_url = settings.base_url
        self._auth = token_source(
            client_id,
            client_secret,
            token,
            token_provider,
            jwt_subject,
            token_timeout=token_timeout,
            sleep=sleep,
        )
        self.api_version: ApiVersion = settings.api_version
        self.timeout: Timeout = settings.timeout
        self.retry: RetryPolicy = settings.retry
        self._budget_per_account = settings.budget_per_account
        self.retry_budget: RetryBudget | None = settings.retry_budget
        self.rate_limit: RateLimit | None = settings.rate_limit
        self.max_concurrency: int = settings.max_concurrency
        self.max_response_bytes: int | None = settings.max_response_bytes
        self.adaptive: bool = settings.adaptive
        self.hooks: Hooks = hooks or Hooks()
        self._telemetry = otel_loader.telemetry()
        self._clock = clock
        self._sleep = sleep
        if transport is not None and session is not None:
            raise ConfigurationError("give session or transport, not both")
        custom = "session" if session is not None else None if transport is None else "transport"
        network = check_network(self.host, trust_env=trust_env, proxy=proxy, ssl=ssl, custom=custom)
        self._transport = AiohttpTransport(session, network) if transport is None else transport
        # A place on the wire for each connection of the caller's bounded pool at most, shared
        # by every account: a permit is taken only with a connection to use (see AccountLimiter),
        # and only as many are kept as carry more requests a second (see WirePlaces).
        self._places: WirePlaces | None = None
        if isinstance(self._transport, AiohttpTransport):
            connections = self._transport.connection_limit
            if connections is not None:
                self._places = WirePlaces(PlaceSizing(connections), clock=clock)
        self._closed = False
        # Every call enters here first: the loop checked, new calls refused once closing.
        self._gate = CallGate(getattr(session, "_loop", None))
        # Where every account's pacing lives: this process (default), or a store shared by
        # every process on the account (e.g. RedisLimitStore), never closed by the client.
        self._local_store: LocalLimitStore | None = None
        if limit_store is None:
            limit_store = self._local_store = LocalLimitStore(clock=clock)
        self.limit_store: LimitStore = limit_store
        self._accounts = Accounts(budget_per_account=self._budget_per_account)
        self._calls = self._client_calls()

    @classmethod
    def from_env(
        cls, host: str | None = None, *, env: Mapping[str, str] | None = None, **kwargs: Any
    ) -> CampaignClient:
        """Build a client from the CLI's ``KORE_*`` variables; an argument wins over its own."""
        from ._env import read_env  # lazy: it imports the Redis store, which most users never use

        found = read_env(os.environ if env is None else env, kwargs, host)
        client = cls(**found.kwargs)
        client._store_from_env = found.limit_store
        return client

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"CampaignClient(host={self.host!r}, api_version={self.api_version!r}, {state})"

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def auth(self) -> TokenSource:
        """The token source (its repr never shows secrets)."""
        return self._auth

    def _client_calls(self) -> ClientCalls:
        """What every account's calls share: made again only when OpenTelemetry appears."""
        return ClientCalls(
            base_url=self.host,
            transport=self._transport,
            auth=self._auth,
            policy=self.retry,
            timeout=self.timeout,
            observer=call_observer(self.hooks, self._telemetry),
            clock=self._clock,
            sleep=self._sleep,
            max_response_bytes=self.max_response_bytes,
            gate=self._gate,
        )

    def account(
        self,
        account_id: str,
        *,
        iid: str,
        stream_id: str | None = None,
        rate_limit: RateLimit | None = _UNSET,
        max_concurrency: int | None = None,
    ) -> Account:
        """Return the handle for one account; ``stream_id`` (v2 paths) defaults to ``iid``.

        Limits are per account id: every handle for the same account shares one limiter, so
        the limit holds however many handles or tasks use it. ``rate_limit`` and
        ``max_concurrency`` override the client's defaults for this account; they are fixed by
        the first call for an account, and a later call that asks for other values raises
        ConfigurationError rather than being ignored. Unless the client was given a shared
        ``retry_budget``, each account has a retry budget of its own.

        Calling it per web request is fine: a handle nobody references is freed once its
        account is idle (nothing in flight or waiting, no pause, a full retry budget); the
        pacing lives on in ``limit_store``. An account's limits are remembered for good.
        """
        if self.closed:
            raise ClientClosedError("the client is closed; create a new CampaignClient")
        ref = AccountRef(
            check_id("account_id", account_id),
            check_id("iid", iid),
            check_id("stream_id", stream_id) if stream_id is not None else iid,
        )
        if rate_limit is not _UNSET:
            from ._settings import check_rate_limit  # lazy: loaded by the client's constructor

            check_rate_limit(rate_limit)
        if max_concurrency is not None:
            require_positive_int("max_concurrency", max_concurrency)
        limits = self._accounts.limits.get(ref.account_id)
        if limits is None:
            limits = self._accounts.remember(
                ref.account_id,
                (
                    self.rate_limit if rate_limit is _UNSET else rate_limit,
                    max_concurrency or self.max_concurrency,
                ),
            )
        check_same_limits(
            ref.account_id,
            limits,
            limits[0] if rate_limit is _UNSET else rate_limit,
            max_concurrency,
        )
        self._accounts.sweep_if_grown()
        cached = self._accounts.handles.get(ref)
        if cached is not None:
            return cached
        alive = self._accounts.limiter(ref.account_id)
        if alive is not None:
            limiter, budget = alive
        else:
            limiter = AccountLimiter(
                limits[0],
                limits[1],
                clock=self._clock,
                sleep=self._sleep,
                adaptive=self.adaptive,
                store=self.limit_store,
                key=AccountKey(self._base_url.origin, ref.account_id),
            )
            if self._places is not None:
                limiter._send_through(self._places)
            budget = RetryBudget() if self._budget_per_account else self.retry_budget
            self._accounts.add(ref.account_id, limiter, budget)
        if otel_loader.telemetry() is not self._telemetry:  # OpenTelemetry was imported since
            self._telemetry = otel_loader.telemetry()
            self._calls = self._client_calls()
        requester = Requester(self._calls, ref, limiter, budget)
        handle = Account(
            ref,
            requester,
            api_version=self.api_version,
            bulk_concurrency=limiter.max_concurrency,
            keeper=self._accounts,
        )
        self._accounts.handles[ref] = handle
        return handle

    def forget_idle(self) -> int:
        """Free the accounts whose handles are gone and which became idle; return how many.

        Done as a matter of course whenever more accounts are kept than at the last sweep;
        call it to free them sooner. The client's own pacing store (not one it was given)
        drops the pacing of accounts that now pace as fresh ones, too.
        """
        freed = self._accounts.forget_idle()
        if self._local_store is not None:
            self._local_store.forget_idle()
        return freed

    async def sync_many(
        self,
        targets: Mapping[Account, ContactListSpecs] | Iterable[AccountTarget],
        *,
        prune: bool = False,
        dry_run: bool = False,
        on_outcome: ReportCallback | None = None,
        on_plan: PlanCallback | None = None,
        concurrency: int | None = None,
        keep_results: bool = False,
        listings: Mapping[str, Sequence[ContactList]] | None = None,
    ) -> dict[str, SyncReport]:
        """Sync many accounts at once, each at its own pace; reports keyed by account id.

        Every desired set is checked before anything is sent to any account. ``on_plan`` sees
        each account's plan before any write of that account is sent; an exception it raises
        fails that account (its report carries the error) and no other. A credentials or
        permission failure stops the writes of that account only. ``concurrency`` is per
        account (default: its ``max_concurrency``); ``listings`` (lists already read, by
        account id) spares those accounts a second read.
        """
        from ._bulk.sync_many import sync_many  # lazy: the bulk machinery is ~5 ms of import

        return await sync_many(
            targets,
            prune=prune,
            dry_run=dry_run,
            on_outcome=on_outcome,
            on_plan=on_plan,
            concurrency=concurrency,
            keep_results=keep_results,
            listings=listings,
        )

    async def aclose(self, *, grace: float = DEFAULT_CLOSE_GRACE) -> None:
        """Close the client: refuse new calls, let calls in flight finish, close the transport.

        New calls raise ``ClientClosedError`` at once, nothing sent. Calls in flight (their
        retries included) get up to ``grace`` seconds (10 by default; 0: none) to finish; then
        the connections close under those still running, and each fails with an error whose
        ``request_sent`` says whether it may have been applied. A session passed in stays
        open. Safe to call twice; from another event loop it raises ``EventLoopMismatchError``
        and closes nothing.
        """
        if not self._closed:
            self._gate.close(grace)  # raises before anything is closed
            self._closed = True
            try:
                await self._gate.drain(grace, self._sleep)
                for limiter in self._accounts.all_limiters():
                    await limiter.aclose()  # outcomes still on their way to the store
            finally:
                await self._transport.aclose()
                if self._store_from_env is not None:
                    await self._store_from_env.aclose()

    async def __aenter__(self) -> CampaignClient:
        if self.closed:
            raise ClientClosedError("the client is closed; create a new CampaignClient")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
