"""The error that ends a call, as it leaves the request path: how far the call got, no frames.

No error leaves with frames below the request path or a context its raiser suppressed: those
frames hold answers (which may echo the token) and requests, and error reporters record the
locals of every frame of a raised error and of what it chains.
"""

from __future__ import annotations

import asyncio

from .._exceptions import ClientClosedError, KoreError, RetryBudgetExhaustedError
from .calls import CallState


def ended(error: BaseException, state: CallState | None) -> BaseException:
    """Shape ``error``, which ends a call (``state``: what its attempts shared, None if it ended
    before its first turn); return it."""
    attempts, lost = (0, None) if state is None else (state.attempts, state.lost)
    if isinstance(error, asyncio.CancelledError):
        # How far it got, for a bulk job to report whether the item may have been applied.
        error.attempts = attempts  # type: ignore[attr-defined]
        return error
    if not isinstance(error, KoreError):
        return error
    error.attempts = attempts
    if isinstance(error, ClientClosedError) and lost is not None:
        # Closed before the lost answer could be recovered: it may have been applied.
        error.request_sent = True
        error.args = (
            f"{error}; an earlier attempt's answer was lost, so the "
            "server may have applied it (request_sent=True)",
        )
        error.__cause__ = _bare(lost)
    if isinstance(error, RetryBudgetExhaustedError) and error.last_error is not None:
        error.last_error.attempts = attempts  # type: ignore[attr-defined]
    return _bare(error)


def _bare(error: KoreError) -> KoreError:
    """Drop ``error``'s frames below the request path and a context its raiser suppressed."""
    error.__traceback__ = None
    if error.__suppress_context__:
        error.__context__ = None
    return error
