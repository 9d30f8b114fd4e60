"""Run one parsed command: consoles, the event loop, and errors turned into exit statuses."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import signal
import sys
from collections.abc import Mapping
from typing import Final, TextIO, cast

from rich.console import Console

from kore_campaign_async import ConfigurationError, KoreError, ValidationError

from . import _exit
from ._commands import COMMANDS, open_account, open_client
from ._config import OPTIONS, resolve_settings
from ._exit import UsageError
from ._input import InputFileError
from ._logging import sdk_logging
from ._sync_cmd import cmd_sync

_RESUME: Final = "Requests in flight were abandoned; running the same command again resumes safely."
#: Input problems printed before "and N more".
PROBLEMS_SHOWN: Final = 50
# Piped output is read by scripts and people alike: do not wrap tables at 80 columns.
_PIPE_WIDTH: Final = 200


class TrimmedLines(io.TextIOBase):
    """A pipe or file: rich pads every table row to the table's width; cut those spaces."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._line = ""  # the last line's start, until its end is written

    @property
    def encoding(self) -> str:  # type: ignore[override]  # io.TextIOBase declares it read-only
        return self._stream.encoding

    def write(self, text: str) -> int:
        *lines, self._line = (self._line + text).split("\n")
        self._stream.writelines(line.rstrip(" ") + "\n" for line in lines)
        return len(text)

    def flush(self) -> None:
        # A line without its end yet (a prompt) goes out as it is.
        self._stream.write(self._line)
        self._line = ""
        self._stream.flush()


def _console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr)
    # A text stream in all but name: typing's IO[str] is a nominal class, not a protocol.
    return Console(file=cast("TextIO", TrimmedLines(stream)), width=_PIPE_WIDTH)


def ask(question: str) -> bool:
    """Ask on the terminal; with no terminal to ask on, refuse to guess."""
    if not sys.stdin.isatty():
        raise UsageError(f"{question} Cannot ask: stdin is not a terminal; pass --yes to confirm")
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in ("y", "yes")


async def _dispatch(
    args: argparse.Namespace, env: Mapping[str, str], out: Console, err: Console
) -> int:
    if args.command == "demo":
        # Imported here: the demo brings the fake server (aiohttp.web), which every other
        # command would otherwise load at start for nothing.
        from ._demo_cmd import cmd_demo

        given = [
            option.flag
            for option in OPTIONS
            if getattr(args, option.dest, None) is not None and option.dest != "redis_url"
        ]
        if given:
            raise UsageError(
                f"demo runs against its own embedded fake server; {', '.join(given)} would be "
                "ignored: leave them out"
            )
        return await cmd_demo(args, env, out, err)
    if args.command == "fake-server":
        from ._fake_server import cmd_fake_server  # the fake server loads aiohttp.web

        return await cmd_fake_server(args.port, args.server_limit, args.window, out)
    settings = resolve_settings(vars(args), env)
    if args.command == "sync":
        return await cmd_sync(args, settings, out, err, ask)
    command = COMMANDS[args.command]
    # Nothing connects before the first request: bad settings are reported with nothing sent.
    async with open_client(settings) as client:
        return await command(args, open_account(client, settings), out, ask)


class Terminated(Exception):
    """SIGTERM stopped the command: its task was cancelled, like Ctrl-C cancels it."""


async def _main(
    args: argparse.Namespace, env: Mapping[str, str], out: Console, err: Console
) -> int:
    """Run the command; SIGTERM cancels it as Ctrl-C does, so cleanup runs the same way."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    terminated = False

    def on_sigterm() -> None:
        nonlocal terminated
        terminated = True
        # A second SIGTERM ends the process at once, for a supervisor that will not wait.
        loop.remove_signal_handler(signal.SIGTERM)
        task.cancel()

    # Windows event loops take no signal handlers: there SIGTERM keeps its default.
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    try:
        return await _dispatch(args, env, out, err)
    except asyncio.CancelledError:
        if terminated:
            raise Terminated from None
        raise
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGTERM)


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Run the command ``args`` names and return the exit status."""
    out, err = _console(stderr=False), _console(stderr=True)
    verbosity = getattr(args, "verbose", 0) - getattr(args, "quiet", 0)
    try:
        with sdk_logging(err, verbosity):
            return asyncio.run(_main(args, env, out, err))
    except InputFileError as exc:
        for problem in exc.problems[:PROBLEMS_SHOWN]:
            err.print(str(problem), highlight=False, markup=False)
        hidden = len(exc.problems) - PROBLEMS_SHOWN
        if hidden > 0:
            err.print(f"... and {hidden} more problems", highlight=False)
        err.print("Nothing was sent.", highlight=False)
        return _exit.USAGE
    except (UsageError, ConfigurationError, ValidationError) as exc:
        # Raised before anything was sent: bad flags, settings or arguments.
        err.print(f"kore-campaign: error: {exc}", highlight=False, markup=False)
        return _exit.USAGE
    except KoreError as exc:
        err.print(f"kore-campaign: {type(exc).__name__}: {exc}", highlight=False, markup=False)
        return _exit.FAILED
    except KeyboardInterrupt:
        err.print(f"Interrupted. {_RESUME}", highlight=False)
        return _exit.INTERRUPTED
    except Terminated:
        err.print(f"Terminated (SIGTERM). {_RESUME}", highlight=False)
        return _exit.TERMINATED
