"""Where the ``auth`` header comes from: a JWT we sign, a static token, or the caller's provider.

Every source caches its token and renews it before expiry; concurrent callers share one renewal,
and a provider's renewal is bounded in time. Secrets never appear in a repr.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable
from typing import Protocol

import jwt
import jwt.warnings

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
#: Newer PyJWT warns on every signature with a short key; older versions do not check.
_SHORT_KEY_WARNING: type[Warning] | None = getattr(jwt.warnings, "InsecureKeyLengthWarning", None)


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
            try:
                with warnings.catch_warnings():
                    if _SHORT_KEY_WARNING is not None:
                        warnings.simplefilter("ignore", _SHORT_KEY_WARNING)
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
    """Tokens from the caller's async provider, cached until its ``exp`` nears or a 401.

    One fetch at a time, shared by every caller that needs a token then, and bounded by
    ``timeout`` seconds (None: unbounded). A fetch that fails or runs out of time fails all
    of them with :class:`TokenError`; the next call starts a fresh one.
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
        self._renew_at = float("inf")
        self._pending: asyncio.Future[str] | None = None
        self.fetched: int = 0

    def __repr__(self) -> str:
        return f"ProviderToken({getattr(self._provider, '__qualname__', 'provider')})"

    @property
    def renewable(self) -> bool:
        return True

    def ready_token(self) -> str | None:
        if self._token is not None and self._now() < self._renew_at:
            return self._token
        return None

    async def token(self) -> str:
        ready = self.ready_token()
        if ready is not None:
            return ready
        if self._pending is None:
            # Single flight: the first caller fetches, everyone else awaits the same future.
            self._pending = asyncio.ensure_future(self._fetch())
            self._pending.add_done_callback(self._fetch_ended)
        # Shielded: a caller that gives up does not cancel the fetch the others await.
        return await asyncio.shield(self._pending)

    def _fetch_ended(self, fetch: asyncio.Future[str]) -> None:
        # Forgotten as soon as it ends, even if every caller gave up on it: the next call
        # after a failure starts afresh. Its error is marked seen (each caller raises it).
        if self._pending is fetch:
            self._pending = None
        if not fetch.cancelled():
            fetch.exception()

    async def _fetch(self) -> str:
        try:
            token = await within(self._timeout, self._sleep, self._provider())
        except Expired:
            raise TokenError(
                f"token_provider did not answer within token_timeout ({self._timeout:g}s)"
            ) from None
        except Exception as exc:
            raise TokenError(f"token_provider failed: {type(exc).__name__}") from exc
        problem = _header_problem(token)
        if problem is not None:
            del token  # error reporters record the locals of every frame in a traceback
            raise TokenError(f"token_provider returned a token that {problem}; nothing was sent")
        self._token = token
        self._renew_at = self._expiry(token) - self._renew_before
        self.fetched += 1
        return token

    @staticmethod
    def _expiry(token: str) -> float:
        """Read ``exp`` without verifying (we are not the audience); no exp means no expiry."""
        try:
            exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
        except jwt.PyJWTError:
            return float("inf")
        return float(exp) if isinstance(exp, (int, float)) else float("inf")

    def invalidate(self, token: str) -> None:
        if token == self._token:
            self._token = None


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
