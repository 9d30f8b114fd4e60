"""``Account`` handles and the client's bookkeeping of them: limits for good, limiters while used.

A web backend may call ``client.account(...)`` per request, for thousands of accounts. So a
handle is held weakly: once nothing references it (and no call runs on it), it is freed with
its requester, limiter and retry budget, unless the account still holds state that a later
handle must see: requests in flight or waiting, a pause running, a spent retry budget. Then the
limiter is kept until it is idle. The pacing itself (permits, pause, what was learned) lives in
the limit store, which drops it once it paces as a fresh account (``LocalLimitStore``).

What stays of an idle account is its limits (a dict entry; equal limits share one tuple), so a
later ``client.account()`` asking for other limits is still refused.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Final

from ._config import ApiVersion
from ._exceptions import ConfigurationError
from ._http.policy import RetryBudget
from ._http.requester import Requester
from ._quota.limiter import AccountLimiter
from ._quota.rate_limit import RateLimit
from ._resources.contact_lists import ContactLists
from ._wire.endpoints import AccountRef

Limits = tuple[RateLimit | None, int]
"""An account's rate limit and max concurrency."""
# Fewest kept (busy when dropped) accounts before a sweep frees the idle ones.
_MIN_SWEEP: Final = 64


class Account:
    """One Kore account (and app) as seen by the client: ``account.contact_lists``."""

    __slots__ = ("__weakref__", "_keeper", "contact_lists", "limiter", "ref", "retry_budget")

    def __init__(
        self,
        ref: AccountRef,
        requester: Requester,
        *,
        api_version: ApiVersion,
        bulk_concurrency: int,
        keeper: Accounts | None = None,
    ) -> None:
        self._keeper: Accounts | None = None
        self.ref: AccountRef = ref
        self.limiter: AccountLimiter = requester.limiter
        #: The retry budget this account's calls spend (None: unlimited retries).
        self.retry_budget: RetryBudget | None = requester.budget
        self.contact_lists: ContactLists = ContactLists(
            requester, api_version=api_version, bulk_concurrency=bulk_concurrency
        )
        self._keeper = keeper  # last: a handle that failed to build has nothing to keep

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
        # Freed: the client keeps the limiter only while it holds state (see Accounts).
        if self._keeper is not None:
            self._keeper.dropped(self.account_id, self.limiter, self.retry_budget)


def check_same_limits(
    account_id: str, limits: Limits, rate_limit: RateLimit | None, max_concurrency: int | None
) -> None:
    """Refuse limits that differ from the ones the account already has: never ignore them."""
    fixed = "Limits are fixed by the first client.account() call for an account: give them there"
    if rate_limit != limits[0]:
        raise ConfigurationError(
            f"account {account_id!r} already has rate_limit={limits[0]!r}; "
            f"asked for {rate_limit!r}. {fixed}"
        )
    if max_concurrency is not None and max_concurrency != limits[1]:
        raise ConfigurationError(
            f"account {account_id!r} already has max_concurrency={limits[1]}; "
            f"asked for {max_concurrency}. {fixed}"
        )


class _Alive(weakref.ref[AccountLimiter]):
    """An account's limiter, held weakly, with its retry budget: one object per account."""

    __slots__ = ("account_id", "budget")
    account_id: str
    budget: RetryBudget | None


class Accounts:
    """Limits per account id, handles per (account, iid, stream), one limiter per account."""

    def __init__(self, *, budget_per_account: bool) -> None:
        self._budget_per_account = budget_per_account
        self.limits: dict[str, Limits] = {}
        self._distinct: dict[Limits, Limits] = {}
        # By AccountRef (equal for equal account id, iid and stream id): the handle's own ref
        # is the key, no tuple per handle.
        self.handles: weakref.WeakValueDictionary[AccountRef, Account] = (
            weakref.WeakValueDictionary()
        )
        # Each account's limiter (weakly) and budget, while anything uses or keeps them.
        self._alive: dict[str, _Alive] = {}
        self._gone = _forgetter(weakref.ref(self))
        # Limiters whose handles were dropped while they held state: kept until idle.
        self._kept: dict[str, AccountLimiter] = {}
        self._sweep_at = _MIN_SWEEP

    def remember(self, account_id: str, limits: Limits) -> Limits:
        """Fix ``account_id``'s limits for good (equal limits share one tuple)."""
        limits = self._distinct.setdefault(limits, limits)
        self.limits[account_id] = limits
        return limits

    def limiter(self, account_id: str) -> tuple[AccountLimiter, RetryBudget | None] | None:
        """The account's limiter and retry budget, while anything uses or keeps them."""
        alive = self._alive.get(account_id)
        limiter = None if alive is None else alive()
        return None if limiter is None or alive is None else (limiter, alive.budget)

    def add(self, account_id: str, limiter: AccountLimiter, budget: RetryBudget | None) -> None:
        """Register the account's (new) limiter and budget."""
        alive = _Alive(limiter, self._gone)
        alive.account_id = account_id
        alive.budget = budget
        self._alive[account_id] = alive

    def all_limiters(self) -> list[AccountLimiter]:
        """Every limiter alive now."""
        limiters = (alive() for alive in list(self._alive.values()))
        return [limiter for limiter in limiters if limiter is not None]

    def dropped(self, account_id: str, limiter: AccountLimiter, budget: RetryBudget | None) -> None:
        """A handle was freed (from ``__del__``): keep its limiter while it holds state."""
        if not self._idle(limiter, budget):
            self._kept[account_id] = limiter
        elif self._kept.get(account_id) is limiter:
            del self._kept[account_id]

    def sweep_if_grown(self) -> None:
        """Free the idle kept limiters once their number doubled since the last sweep."""
        if len(self._kept) >= self._sweep_at:
            self.forget_idle()
            self._sweep_at = max(_MIN_SWEEP, 2 * len(self._kept))

    def forget_idle(self) -> int:
        """Let go of every kept limiter that became idle; return how many."""
        freed = 0
        # Over a copy: a handle freed by the garbage collector meanwhile may add to _kept.
        for account_id, limiter in self._kept.copy().items():
            alive = self._alive.get(account_id)
            if self._idle(limiter, None if alive is None else alive.budget):
                freed += self._kept.pop(account_id, None) is not None
        # New tables, sized for what is alive: a dict never shrinks its table on deletion,
        # and thousands of accounts that came and went would leave theirs behind.
        self.handles = weakref.WeakValueDictionary(self.handles)
        self._alive = dict(self._alive)
        self._kept = dict(self._kept)
        return freed

    def _idle(self, limiter: AccountLimiter, budget: RetryBudget | None) -> bool:
        """Whether freeing the limiter and budget loses nothing a later handle must see."""
        if not limiter.idle:
            return False
        # A budget given to the client is shared by every account: it lives on with the client.
        return not self._budget_per_account or budget is None or budget.available >= budget.capacity


def _forgetter(accounts: weakref.ref[Accounts]) -> Callable[[_Alive], None]:
    """The callback of every ``_Alive`` of ``accounts``: drop the entry of a freed limiter
    (weakly: the accounts hold their entries, which hold this)."""

    def gone(alive: _Alive) -> None:
        owner = accounts()
        if owner is not None and owner._alive.get(alive.account_id) is alive:
            del owner._alive[alive.account_id]

    return gone
