"""Async Python SDK for the Kore.ai Campaign Management contact-list APIs."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
