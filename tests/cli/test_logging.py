"""-v/-q set how much of the logger kore_campaign_async the CLI shows, on stderr only."""

from __future__ import annotations

import io
import logging

import pytest
from rich.console import Console

from kore_campaign_async.cli._logging import LOGGER, level_for, sdk_logging

from .conftest import Cli


@pytest.mark.parametrize(
    ("verbosity", "level"),
    [(-2, logging.ERROR), (-1, logging.ERROR), (0, logging.WARNING), (1, logging.INFO)],
)
def test_levels(verbosity: int, level: int) -> None:
    assert level_for(verbosity) == level
    assert level_for(2) == level_for(5) == logging.DEBUG


def test_records_show_at_the_level_chosen_and_the_logger_is_restored_after() -> None:
    logger = logging.getLogger(LOGGER)
    before = (logger.level, logger.propagate, list(logger.handlers))
    console = Console(file=io.StringIO(), width=200)
    with sdk_logging(console, 1):
        logging.getLogger(f"{LOGGER}.limits").info("account paused for 12 s")
        logger.debug("an attempt")
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "account paused for 12 s" in text
    assert "an attempt" not in text
    assert (logger.level, logger.propagate, list(logger.handlers)) == before


async def test_vv_shows_each_attempt_on_stderr_and_the_default_does_not(cli: Cli) -> None:
    loud = await cli("lists", "--json", "-vv")
    assert loud.code == 0, loud.err
    assert "attempt 1 -> 200" in loud.err
    assert loud.out.startswith("[")  # stdout stays pure JSON

    plain = await cli("lists", "--json")
    assert plain.code == 0, plain.err
    assert plain.err == ""
