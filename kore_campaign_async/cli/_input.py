"""Read a sync input file (CSV or JSON Lines) into contact lists grouped by account.

Parsing is pure (:func:`parse_input` takes text) and checks the whole file before anything is
sent: every problem is reported as ``file:line: field: message`` and none is fatal on its own.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final, Literal

import attrs

from kore_campaign_async import ContactListCreate, ValidationError
from kore_campaign_async._wire.validation import check_id

from ._config import names_of

InputFormat = Literal["csv", "jsonl"]
COLUMNS: Final = ("account", "iid", "stream_id", "name", "description", "allow_duplicates")
# Spellings people write for the same column (compared after lower-casing).
_ALIASES: Final = {
    "account_id": "account",
    "accountid": "account",
    "streamid": "stream_id",
    "allowduplicates": "allow_duplicates",
}
_TRUE: Final = frozenset({"true", "yes", "1"})
_FALSE: Final = frozenset({"false", "no", "0"})
_EXTENSIONS: Final[Mapping[str, InputFormat]] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_ID_FIELDS: Final = (("account", "account_id"), ("iid", "iid"), ("stream_id", "stream_id"))


@attrs.frozen
class AccountKey:
    """Where a row's list lives: the account and the app (stream id defaults to iid)."""

    account_id: str
    iid: str
    stream_id: str | None = None


@attrs.frozen
class Defaults:
    """Account settings for rows that leave them out (from flags or environment)."""

    account_id: str | None = None
    iid: str | None = None
    stream_id: str | None = None


@attrs.frozen
class InputRow:
    """One valid row: its line, its account and the list it asks for."""

    line: int
    account: AccountKey
    spec: ContactListCreate


@attrs.frozen
class InputProblem:
    """One thing wrong with the input, located as precisely as possible."""

    path: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class InputFileError(Exception):
    """The input file has problems; nothing may be sent."""

    def __init__(self, problems: list[InputProblem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = tuple(problems)


def input_format(path: str) -> InputFormat:
    """Tell the format from the extension: .csv, or .jsonl/.ndjson for JSON Lines."""
    found = _EXTENSIONS.get(Path(path).suffix.lower())
    if found is None:
        message = "cannot tell the format: name the file *.csv, *.jsonl or *.ndjson"
        raise InputFileError([InputProblem(path, None, None, message)])
    return found


def parse_bool(value: object) -> bool | None:
    """Read allow_duplicates: true/false/yes/no/1/0 (any case); empty or null means None."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "":
            return None
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
    raise ValueError(f"must be true/false, yes/no, 1/0 or empty, got {value!r}")


class _Parser:
    """Collect rows and problems for one file."""

    def __init__(self, path: str, defaults: Defaults, *, csv: bool) -> None:
        self.path = path
        self.defaults = defaults
        self.csv = csv
        self.rows: list[InputRow] = []
        self.problems: list[InputProblem] = []

    def problem(self, line: int | None, field: str | None, message: str) -> None:
        self.problems.append(InputProblem(self.path, line, field, message))

    def record(self, line: int, fields: Mapping[str, Any]) -> None:
        """Check one record's fields; keep it as a row when all of them are valid."""
        before = len(self.problems)
        ids: dict[str, str | None] = {}
        for column, dest in _ID_FIELDS:
            ids[column] = self._identifier(line, column, dest, fields.get(column))
        name = fields.get("name")
        if name is None:
            self.problem(line, "name", "is required")
        # Absent, null or an empty CSV cell: "do not care", the list keeps its description.
        description = fields.get("description")
        if description == "" and self.csv:
            description = None
        allow_duplicates, bad_flag = None, None
        try:
            allow_duplicates = parse_bool(fields.get("allow_duplicates"))
        except ValueError as exc:
            bad_flag = str(exc)
        spec = None
        if name is not None:
            # The SDK's own checks, with its limits and messages (the first bad field).
            try:
                spec = ContactListCreate(
                    name=name, description=description, allow_duplicates=allow_duplicates
                )
            except ValidationError as exc:
                self.problem(line, exc.field, exc.message)
        if bad_flag is not None:
            self.problem(line, "allow_duplicates", bad_flag)
        if len(self.problems) > before or spec is None:
            return
        iid = str(ids["iid"])
        # A stream id equal to the iid is the default spelled out: the same app.
        stream_id = None if ids["stream_id"] == iid else ids["stream_id"]
        account = AccountKey(str(ids["account"]), iid, stream_id)
        self.rows.append(InputRow(line, account, spec))

    def _identifier(self, line: int, column: str, dest: str, value: Any) -> str | None:
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            default: str | None = getattr(self.defaults, dest)
            if default is None and column != "stream_id":
                self.problem(line, column, f"is empty and no default is set ({names_of(dest)})")
            return default
        try:
            return check_id(column, value)
        except ValidationError as exc:
            self.problem(line, column, exc.message)
            return None

    def finish(self) -> list[InputRow]:
        self._check_accounts()
        if not self.rows and not self.problems:
            self.problem(None, None, "no contact lists in the file")
        if self.problems:
            raise InputFileError(self.problems)
        return self.rows

    def _check_accounts(self) -> None:
        """One app per account, and names unique per account regardless of case."""
        first_key: dict[str, tuple[int, AccountKey]] = {}
        names: dict[tuple[str, str], int] = {}
        for row in self.rows:
            account_id = row.account.account_id
            seen = first_key.setdefault(account_id, (row.line, row.account))
            if seen[1] != row.account:
                field = "iid" if seen[1].iid != row.account.iid else "stream_id"
                self.problem(
                    row.line,
                    field,
                    f"account {account_id} uses {field} {getattr(seen[1], field)!r} on line "
                    f"{seen[0]}; give one {field} per account",
                )
            key = (account_id, row.spec.name.lower())
            if key in names:
                self.problem(
                    row.line,
                    "name",
                    f"{row.spec.name!r} repeats line {names[key]} "
                    "(names are unique per account, ignoring case)",
                )
            else:
                names[key] = row.line


def _normalize(column: str) -> str:
    name = column.strip().lower().replace(" ", "_").replace("-", "_")
    return _ALIASES.get(name, name)


def _csv_records(text: str, parser: _Parser) -> Iterator[tuple[int, dict[str, str]]]:
    # newline="" lets the csv module see quoted line breaks, as its docs require.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    line = 0
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            if header is None:
                header = _csv_header(start, cells, parser)
                if header is None:
                    return
                continue
            if len(cells) != len(header):
                parser.problem(
                    start, None, f"has {len(cells)} fields, the header has {len(header)}"
                )
                continue
            yield start, dict(zip(header, cells, strict=True))
    except csv.Error as exc:
        parser.problem(reader.line_num, None, f"malformed CSV: {exc}")
    if header is None and not parser.problems:
        parser.problem(None, None, f"empty file; expected a header row: {', '.join(COLUMNS)}")


def _csv_header(line: int, cells: list[str], parser: _Parser) -> list[str] | None:
    header = [_normalize(cell) for cell in cells]
    before = len(parser.problems)
    for index, column in enumerate(header):
        if column not in COLUMNS:
            parser.problem(line, cells[index].strip() or f"column {index + 1}", _unknown("column"))
        elif header.index(column) != index:
            parser.problem(line, column, "column appears twice")
    if "name" not in header:
        parser.problem(line, "name", "missing column")
    for column, dest in _ID_FIELDS[:2]:
        if column not in header and getattr(parser.defaults, dest) is None:
            parser.problem(line, column, f"missing column and no default is set ({names_of(dest)})")
    return header if len(parser.problems) == before else None


def _unknown(kind: str) -> str:
    return f"unknown {kind}; expected some of {', '.join(COLUMNS)}"


def _jsonl_records(text: str, parser: _Parser) -> Iterator[tuple[int, dict[str, Any]]]:
    # Split on "\n" only: JSON strings may hold U+2028, which str.splitlines() breaks on.
    for line, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            parser.problem(line, None, f"malformed JSON: {exc.msg} (column {exc.colno})")
            continue
        if not isinstance(value, dict):
            parser.problem(line, None, f"expected a JSON object, got {type(value).__name__}")
            continue
        record: dict[str, Any] = {}
        for key, item in value.items():
            column = _normalize(key)
            if column not in COLUMNS:
                parser.problem(line, key, _unknown("field"))
            else:
                record[column] = item
        if len(record) == len(value):
            yield line, record


def parse_input(text: str, path: str, defaults: Defaults, fmt: InputFormat) -> list[InputRow]:
    """Parse and check a whole file's text; raise InputFileError listing every problem."""
    parser = _Parser(path, defaults, csv=fmt == "csv")
    text = text.removeprefix("\ufeff")  # a byte-order mark is not part of the first column
    records = _csv_records(text, parser) if fmt == "csv" else _jsonl_records(text, parser)
    for line, fields in records:
        parser.record(line, fields)
    return parser.finish()


def group_by_account(rows: list[InputRow]) -> dict[AccountKey, list[ContactListCreate]]:
    """Group rows by account, keeping file order within each and across accounts."""
    groups: dict[AccountKey, list[ContactListCreate]] = {}
    for row in rows:
        groups.setdefault(row.account, []).append(row.spec)
    return groups


def read_input(path: str, defaults: Defaults) -> dict[AccountKey, list[ContactListCreate]]:
    """Read, parse and check ``path``; raise InputFileError when anything is wrong with it."""
    fmt = input_format(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputFileError([InputProblem(path, None, None, exc.strerror or str(exc))]) from None
    try:
        # utf-8-sig drops the byte-order mark spreadsheet programs put at the start.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        message = f"not UTF-8 text (byte 0x{data[exc.start]:02x})"
        raise InputFileError([InputProblem(path, line, None, message)]) from None
    return group_by_account(parse_input(text, path, defaults, fmt))
