"""The argument parser of ``kore-campaign``: commands, their flags and the shared settings."""

from __future__ import annotations

import argparse

import kore_campaign_async as kca

from ._config import OPTIONS

DESCRIPTION = """\
Manage Kore.ai Campaign Management contact lists: one-off commands, a declarative bulk sync
from a CSV or JSON Lines file, and a self-contained demo against an embedded fake server.

Settings come from flags or the environment (flags win). Exit status: 0 success, 1 something
failed, 2 bad usage or input (nothing sent), 130 interrupted (Ctrl-C), 143 terminated
(SIGTERM); after 130 or 143, running the same command again resumes safely.
"""

SYNC_HELP = """\
FILE is CSV (header: account, iid, name, description, allow_duplicates; optional stream_id) or
JSON Lines with the same keys, chosen by extension (.csv, .jsonl, .ndjson). Rows without account
or iid use --account-id/--iid. The whole file is checked before anything is sent. The plan is
printed, then applied per account; lists are matched by name, ignoring case.
An empty cell or a missing key (description, allow_duplicates) leaves that field as it is.
Each account's lists are read once and the plan printed is the plan applied; only when a
deletion was confirmed at the prompt more than 30 seconds later are they read again, and an
account whose new plan would delete a list not shown is then left untouched.
"""

UPDATE_HELP = """\
Kore's answer to an update echoes only what was sent (v2 leaves out even a description it
kept). The output shows each field as Kore answered it, else as sent; a field neither sent nor
answered was not changed: the table says (unchanged) and --json leaves its key out.
"""


def _add_settings(parser: argparse.ArgumentParser) -> None:
    """Add the shared settings; SUPPRESS lets them go before or after the command."""
    group = parser.add_argument_group("settings (flag or environment variable)")
    for option in OPTIONS:
        if option.switch:
            group.add_argument(
                option.flag,
                dest=option.dest,
                action="store_const",
                const="1",
                default=argparse.SUPPRESS,
                help=f"{option.help}; env {option.env}=1",
            )
            continue
        group.add_argument(
            option.flag,
            dest=option.dest,
            default=argparse.SUPPRESS,
            metavar=option.dest.upper(),
            help=f"{option.help}; env {option.env}",
        )


def _add_output(parser: argparse.ArgumentParser) -> None:
    """Add -v/-q; SUPPRESS lets them go before or after the command, like the settings."""
    group = parser.add_argument_group("output")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="show more of the SDK's log (logger kore_campaign_async) on stderr: -v info, "
        "-vv debug (every HTTP attempt); default: warnings and errors",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="count",
        default=argparse.SUPPRESS,
        help="show only errors of the SDK's log",
    )


def _json_flag(parser: argparse.ArgumentParser, shape: str) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help=f"print {shape} as JSON on stdout instead of a table: snake_case keys, ISO 8601 "
        "times, null where Kore gave no value, unknown Kore fields under extra",
    )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be from 0 to 65535, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the parser; ``args.command`` names the command chosen."""
    parser = argparse.ArgumentParser(
        prog="kore-campaign",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {kca.__version__}")
    _add_settings(parser)
    _add_output(parser)
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, help="what to do; COMMAND -h for more"
    )

    def command(
        name: str, help_text: str, epilog: str | None = None, *, settings: bool = True
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text if epilog is None else f"{help_text}\n\n{epilog}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if settings:
            _add_settings(sub)
        _add_output(sub)
        return sub

    _json_flag(command("lists", "list the account's contact lists"), "an array of the lists")

    get = command("get", "show one contact list")
    get.add_argument("id", help="contact list id (cl-...)")
    _json_flag(get, "the list")

    create = command("create", "create a contact list")
    create.add_argument("name", help="list name, at most 48 characters")
    create.add_argument("--description", default="", help="at most 256 characters")
    create.add_argument(
        "--allow-duplicates",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="allow duplicate contacts (Kore's default: no)",
    )
    _json_flag(create, "the list created")

    update = command(
        "update", "change a contact list's name, description or allowDuplicates", UPDATE_HELP
    )
    update.add_argument("id", help="contact list id (cl-...)")
    update.add_argument("--name", help="new name, at most 48 characters")
    update.add_argument("--description", help="new description, at most 256 characters")
    update.add_argument(
        "--allow-duplicates",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="allow duplicate contacts, or not (default: leave as it is); sent through API "
        "v1, since Kore's v2 update has no such field",
    )
    _json_flag(update, "the list after the update (keys of unchanged fields left out)")

    delete = command("delete", "delete a contact list (asks first unless --yes)")
    delete.add_argument("id", help="contact list id (cl-...)")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _json_flag(delete, "the list deleted")

    contacts = command("contacts", "list the contacts of a contact list")
    contacts.add_argument("id", help="contact list id (cl-...)")
    _json_flag(contacts, "an array of the contacts")

    sync = command("sync", "make the accounts' contact lists match a file", SYNC_HELP)
    sync.add_argument("file", metavar="FILE", help="lists.csv, lists.jsonl or lists.ndjson")
    sync.add_argument(
        "--prune",
        action="store_true",
        help="also delete API-made lists not in the file (never lists in use or UI uploads)",
    )
    sync.add_argument("--dry-run", action="store_true", help="print the plan; send no writes")
    sync.add_argument(
        "--report",
        metavar="OUT.jsonl",
        help="write one JSON line per item as it finishes: account, name, action, status, "
        "list_id, attempts, error, reason",
    )
    sync.add_argument("--yes", action="store_true", help="do not ask before deleting lists")

    # The demo talks only to the fake server it starts: Kore settings would be ignored.
    demo = command(
        "demo",
        "provision lists over several accounts against an embedded fake Kore server",
        settings=False,
    )
    demo.add_argument("--accounts", type=_positive_int, default=5, help="accounts (default 5)")
    demo.add_argument(
        "--lists",
        type=_positive_int,
        default=None,
        help="lists per account (default 600); with --processes, lists per process (default 60)",
    )
    demo.add_argument(
        "--processes",
        type=_positive_int,
        default=None,
        help="run N processes on one account, each pacing alone and then sharing a Redis, and "
        "compare their 429s",
    )
    demo.add_argument(
        "--redis-url",
        dest="redis_url",
        default=argparse.SUPPRESS,
        metavar="REDIS_URL",
        help="with --processes: the Redis to share (default: start a redis-server if one is "
        "installed); env KORE_REDIS_URL",
    )
    demo.add_argument(
        "--window",
        type=_positive_float,
        default=1.0,
        help="seconds that stand for Kore's minute: 60 requests per window (default 1.0)",
    )
    demo.add_argument("--no-faults", action="store_true", help="switch injected faults off")
    demo.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the fake server's fault dice (default 0): one seed rolls one sequence, but "
        "concurrent requests meet the rolls in the order they happen to arrive, so which "
        "requests fail, and how many, still varies from run to run",
    )

    fake = command(
        "fake-server",
        "serve the fake Kore server until Ctrl-C, printing its URL, client id and secret",
        settings=False,
    )
    fake.add_argument(
        "--port", type=_port, default=0, help="port on 127.0.0.1 (default: a free one)"
    )
    fake.add_argument(
        "--rate-limit",
        dest="server_limit",
        type=_positive_int,
        default=None,
        metavar="N",
        help="answer 429 past N requests per window per account, as Kore does (default: no limit)",
    )
    fake.add_argument(
        "--window",
        type=_positive_float,
        default=60.0,
        help="the rate-limit window in seconds (default 60, Kore's minute)",
    )
    return parser
