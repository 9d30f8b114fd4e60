"""``-v/--verbose`` and ``-q/--quiet``: how much of the SDK's logging the CLI shows, on stderr.

The SDK logs under the logger ``kore_campaign_async`` (and its children). The CLI shows its
warnings by default, errors only with ``-q``, INFO with ``-v`` and DEBUG (every attempt) with
``-vv``, through rich, so log lines and live progress bars do not garble each other.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Final

from rich.console import Console
from rich.logging import RichHandler

LOGGER: Final = "kore_campaign_async"


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
    handler = RichHandler(
        level=level,
        console=console,
        show_time=level <= logging.DEBUG,
        show_path=False,
        markup=False,
    )
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
