"""-v/-q set how much of the logger kore_campaign_async the CLI shows, on stderr only."""

from __future__ import annotations

import io
import logging

import pytest
from rich.console import Console

from kore_campaign_async import JwtSigner
from kore_campaign_async.cli._logging import LOGGER, level_for, sdk_logging
from kore_campaign_async.testing import FakeKoreServer
from tests.helpers.cli import Cli


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


def test_a_short_secret_is_one_warning_of_ours_not_pyjwts(caplog: pytest.LogCaptureFixture) -> None:
    # filterwarnings = error: a warning from PyJWT would fail the signature here.
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        signer = JwtSigner("cs-short", "short-secret")
        first = signer.ready_token()
        signer.invalidate(first)
        assert signer.ready_token() != first
    assert [(record.name, record.levelno) for record in caplog.records] == [
        (f"{LOGGER}.auth", logging.WARNING)
    ]
    assert "shorter than the 32 bytes RFC 7518 recommends" in caplog.records[0].getMessage()
    assert "short-secret" not in caplog.text


# The fake server verifies the short-key tokens in this process, where PyJWT warns too.
@pytest.mark.filterwarnings("ignore:The HMAC key is")
async def test_the_cli_says_a_short_secret_in_one_line_and_q_hides_it(cli: Cli) -> None:
    async with FakeKoreServer(apps={"cs-short": "short-secret"}) as kore:
        env = {
            "KORE_HOST": kore.url,
            "KORE_CLIENT_ID": "cs-short",
            "KORE_CLIENT_SECRET": "short-secret",
        }
        run = await cli("lists", env=env)
        assert run.code == 0, run.err
        assert run.err.count("\n") == 1, run.err
        assert "the client secret is shorter than the 32 bytes" in run.err
        assert "InsecureKeyLengthWarning" not in run.err
        assert "short-secret" not in run.err

        quiet = await cli("lists", "-q", env=env)
        assert quiet.code == 0, quiet.err
        assert quiet.err == ""
