"""Scripted failures: which request gets which fault, in insertion order, with a seeded RNG."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, Literal, get_args

import attrs

from ._routes import OPERATIONS

FaultKind = Literal[
    "status",
    "reset",
    "delay",
    "commit_then_drop",
    "malformed_json",
    "commit_then_answer",
    "echo_auth",
    "pass",
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
"""What each kind does to a matching request:

- ``status``: answer ``status`` with ``body`` and ``headers``; nothing is done.
- ``reset`` / ``delay``: drop the connection / answer normally after ``delay`` seconds.
- ``commit_then_drop``: do the operation, then close the connection without an answer.
- ``malformed_json``: do the operation, then answer the first half of its JSON.
- ``commit_then_answer``: do the operation, then answer ``status`` with ``body`` (bytes are
  sent as they are, as ``application/json``) instead of the real answer.
- ``echo_auth``: answer ``status`` with an error body and an ``X-Echo-Auth`` header that
  repeat the request's ``auth`` header, as a careless proxy or debug endpoint does.
- ``pass``: answer normally (a placeholder that uses up one of a script's requests).
"""


def _read_only(headers: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(headers))


def _none_or_positive(_: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{attribute.name} must be None or at least 1, got {value!r}")


@attrs.frozen
class Fault:
    """One failure rule: what to do to the requests it matches, and how many of them."""

    kind: FaultKind = attrs.field(validator=attrs.validators.in_(FAULT_KINDS))
    #: Operation name ("create", "update", "get", "list", "delete", "contacts", "add_contacts");
    #: None matches any.
    operation: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.in_(OPERATIONS))
    )
    #: The accountId header to match; None matches any.
    account_id: str | None = None
    #: Matching requests this rule applies to; None means every one.
    times: int | None = attrs.field(default=1, validator=_none_or_positive)
    #: Chance that a matching request gets the fault (rolled on the server's seeded RNG).
    probability: float = attrs.field(
        default=1.0, validator=[attrs.validators.ge(0.0), attrs.validators.le(1.0)]
    )
    #: Status answered by a "status" fault.
    status: int = attrs.field(
        default=503, validator=[attrs.validators.ge(100), attrs.validators.le(599)]
    )
    #: Body of a "status" or "commit_then_answer" fault: JSON-able, a str sent as text/plain,
    #: or bytes sent as they are. None means ``{"errors": [{"msg": <reason phrase>, "code":
    #: status}]}``.
    body: Any = None
    #: Extra headers on a "status" answer.
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_read_only)
    #: Seconds a "delay" fault waits before answering normally.
    delay: float = attrs.field(default=0.0, validator=attrs.validators.ge(0.0))

    def error_body(self) -> Any:
        """Return the body a "status" fault answers with."""
        if self.body is not None:
            return self.body
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:
            reason = "Injected fault"
        return {"errors": [{"msg": reason, "code": self.status}]}


@attrs.define
class _Rule:
    fault: Fault
    remaining: int | None


class FaultPlan:
    """The ordered fault rules of one server."""

    def __init__(self, seed: int = 0) -> None:
        self._rules: list[_Rule] = []
        self._rng = random.Random(seed)

    def add(self, fault: Fault) -> None:
        """Append one rule; earlier rules win."""
        self._rules.append(_Rule(fault, fault.times))

    def add_many(self, faults: Iterable[Fault]) -> None:
        """Append a script: the rules apply in the given order."""
        for fault in faults:
            self.add(fault)

    def clear(self) -> None:
        """Forget every rule."""
        self._rules.clear()

    def reseed(self, seed: int) -> None:
        """Restart the probability rolls from ``seed``."""
        self._rng.seed(seed)

    @property
    def pending(self) -> list[Fault]:
        """Return the rules that can still fire, in order."""
        return [rule.fault for rule in self._rules]

    def __len__(self) -> int:
        return len(self._rules)

    def pick(self, operation: str | None, account_id: str | None) -> Fault | None:
        """Return the fault for this request and use up one of its times, or None."""
        for position, rule in enumerate(self._rules):
            fault = rule.fault
            if fault.operation is not None and fault.operation != operation:
                continue
            if fault.account_id is not None and fault.account_id != account_id:
                continue
            if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining == 0:
                    # Spent rules go, so a long script does not slow every later request.
                    del self._rules[position]
            return fault
        return None
