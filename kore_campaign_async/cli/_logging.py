"""``-v/--verbose`` and ``-q/--quiet``: how much of the SDK's logging the CLI shows, on stderr.

The SDK logs under the logger ``kore_campaign_async`` (and its children). The CLI shows its
warnings by default, errors only with ``-q``, INFO with ``-v`` and DEBUG (every attempt) with
``-vv``, one plain line per record, printed through the rich console so that log lines and
live progress bars do not garble each other.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Final

from rich.console import Console

LOGGER: Final = "kore_campaign_async"
_FORMAT: Final = "%(levelname)s %(name)s: %(message)s"
_DEBUG_FORMAT: Final = "%(asctime)s " + _FORMAT


class ConsoleHandler(logging.Handler):
    """Print each record as one line on a rich console (above live progress, if any)."""

    def __init__(self, console: Console, level: int) -> None:
        super().__init__(level)
        self._console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            self._console.print(text, markup=False, highlight=False, soft_wrap=True)
        except Exception:  # logging's contract: a broken handler reports, never raises
            self.handleError(record)


def level_for(verbosity: int) -> int:
    """Return the level for ``-v`` count minus ``-q`` count: WARNING by default."""
    if verbosity <= -1:
        return logging.ERROR
    return {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)


@contextlib.contextmanager
def sdk_logging(console: Console, verbosity: int) -> Iterator[None]:
    """Show the SDK's log records at the chosen level on ``console`` while the block runs."""
    logger = logging.getLogger(LOGGER)
    level = level_for(verbosity)
    handler = ConsoleHandler(console, level)
    handler.setFormatter(logging.Formatter(_DEBUG_FORMAT if level <= logging.DEBUG else _FORMAT))
    saved = logger.level, logger.propagate
    logger.setLevel(level)
    logger.propagate = False  # the CLI owns the output: no second copy through the root logger
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
