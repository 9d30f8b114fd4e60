"""``CampaignClient``: owns the session, the token source and one limiter per account."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from ssl import SSLContext
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._accounts import Accounts, Dropped, check_same_limits
from ._bulk.outcomes import ReportCallback, SyncReport
from ._bulk.specs import ContactListSpecs
from ._bulk.sync import AccountTarget, PlanCallback, sync_many
from ._clock import Clock, Sleep, asyncio_sleep, monotonic
from ._config import (
    DEFAULT_API_VERSION,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_RATE_LIMIT_PERIOD,
    DEFAULT_RATE_LIMIT_REQUESTS,
    DEFAULT_TOKEN_TIMEOUT,
    ApiVersion,
    Timeout,
)
from ._exceptions import ClientClosedError, ConfigurationError
from ._http.aiohttp_transport import AiohttpTransport
from ._http.auth import JwtSigner, ProviderToken, StaticToken, TokenProvider, TokenSource
from ._http.network import check_network
from ._http.requester import Hooks, Requester
from ._http.retry import RetryBudget, RetryPolicy
from ._http.transport import Transport
from ._quota.limiter import AccountLimiter
from ._quota.pacing import RateLimit
from ._quota.store import AccountKey, LimitStore, LocalLimitStore
from ._resources.contact_lists import ContactLists
from ._wire.base_url import check_base_url
from ._wire.endpoints import AccountRef
from ._wire.models import ContactList
from ._wire.validation import check_api_version, check_id

if TYPE_CHECKING:
    import aiohttp

_UNSET: Any = object()
DEFAULT_RATE_LIMIT = RateLimit(DEFAULT_RATE_LIMIT_REQUESTS, per=DEFAULT_RATE_LIMIT_PERIOD)


def _check_concurrency(value: object, field: str = "max_concurrency") -> int:
    if type(value) is not int or value < 1:
        raise ConfigurationError(f"{field} must be a positive integer, got {value!r}")
    return value


def _check_max_response_bytes(value: object) -> int | None:
    if value is not None and (type(value) is not int or value < 1):
        raise ConfigurationError(
            f"max_response_bytes must be a positive integer or None, got {value!r}"
        )
    return value


class Account:
    """One Kore account (and app) as seen by the client: ``account.contact_lists``."""

    _dropped: Dropped | None = None

    def __init__(
        self,
        ref: AccountRef,
        requester: Requester,
        *,
        api_version: ApiVersion,
        bulk_concurrency: int,
        dropped: Dropped | None = None,
    ) -> None:
        self.ref: AccountRef = ref
        self.limiter: AccountLimiter = requester.limiter
        #: The retry budget this account's calls spend (None: unlimited retries).
        self.retry_budget: RetryBudget | None = requester.budget
        self.contact_lists: ContactLists = ContactLists(
            requester, api_version=api_version, bulk_concurrency=bulk_concurrency
        )
        self._dropped = dropped  # last: a handle that failed to build has nothing to keep

    @property
    def account_id(self) -> str:
        return self.ref.account_id

    @property
    def iid(self) -> str:
        return self.ref.iid

    @property
    def stream_id(self) -> str:
        return self.ref.stream_id

    def __repr__(self) -> str:
        return f"Account(account_id={self.account_id!r}, iid={self.iid!r})"

    def __del__(self) -> None:
        # Freed: the client keeps the limiter only while it holds state (see _accounts.py).
        if self._dropped is not None:
            self._dropped(self.account_id, self.limiter, self.retry_budget)


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
        timeout: Timeout | float | None = _UNSET,
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
        self._base_url = check_base_url(host, allow_insecure_http=allow_insecure_http)
        self.host: str = self._base_url.url
        self._auth = self._make_auth(
            client_id,
            client_secret,
            token,
            token_provider,
            jwt_subject,
            token_timeout=token_timeout,
            sleep=sleep,
        )
        try:
            self.api_version = check_api_version(api_version)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        self.timeout: Timeout = Timeout() if timeout is _UNSET else Timeout.coerce(timeout)
        self.retry: RetryPolicy = retry if retry is not None else RetryPolicy()
        if not isinstance(self.retry, RetryPolicy):
            raise ConfigurationError("retry must be a RetryPolicy")
        # Unset: each account gets a budget of its own, so one account's outage cannot make
        # another fail fast. A budget given here is shared by every account on purpose.
        self._budget_per_account = retry_budget is _UNSET
        self.retry_budget: RetryBudget | None = None if retry_budget is _UNSET else retry_budget
        if self.retry_budget is not None and not isinstance(self.retry_budget, RetryBudget):
            raise ConfigurationError("retry_budget must be a RetryBudget or None")
        if rate_limit is not None and not isinstance(rate_limit, RateLimit):
            raise ConfigurationError("rate_limit must be a RateLimit or None")
        self.rate_limit = rate_limit
        self.max_concurrency: int = _check_concurrency(max_concurrency)
        self.max_response_bytes: int | None = _check_max_response_bytes(max_response_bytes)
        self.adaptive = adaptive
        self.hooks: Hooks = hooks or Hooks()
        self._clock = clock
        self._sleep = sleep
        if transport is not None and session is not None:
            raise ConfigurationError("give session or transport, not both")
        custom = "session" if session is not None else None if transport is None else "transport"
        network = check_network(self.host, trust_env=trust_env, proxy=proxy, ssl=ssl, custom=custom)
        self._transport = AiohttpTransport(session, network) if transport is None else transport
        self._closed = False
        # Where every account's pacing lives: this process (default), or a store shared by
        # every process on the account (e.g. RedisLimitStore), never closed by the client.
        self.limit_store: LimitStore = (
            limit_store if limit_store is not None else LocalLimitStore(clock=clock)
        )
        self._accounts: Accounts[Account] = Accounts(budget_per_account=self._budget_per_account)

    @staticmethod
    def _make_auth(
        client_id: str | None,
        client_secret: str | None,
        token: str | None,
        token_provider: TokenProvider | None,
        subject: str | None,
        *,
        token_timeout: float | None,
        sleep: Sleep,
    ) -> TokenSource:
        given = [
            client_secret is not None or client_id is not None,
            token is not None,
            token_provider is not None,
        ]
        if sum(given) != 1:
            raise ConfigurationError(
                "give exactly one of client_id+client_secret, token, or token_provider"
            )
        if token is not None:
            return StaticToken(token)
        if token_provider is not None:
            return ProviderToken(token_provider, timeout=token_timeout, sleep=sleep)
        if not client_id or not client_secret:
            raise ConfigurationError("client_id and client_secret must both be given")
        return JwtSigner(client_id, client_secret, subject=subject)

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
        if rate_limit not in (_UNSET, None) and not isinstance(rate_limit, RateLimit):
            raise ConfigurationError("rate_limit must be a RateLimit or None")
        if max_concurrency is not None:
            _check_concurrency(max_concurrency)
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
        key = (ref.account_id, ref.iid, ref.stream_id)
        cached = self._accounts.handles.get(key)
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
            budget = RetryBudget() if self._budget_per_account else self.retry_budget
            self._accounts.add(ref.account_id, limiter, budget)
        requester = Requester(
            base_url=self.host,
            account=ref,
            transport=self._transport,
            auth=self._auth,
            limiter=limiter,
            policy=self.retry,
            budget=budget,
            timeout=self.timeout,
            hooks=self.hooks,
            clock=self._clock,
            sleep=self._sleep,
            max_response_bytes=self.max_response_bytes,
        )
        handle = Account(
            ref,
            requester,
            api_version=self.api_version,
            bulk_concurrency=limiter.max_concurrency,
            dropped=self._accounts.dropped,
        )
        self._accounts.handles[key] = handle
        return handle

    def forget_idle(self) -> int:
        """Free the accounts whose handles are gone and which became idle; return how many.

        Done as a matter of course whenever more accounts are kept than at the last sweep;
        call it to free them sooner.
        """
        return self._accounts.forget_idle()

    async def sync_many(
        self,
        targets: Mapping[Account, ContactListSpecs] | list[AccountTarget],
        *,
        prune: bool = False,
        dry_run: bool = False,
        on_outcome: ReportCallback | None = None,
        on_plan: PlanCallback | None = None,
        keep_results: bool = False,
        listings: Mapping[str, Sequence[ContactList]] | None = None,
    ) -> dict[str, SyncReport]:
        """Sync many accounts at once, each at its own pace; reports keyed by account id.

        ``on_plan`` sees each account's plan before any write of that account is sent; an
        exception it raises fails that account (its report carries the error) and no other.
        A credentials or permission failure stops the writes of that account only.
        ``listings`` (lists already read, by account id) spares those accounts a second read.
        """
        return await sync_many(
            targets,
            prune=prune,
            dry_run=dry_run,
            on_outcome=on_outcome,
            on_plan=on_plan,
            keep_results=keep_results,
            listings=listings,
        )

    async def aclose(self) -> None:
        """Close the transport (a session passed in stays open). Safe to call twice."""
        if not self._closed:
            self._closed = True
            try:
                for limiter in self._accounts.all_limiters():
                    await limiter.aclose()  # outcomes still on their way to the store
            finally:
                await self._transport.aclose()

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
