"""Stop a bulk job's sending when the account itself is refused.

A 401 that survived the SDK's token renewal, or a 403, says the credentials or the account's
rights are wrong: every later request of the job would meet the same answer, and at Kore's 60
requests a minute a 10,000-item job would spend hours collecting them. A
:class:`RateLimitError` that survived the retry policy (the account kept answering 429 through
every pause the policy waits out, or its pause outlasts them) says the account refuses more
requests for now: every later item would wait out the same pauses to meet the same answer.
After the first such failure the job sends nothing more; each remaining item ends "failed"
with ``attempts == 0`` and a reason naming the cause. Items already in flight finish as they
will.
"""

from __future__ import annotations

from typing import Final

import attrs

from .._exceptions import AuthenticationError, KoreError, PermissionDeniedError, RateLimitError
from .._observe import log as observe
from .outcomes import Outcome, failed_outcome
from .plan import Action

#: Failures that concern the account or its credentials, not the item.
ACCOUNT_FAILURES: Final = (AuthenticationError, PermissionDeniedError, RateLimitError)


class AccountHalt:
    """One job's switch: thrown by the first account-wide failure, checked before each send."""

    def __init__(self, account_id: str = "") -> None:
        self.account_id = account_id
        self.cause: KoreError | None = None
        self._reason = ""

    def note(self, error: BaseException, name: str) -> None:
        """Throw the switch if ``error`` (raised for item ``name``) concerns the account."""
        if self.cause is None and isinstance(error, ACCOUNT_FAILURES):
            self.cause = error
            remedy = (
                "the account refuses requests for now: run again later"
                if isinstance(error, RateLimitError)
                else "fix the credentials or the account's permissions, then run again"
            )
            self._reason = (
                f"not sent: the job stopped after {name!r} failed with "
                f"{type(error).__name__}: {error} ({remedy})"
            )
            observe.bulk_halted(self.account_id, name, error)

    def lose_lease(self, name: str) -> None:
        """Throw the switch: the job's lease ``name`` was lost, another run may hold it now."""
        if self.cause is None:
            self.cause = KoreError(f"the account's {name!r} lease was lost")
            self._reason = (
                f"not sent: the job lost the account's {name!r} lease (the limit store lost it, "
                "or it expired) and another run may hold it now; run again"
            )

    def not_sent(self, *, index: int, account_id: str, name: str, action: Action) -> Outcome | None:
        """Return the "failed, not sent" outcome of an item once the switch is thrown, else None."""
        if self.cause is None:
            return None
        failed = failed_outcome(
            index=index, account_id=account_id, name=name, action=action, error=self.cause
        )
        return attrs.evolve(failed, attempts=0, reason=self._reason)
