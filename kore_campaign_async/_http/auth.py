"""Where the ``auth`` header comes from: a JWT we sign, a static token, or the caller's provider.

Every source caches its token and renews it before expiry; concurrent callers share one renewal,
and a provider's renewal is bounded in time. A call takes its tokens through
:mod:`~.token_flow`. Secrets never appear in a repr.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable
from typing import Protocol

from .._clock import Expired, Sleep, asyncio_sleep, within
from .._config import (
    DEFAULT_TOKEN_TIMEOUT,
    JWT_ALGORITHM,
    JWT_CLOCK_SKEW_SECONDS,
    JWT_LIFETIME_SECONDS,
    JWT_RENEW_BEFORE_SECONDS,
)
from .._exceptions import ConfigurationError, TokenError

TokenProvider = Callable[[], Awaitable[str]]

logger = logging.getLogger("kore_campaign_async.auth")
#: RFC 7518 3.2: an HS256 key should be at least as long as the hash (32 bytes).
HS256_MIN_KEY_BYTES = 32


class TokenSource(Protocol):
    """Supplies the JWT for the ``auth`` header."""

    @property
    def renewable(self) -> bool:
        """Whether invalidate() can lead to a different token."""
        ...

    async def token(self) -> str:
        """Return a token valid for at least a little while."""
        ...

    def ready_token(self) -> str | None:
        """Return what token() would, if that needs no await; else None (then await token())."""
        ...

    def invalidate(self, token: str) -> None:
        """Forget ``token`` (the server rejected it) so the next call renews."""
        ...


class JwtSigner:
    """Sign HS256 JWTs with the app's client secret, cached until shortly before expiry."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        subject: str | None = None,
        lifetime: float = JWT_LIFETIME_SECONDS,
        renew_before: float = JWT_RENEW_BEFORE_SECONDS,
        clock_skew: float = JWT_CLOCK_SKEW_SECONDS,
        now: Callable[[], float] = time.time,
    ) -> None:
        if not client_id or not isinstance(client_id, str):
            raise ConfigurationError("client_id must be a non-empty string")
        if not client_secret or not isinstance(client_secret, str):
            raise ConfigurationError("client_secret must be a non-empty string")
        if lifetime <= renew_before:
            raise ConfigurationError(
                f"jwt lifetime ({lifetime} s) must exceed renew_before ({renew_before} s)"
            )
        if len(client_secret.encode()) < HS256_MIN_KEY_BYTES:
            # Said once, in our words: PyJWT warns from inside its own code, with its source line.
            logger.warning(
                "the client secret is shorter than the %d bytes RFC 7518 recommends for HS256; "
                "it is used as Kore issued it",
                HS256_MIN_KEY_BYTES,
            )
        self.client_id = client_id
        self._secret = client_secret
        self._subject = subject or client_id
        self._lifetime = lifetime
        self._renew_before = renew_before
        self._skew = clock_skew
        self._now = now
        self._token: str | None = None
        self._renew_at = 0.0
        self.signed: int = 0
        """How many tokens this signer has made (renewals included)."""

    def __repr__(self) -> str:
        return f"JwtSigner(client_id={self.client_id!r}, client_secret=<hidden>)"

    @property
    def renewable(self) -> bool:
        return True

    def claims(self, issued: float) -> dict[str, object]:
        """Return the claims of a token issued at ``issued`` (Unix seconds)."""
        return {
            "appId": self.client_id,
            "sub": self._subject,
            "iat": int(issued - self._skew),
            "exp": int(issued + self._lifetime),
            "jti": uuid.uuid4().hex,
        }

    async def token(self) -> str:
        return self.ready_token()

    def ready_token(self) -> str:
        # Signing is synchronous and takes microseconds: with no await between the check and
        # the store, a thousand concurrent callers trigger exactly one signature.
        now = self._now()
        if self._token is None or now >= self._renew_at:
            import jwt  # lazy: PyJWT, with cryptography if installed, costs 10-30 ms to import

            # Newer PyJWT warns on every signature with a short key; older versions do not check.
            short_key = getattr(jwt.warnings, "InsecureKeyLengthWarning", None)
            try:
                with warnings.catch_warnings():
                    if short_key is not None:
                        warnings.simplefilter("ignore", short_key)
                    self._token = jwt.encode(
                        self.claims(now), self._secret, algorithm=JWT_ALGORITHM
                    )
            except Exception as exc:  # PyJWT raises several types; surface one of ours
                raise TokenError(f"could not sign a JWT: {type(exc).__name__}") from None
            self._renew_at = now + self._lifetime - self._renew_before
            self.signed += 1
        return self._token

    def invalidate(self, token: str) -> None:
        if token == self._token:
            self._token = None


def _header_problem(token: object) -> str | None:
    """Say why ``token`` cannot be sent as the ``auth`` header, or None if it can.

    Never quotes the token. aiohttp refuses CR/LF (header injection) with a bare ValueError,
    and other control or non-ASCII characters would be mangled or refused by the server.
    """
    if not isinstance(token, str):
        return f"is a {type(token).__name__}, not a str"
    if not token:
        return "is empty"
    if not (token.isascii() and token.isprintable()):
        return "holds a control or non-ASCII character (a trailing newline read from a file?)"
    if token != token.strip():
        return "has leading or trailing whitespace"
    return None


class StaticToken:
    """A token the caller made; it cannot be renewed."""

    def __init__(self, token: str) -> None:
        if not token or not isinstance(token, str):
            raise ConfigurationError("token must be a non-empty string")
        problem = _header_problem(token)
        if problem is not None:
            del token  # error reporters record the locals of every frame in a traceback
            raise TokenError(f"token {problem}; it cannot be sent as the auth header")
        self._token = token

    def __repr__(self) -> str:
        return "StaticToken(<hidden>)"

    @property
    def renewable(self) -> bool:
        return False

    async def token(self) -> str:
        return self._token

    def ready_token(self) -> str:
        return self._token

    def invalidate(self, token: str) -> None:
        """A static token cannot change: a 401 is final."""


class ProviderToken:
    """Tokens from the caller's async provider, cached until their ``exp`` or a 401.

    A token is renewed ``renew_before`` seconds before its ``exp``, but never in the first
    half of the life it had left when it came (so a token valid a minute or less is used for
    a while too); until it expires it is used while the fresh one is fetched. A token without
    ``exp`` is used until the server refuses it. One fetch at a time, shared by every caller
    that needs a token then, and bounded by ``timeout`` seconds (None: unbounded). A fetch
    that fails or runs out of time, or a token already expired or whose ``exp`` is not a
    number, fails every caller waiting for it with :class:`TokenError`; the next call
    starts a fresh one.
    """

    def __init__(
        self,
        provider: TokenProvider,
        *,
        timeout: float | None = DEFAULT_TOKEN_TIMEOUT,
        renew_before: float = JWT_RENEW_BEFORE_SECONDS,
        now: Callable[[], float] = time.time,
        sleep: Sleep = asyncio_sleep,
    ) -> None:
        if not callable(provider):
            raise ConfigurationError("token_provider must be an async callable returning a str")
        if timeout is not None and (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not 0 < timeout < math.inf
        ):
            raise ConfigurationError(
                f"token_timeout must be None or finite seconds > 0, got {timeout!r}"
            )
        self._provider = provider
        self._timeout = math.inf if timeout is None else float(timeout)
        self._renew_before = renew_before
        self._now = now
        self._sleep = sleep
        self._token: str | None = None
        self._renew_at = math.inf
        self._expires_at = math.inf
        self._pending: asyncio.Future[str] | None = None
        self.fetched: int = 0
        """How many tokens the provider handed out (renewals included)."""

    def __repr__(self) -> str:
        return f"ProviderToken({getattr(self._provider, '__qualname__', 'provider')})"

    @property
    def renewable(self) -> bool:
        return True

    def ready_token(self) -> str | None:
        if self._token is None:
            return None
        now = self._now()
        if now >= self._renew_at:
            if now >= self._expires_at:
                return None
            self._fetching()  # used meanwhile: it is still valid
        return self._token

    async def token(self) -> str:
        ready = self.ready_token()
        if ready is not None:
            return ready
        # Shielded: a caller that gives up does not cancel the fetch the others await.
        return await asyncio.shield(self._fetching())

    def _fetching(self) -> asyncio.Future[str]:
        """Return the fetch in flight, started if there is none (single flight)."""
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._fetch())
            self._pending.add_done_callback(self._fetch_ended)
        return self._pending

    def _fetch_ended(self, fetch: asyncio.Future[str]) -> None:
        # Forgotten as soon as it ends, even if every caller gave up on it: the next call
        # after a failure starts afresh. Its error is marked seen (each caller raises it).
        if self._pending is fetch:
            self._pending = None
        if not fetch.cancelled():
            fetch.exception()

    async def _fetch(self) -> str:
        try:
            token = await within(self._timeout, self._sleep, self._ask())
        except Expired:
            raise TokenError(
                f"token_provider did not answer within token_timeout ({self._timeout:g}s)"
            ) from None
        except asyncio.CancelledError:
            if _cancelling():  # this fetch itself is being cancelled (the loop is closing)
                raise
            # The provider cancelled itself; the callers waiting on it were not cancelled.
            raise TokenError(
                "token_provider raised CancelledError (nobody cancelled this call); "
                "nothing was sent"
            ) from None
        except TokenError:
            raise
        except Exception as exc:
            raise TokenError(f"token_provider failed: {type(exc).__name__}") from _unwound(exc)
        self.fetched += 1
        now = self._now()
        expires_at = _expiry(token, now)
        if isinstance(expires_at, str):
            del token  # error reporters record the locals of every frame in a traceback
            raise TokenError(f"token_provider returned a token that {expires_at}; nothing was sent")
        self._token = token
        self._expires_at = expires_at
        # Renew shortly before expiry, but never in the first half of the life left.
        self._renew_at = max(expires_at - self._renew_before, now + (expires_at - now) / 2)
        return token

    async def _ask(self) -> str:
        """Call the provider and await its answer; a plain function's token is refused."""
        answer: object = self._provider()
        if not inspect.isawaitable(answer):
            kind = type(answer).__name__
            del answer  # it may be the token: error reporters record every frame's locals
            raise TokenError(
                f"token_provider returned a {kind}, not an awaitable: it must be an async "
                "function (async def) returning the token; nothing was sent"
            )
        return await answer  # type: ignore[no-any-return]

    def invalidate(self, token: str) -> None:
        if token == self._token:
            self._token = None


def _cancelling() -> bool:
    """Whether the current task was asked to cancel (Python 3.11+; 3.10 cannot tell: False)."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    return cancelling is not None and cancelling() > 0


def _unwound(error: BaseException) -> BaseException:
    """Return ``error`` with the tracebacks of it and of all it chains dropped.

    The provider's frames (and those of whatever it called) may hold its secrets or the token;
    error reporters record the locals of every frame an error reaches. Type and message stay.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending += [current.__cause__, current.__context__]
    return error


def _expiry(token: object, now: float) -> float | str:
    """Return the Unix time ``token`` expires, or why it cannot be sent.

    ``exp`` is read unverified (we are not the token's audience); none, or no JWT at all:
    ``math.inf``, used until the server refuses it.
    """
    problem = _header_problem(token)
    if problem is not None:
        return problem
    import jwt  # lazy: PyJWT, with cryptography if installed, costs 10-30 ms to import

    try:
        exp = jwt.decode(str(token), options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return math.inf
    if exp is None:
        return math.inf
    if isinstance(exp, bool) or not isinstance(exp, (int, float)) or math.isnan(exp):
        return f"has an exp claim that is not a number (a {type(exp).__name__})"
    if exp <= now:
        return f"expired {now - exp:.0f}s ago (by this machine's clock)"
    return float(exp)


def token_source(
    client_id: str | None,
    client_secret: str | None,
    token: str | None,
    token_provider: TokenProvider | None,
    subject: str | None,
    *,
    token_timeout: float | None,
    sleep: Sleep = asyncio_sleep,
) -> TokenSource:
    """Return the token source for exactly one of client id + secret, token or provider."""
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
