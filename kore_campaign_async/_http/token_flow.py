"""One call's tokens from its client's :class:`~.auth.TokenSource`: waited for within the
call's deadline, renewed at most once after a 401.

The request path drives them, as httpx drives an auth flow: before the account's turn, a
ready token or else ``await fetch(...)`` (a slow source then holds no slot); in the turn, the
ready token or else ``await fetch(...)`` (at once unless it expired while queued); and
``renew(...)`` after a 401. A ready token, the common case, costs the call no coroutine and
no object: what a call must remember (whether it renewed) is one flag of its state, and the
token it sent is in the request it sent.
"""

from __future__ import annotations

from .._clock import Deadline, Expired, Sleep, within
from .._exceptions import TokenError
from .auth import TokenSource
from .transport import HttpRequest, sent_token


async def fetch(source: TokenSource, deadline: Deadline, sleep: Sleep) -> str:
    """Return the token to send, waiting for ``source`` within the call's ``deadline``."""
    try:
        return await within(deadline.left(), sleep, source.token())
    except Expired:
        raise TokenError(
            f"no token within the call's deadline ({deadline.seconds:g}s); nothing sent"
        ) from None


def renew(source: TokenSource, sent: HttpRequest | None, *, renewed: bool) -> bool:
    """After a 401 to ``sent``: forget the token it carried and return True, unless the call
    ``renewed`` already or the source cannot renew (then False)."""
    token = "" if sent is None else sent_token(sent)
    if renewed or not source.renewable or not token:
        return False
    source.invalidate(token)
    return True
