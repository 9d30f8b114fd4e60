"""--help documents every flag, and -v/-q go before or after the command like the settings."""

from __future__ import annotations

import argparse

import pytest

import kore_campaign_async as kca
from kore_campaign_async.cli import main
from kore_campaign_async.cli._parser import build_parser


def _parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (commands,) = (
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    return {"kore-campaign": parser, **commands.choices}


@pytest.mark.parametrize("name", list(_parsers()))
def test_every_flag_and_argument_has_help(name: str) -> None:
    parser = _parsers()[name]
    for action in parser._actions:
        assert action.help, (name, action.option_strings or action.dest)
        assert action.help != argparse.SUPPRESS, (name, action.option_strings or action.dest)


def test_json_help_says_what_the_output_looks_like() -> None:
    parsers = _parsers()
    for name in ("lists", "get", "create", "update", "delete", "contacts"):
        text = parsers[name].format_help()
        assert "--json" in text
        assert "snake_case" in text
        assert "ISO 8601" in text


def test_main_help_names_every_exit_status() -> None:
    text = " ".join(build_parser().format_help().split())
    for status in ("0 success", "1 something failed", "2 bad usage", "130 interrupted", "143"):
        assert status in text


@pytest.mark.parametrize(
    ("argv", "verbose", "quiet"),
    [
        (["lists"], 0, 0),
        (["-v", "lists"], 1, 0),
        (["lists", "-vv"], 2, 0),
        (["--quiet", "lists"], 0, 1),
        (["demo", "-q"], 0, 1),
    ],
)
def test_verbosity_flags_go_anywhere(argv: list[str], verbose: int, quiet: int) -> None:
    args = build_parser().parse_args(argv)
    assert (getattr(args, "verbose", 0), getattr(args, "quiet", 0)) == (verbose, quiet)


def test_sync_help_states_when_lists_are_read_again() -> None:
    from kore_campaign_async.cli._apply import RELIST_AFTER

    text = " ".join(_parsers()["sync"].format_help().split())
    assert "read once" in text
    assert f"more than {RELIST_AFTER:g} seconds later" in text


@pytest.mark.parametrize("argv", [["-v", "lists", "-q"], ["lists", "-q", "-vv"], ["-vq", "lists"]])
def test_v_and_q_together_are_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "-v/--verbose and -q/--quiet cannot be used together" in capsys.readouterr().err


def test_version_prints_the_packages_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"kore-campaign {kca.__version__}\n"


def test_demo_seed_help_says_what_it_seeds() -> None:
    seed = _parsers()["demo"].format_help()
    assert "seed of the fake server's fault dice" in seed
    assert "still varies from run to run" in " ".join(seed.split())
