"""One call's tokens from its account's :class:`~.auth.TokenSource`: waited for within the
call's deadline, renewed at most once after a 401."""

from __future__ import annotations

from .._clock import Deadline, Expired, Sleep, within
from .._exceptions import TokenError
from .auth import TokenSource


class TokenFlow:
    """One call's tokens: waited for within its deadline, renewed at most once after a 401.

    The request path drives it, as httpx drives an auth flow: before the account's turn,
    ``ready()`` or else ``await fetch()`` (a slow source then holds no slot); in the turn,
    ``token()`` or else ``await fetch()`` (at once unless the token expired while queued); and
    ``renew()`` after a 401. The checks that need no await are plain calls: a ready token, the
    common case, costs the call no coroutine.
    """

    __slots__ = ("_deadline", "_renewals", "_sent", "_sleep", "_source")

    def __init__(self, source: TokenSource, deadline: Deadline, sleep: Sleep) -> None:
        self._source = source
        self._deadline = deadline
        self._sleep = sleep
        self._renewals = 1 if source.renewable else 0
        self._sent: str | None = None

    def __repr__(self) -> str:
        return f"TokenFlow({self._source!r})"

    def ready(self) -> bool:
        """Return whether the source has a token ready now (else ``await fetch()``)."""
        return self._source.ready_token() is not None

    def token(self) -> str | None:
        """Return the token to send now if the source has one ready, else None (then
        ``await fetch()``)."""
        token = self._source.ready_token()
        if token is not None:
            self._sent = token
        return token

    async def fetch(self) -> str:
        """Return the token to send, waiting for the source within the call's deadline."""
        try:
            token = await within(self._deadline.left(), self._sleep, self._source.token())
        except Expired:
            raise TokenError(
                f"no token within the call's deadline ({self._deadline.seconds:g}s); nothing sent"
            ) from None
        self._sent = token
        return token

    def renew(self) -> bool:
        """After a 401: forget the token sent and return True, once per flow; else False."""
        if not self._renewals or self._sent is None:
            return False
        self._renewals -= 1
        self._source.invalidate(self._sent)
        return True
