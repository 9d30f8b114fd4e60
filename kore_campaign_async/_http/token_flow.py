"""One call's tokens from its account's :class:`~.auth.TokenSource`: waited for within the
call's deadline, renewed at most once after a 401."""

from __future__ import annotations

from .._clock import Deadline, Expired, Sleep, within
from .._exceptions import TokenError
from .auth import TokenSource


class TokenFlow:
    """One call's tokens: waited for within its deadline, renewed at most once after a 401.

    The request path drives it, as httpx drives an auth flow: ``await ready()`` before the
    account's turn (a slow source then holds no slot), ``await token()`` in the turn (at once
    unless the token expired while queued), and ``renew()`` after a 401.
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

    async def ready(self) -> None:
        """Wait until the source has a token ready."""
        if self._source.ready_token() is None:
            await self._fetch()

    async def token(self) -> str:
        """Return the token to send now."""
        token = self._source.ready_token()
        self._sent = token if token is not None else await self._fetch()
        return self._sent

    def renew(self) -> bool:
        """After a 401: forget the token sent and return True, once per flow; else False."""
        if not self._renewals or self._sent is None:
            return False
        self._renewals -= 1
        self._source.invalidate(self._sent)
        return True

    async def _fetch(self) -> str:
        try:
            return await within(self._deadline.left(), self._sleep, self._source.token())
        except Expired:
            raise TokenError(
                f"no token within the call's deadline ({self._deadline.seconds:g}s); nothing sent"
            ) from None
