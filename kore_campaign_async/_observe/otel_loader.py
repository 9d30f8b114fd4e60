"""Whether the SDK's calls record to OpenTelemetry: :mod:`.otel` loads when one finds it imported.

Nothing can record before the application imports OpenTelemetry (or sets a provider that
imports it), so neither OpenTelemetry nor the SDK's telemetry is imported up front: that would
only make every user pay for their import.
"""

from __future__ import annotations

import enum
import sys
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .otel import Telemetry


def load() -> Telemetry | None:
    """Return the telemetry, or None when OpenTelemetry is not installed."""
    try:
        from opentelemetry import context, metrics, trace
    except ImportError:
        return None
    from .otel import Telemetry  # lazy: of no use until OpenTelemetry is imported

    # A provider named by OTEL_PYTHON_TRACER_PROVIDER is set on the first ask: ask now (as
    # Telemetry's get_meter does for the meter provider), so that the globals show it.
    trace.get_tracer_provider()
    return Telemetry(trace, context, metrics)


class _Pending(enum.Enum):
    PENDING = "pending"


#: PENDING until a call finds OpenTelemetry imported (by the application, or by a provider it
#: set), then what :func:`load` made of it: None without OpenTelemetry.
_loaded: Telemetry | Literal[_Pending.PENDING] | None = _Pending.PENDING


def telemetry() -> Telemetry | None:
    """Return the telemetry, loading it on the first call that finds OpenTelemetry imported."""
    global _loaded
    if _loaded is _Pending.PENDING:
        if "opentelemetry" not in sys.modules:
            return None
        _loaded = load()
    return _loaded
