"""What every benchmark shares: run sizes, the compressed time scale, and the request shape."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any, Final

import attrs
import jwt

import kore_campaign_async as kca

#: Kore's window is 60 s; the benchmarks use 1 s, and divide every retry delay by the same.
TIME_SCALE: Final = 60.0
WINDOW: Final = 1.0
#: Kore's documented 60 requests per window.
LIMIT: Final = 60
IID: Final = "st-bench-app"
DESCRIPTION: Final = "Customers whose renewal is due this month"


@attrs.frozen
class Settings:
    """How big each benchmark runs."""

    quick: bool
    overhead_requests: int
    """Creates per client per round."""
    overhead_rounds: int
    """Rounds per client, interleaved; the median round is reported."""
    overhead_concurrency: int
    """Requests in flight per client."""
    goodput_seconds: float
    goodput_accounts: tuple[int, ...]
    scale_sizes: tuple[int, int]
    chaos_items: int
    account_sizes: tuple[int, ...]
    """Accounts driven from one client, smallest first."""
    account_rounds: int

    @classmethod
    def full(cls) -> Settings:
        return cls(
            quick=False,
            # Many short rounds: the median of round-by-round ratios resists this machine's
            # drift better than a few long ones (see _overhead._paired).
            overhead_requests=800,
            overhead_rounds=21,
            overhead_concurrency=16,
            goodput_seconds=10.0,
            goodput_accounts=(1, 10),
            scale_sizes=(1_000, 100_000),
            chaos_items=10_000,
            account_sizes=(100, 1_000, 10_000),
            account_rounds=3,
        )

    @classmethod
    def quick_run(cls) -> Settings:
        return attrs.evolve(
            cls.full(),
            quick=True,
            overhead_requests=150,
            overhead_rounds=2,
            goodput_seconds=2.0,
            scale_sizes=(200, 2_000),
            chaos_items=300,
            account_sizes=(30, 300, 1_000),
            account_rounds=1,
        )


def scaled_retry(**changes: Any) -> kca.RetryPolicy:
    """Return the SDK's default retry policy with every delay divided by TIME_SCALE."""
    default = kca.RetryPolicy()
    scaled = kca.RetryPolicy(
        max_attempts=default.max_attempts,
        backoff_base=default.backoff_base / TIME_SCALE,
        backoff_cap=default.backoff_cap / TIME_SCALE,
        deadline=None if default.deadline is None else default.deadline / TIME_SCALE,
        max_retry_after=default.max_retry_after / TIME_SCALE,
    )
    return attrs.evolve(scaled, **changes)


def names(prefix: str, count: int) -> Iterator[str]:
    """Yield ``count`` distinct list names (Kore allows 48 characters)."""
    for number in range(count):
        yield f"{prefix}-{number:07d}"


def account_ids(count: int) -> list[str]:
    return [f"acct-{number:02d}" for number in range(count)]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


# -- the request a hand-written client sends (the same one the SDK sends) -------------------------


def sign_token(client_id: str, client_secret: str) -> str:
    """Sign the JWT a careful hand-written client would: Kore's claims, HS256."""
    now = time.time()
    claims = {
        "appId": client_id,
        "sub": client_id,
        "iat": int(now - 30),
        "exp": int(now + 300),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, client_secret, algorithm="HS256")


@attrs.frozen
class CreateCall:
    """The v2 createContactList request for one account, as a baseline sends it."""

    url: str
    params: dict[str, str]
    headers: dict[str, str]

    @classmethod
    def build(cls, base_url: str, account_id: str, token: str) -> CreateCall:
        path = f"/campaign/api/v2/public/{IID}/campaign/contactList/createContactList"
        return cls(
            url=base_url + path,
            params={"accountId": account_id},
            headers={"auth": token, "iid": IID, "accountId": account_id},
        )

    @staticmethod
    def body(name: str) -> dict[str, Any]:
        return {"name": name, "description": DESCRIPTION, "source": "passiveApi"}
