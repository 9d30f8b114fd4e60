"""What the fake server saw: one record per request, in arrival order."""

from __future__ import annotations

import attrs


@attrs.frozen
class RequestRecord:
    """One request as the server saw it."""

    #: Arrival time on the server clock.
    at: float
    method: str
    #: The URL path, without the query string.
    path: str
    #: The operation name, or None for a path Kore does not have.
    operation: str | None
    #: The accountId header, or None when it was missing.
    account_id: str | None
    #: Status answered, or None when the connection was dropped without an answer (or the
    #: request is still in flight).
    status: int | None
    #: Kind of the fault applied, or None.
    fault: str | None


class RequestLog:
    """The records of one server, in arrival order."""

    def __init__(self) -> None:
        self._records: list[RequestRecord] = []
        # Bumped by clear(), so a request still in flight cannot settle into a newer log.
        self._generation = 0

    def open(self, record: RequestRecord) -> tuple[int, int]:
        """Record a request on arrival; return the ticket that settles its outcome."""
        self._records.append(record)
        return self._generation, len(self._records) - 1

    def settle(self, ticket: tuple[int, int], status: int | None, fault: str | None) -> None:
        """Fill in how an opened request ended."""
        generation, index = ticket
        if generation == self._generation:
            record = self._records[index]
            self._records[index] = attrs.evolve(record, status=status, fault=fault)

    def clear(self) -> None:
        """Forget every record."""
        self._records.clear()
        self._generation += 1

    def snapshot(self) -> list[RequestRecord]:
        """Return the records so far, oldest first."""
        return list(self._records)

    def count(
        self,
        operation: str | None = None,
        account_id: str | None = None,
        status: int | None = None,
    ) -> int:
        """Count the records matching every filter given (None matches anything)."""
        return sum(
            1
            for record in self._records
            if (operation is None or record.operation == operation)
            and (account_id is None or record.account_id == account_id)
            and (status is None or record.status == status)
        )
