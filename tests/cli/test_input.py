"""Input files: every row checked before anything is sent, problems located as file:line: field."""

from __future__ import annotations

from pathlib import Path

import pytest

from kore_campaign_async import ContactListCreate
from kore_campaign_async.cli._input import (
    AccountKey,
    Defaults,
    InputFileError,
    InputProblem,
    input_format,
    parse_bool,
    parse_input,
    read_input,
)

NO_DEFAULTS = Defaults()
HEADER = "account,iid,name,description,allow_duplicates\n"


def problems(text: str, fmt: str = "csv", defaults: Defaults = NO_DEFAULTS) -> list[str]:
    with pytest.raises(InputFileError) as caught:
        parse_input(text, f"lists.{fmt}", defaults, fmt)  # type: ignore[arg-type]
    return [str(problem) for problem in caught.value.problems]


def test_csv_rows_become_specs_in_file_order() -> None:
    text = HEADER + "a1,st-1,First,One,true\na1,st-1,Second,,\na2,st-2,Third,Three,no\n"
    rows = parse_input(text, "lists.csv", NO_DEFAULTS, "csv")
    assert [(row.line, row.account, row.spec) for row in rows] == [
        (
            2,
            AccountKey("a1", "st-1"),
            ContactListCreate(name="First", description="One", allow_duplicates=True),
        ),
        (3, AccountKey("a1", "st-1"), ContactListCreate(name="Second")),
        (
            4,
            AccountKey("a2", "st-2"),
            ContactListCreate(name="Third", description="Three", allow_duplicates=False),
        ),
    ]


def test_the_documented_example_error_names_file_line_field_and_limit() -> None:
    rows = "".join(f"a,st,List {n},,\n" for n in range(5))
    text = HEADER + rows + "a,st," + "x" * 49 + ",,\n"
    assert problems(text) == ["lists.csv:7: name: must be at most 48 characters, got 49"]


def test_every_problem_in_the_file_is_reported_not_just_the_first() -> None:
    text = (
        HEADER
        + (
            "a,st,,desc,\n"  # empty name
            "a,st,Ok," + "d" * 257 + ",\n"  # description too long
            "a,st,Flag,,maybe\n"  # bad boolean
            "a,st,Short\n"  # too few fields
        )
    )
    assert problems(text) == [
        "lists.csv:2: name: must not be empty",
        "lists.csv:3: description: must be at most 256 characters, got 257",
        "lists.csv:4: allow_duplicates: must be true/false, yes/no, 1/0 or empty, got 'maybe'",
        "lists.csv:5: has 3 fields, the header has 5",
    ]


def test_bom_blank_lines_crlf_and_quoted_newlines_keep_line_numbers_true() -> None:
    text = (
        "\ufeffaccount,iid,name,description\r\n"
        "\r\n"
        'a,st,"Multi, line","first\r\nsecond"\r\n'
        "   \r\n"
        "a,st,Bad" + "y" * 60 + ",\r\n"
    )
    assert problems(text) == ["lists.csv:6: name: must be at most 48 characters, got 63"]
    rows = parse_input(text.rsplit("a,st,Bad", 1)[0], "f.csv", NO_DEFAULTS, "csv")
    assert rows[0].line == 3
    assert rows[0].spec.name == "Multi, line"
    assert rows[0].spec.description == "first\r\nsecond"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("yes", True),
        ("Yes", True),
        ("1", True),
        (True, True),
        ("false", False),
        ("no", False),
        ("0", False),
        (" False ", False),
        (False, False),
        (1, True),
        (0, False),
        ("", None),
        ("  ", None),
        (None, None),
    ],
)
def test_allow_duplicates_accepts_the_usual_spellings(text: object, expected: bool | None) -> None:
    assert parse_bool(text) is expected


@pytest.mark.parametrize("value", ["maybe", "2", 2, 1.0, "y", [True]])
def test_allow_duplicates_rejects_anything_else(value: object) -> None:
    with pytest.raises(ValueError, match="must be true/false"):
        parse_bool(value)


def test_missing_account_and_iid_come_from_the_defaults() -> None:
    defaults = Defaults(account_id="env-acct", iid="st-env", stream_id="stream-env")
    text = "name,account\nFrom env,\nOwn account,own\n"
    rows = parse_input(text, "f.csv", defaults, "csv")
    assert [row.account for row in rows] == [
        AccountKey("env-acct", "st-env", "stream-env"),
        AccountKey("own", "st-env", "stream-env"),
    ]


def test_missing_account_column_without_default_names_the_flag_and_variable() -> None:
    assert problems("name,iid\nA,st\n") == [
        "lists.csv:1: account: missing column and no default is set "
        "(--account-id or KORE_ACCOUNT_ID)"
    ]


def test_an_empty_iid_cell_without_default_is_a_problem_of_that_row() -> None:
    assert problems(HEADER + "a,,Name,,\n", defaults=Defaults(account_id="x")) == [
        "lists.csv:2: iid: is empty and no default is set (--iid or KORE_IID)"
    ]


def test_header_problems_stop_before_the_rows() -> None:
    text = "account,iid,name,nmae,name\na,st," + "n" * 80 + ",x,y\n"
    assert problems(text) == [
        "lists.csv:1: nmae: unknown column; expected some of "
        "account, iid, stream_id, name, description, allow_duplicates",
        "lists.csv:1: name: column appears twice",
    ]
    assert problems("account,iid,description\na,st,d\n") == ["lists.csv:1: name: missing column"]


def test_header_spellings_are_forgiving() -> None:
    text = " Account_ID ,IID,Name,allowDuplicates,Stream-Id\na,st,N,yes,st\n"
    (row,) = parse_input(text, "f.csv", NO_DEFAULTS, "csv")
    # A stream id equal to the iid is the default spelled out.
    assert row.account == AccountKey("a", "st", None)
    assert row.spec.allow_duplicates is True


def test_names_repeat_per_account_regardless_of_case_but_not_across_accounts() -> None:
    text = HEADER + "a,st,Renewals,,\nb,st,renewals,,\na,st,RENEWALS,,\n"
    assert problems(text) == [
        "lists.csv:4: name: 'RENEWALS' repeats line 2 (names are unique per account, ignoring case)"
    ]


def test_one_account_must_use_one_app() -> None:
    text = HEADER + "a,st-1,One,,\na,st-2,Two,,\n"
    assert problems(text) == [
        "lists.csv:3: iid: account a uses iid 'st-1' on line 2; give one iid per account"
    ]


def test_ids_are_checked_like_the_sdk_checks_them() -> None:
    assert problems(HEADER + "a/b,st,N,,\n") == [
        "lists.csv:2: account: must not contain '/', '?', '#', control characters or outer "
        "whitespace: 'a/b'"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "",
            "lists.csv: empty file; expected a header row: "
            "account, iid, stream_id, name, description, allow_duplicates",
        ),
        (HEADER, "lists.csv: no contact lists in the file"),
        (HEADER + 'a,st,"unterminated,\n', "lists.csv:2: malformed CSV: unexpected end of data"),
    ],
)
def test_empty_and_malformed_csv(text: str, expected: str) -> None:
    assert problems(text) == [expected]


def test_jsonl_rows_with_json_types_and_blank_lines() -> None:
    text = (
        '\ufeff{"account": "a", "iid": "st", "name": "One", "allow_duplicates": true}\n'
        "\n"
        '{"account": "a", "iid": "st", "name": "Two", "description": null, '
        '"allow_duplicates": "no"}\n'
        '{"accountId": "b", "iid": "st", "name": "Three", "allowDuplicates": null}\n'
    )
    rows = parse_input(text, "f.jsonl", NO_DEFAULTS, "jsonl")
    assert [(row.line, row.account.account_id, row.spec) for row in rows] == [
        (1, "a", ContactListCreate(name="One", allow_duplicates=True)),
        (3, "a", ContactListCreate(name="Two", allow_duplicates=False)),
        (4, "b", ContactListCreate(name="Three")),
    ]


def test_jsonl_problems_name_the_line_and_the_field() -> None:
    text = (
        '{"account": "a", "iid": "st", "name": "Fine"}\n'
        '{"account": "a", "iid": "st", "name": "Broken"\n'
        '["not", "an", "object"]\n'
        '{"account": "a", "iid": "st", "name": "X", "colour": "red"}\n'
        '{"account": 7, "iid": "st", "name": 5, "allow_duplicates": "perhaps"}\n'
        '{"account": "a", "iid": "st", "description": "no name"}\n'
    )
    assert problems(text, "jsonl") == [
        "lists.jsonl:2: malformed JSON: Expecting ',' delimiter (column 47)",
        "lists.jsonl:3: expected a JSON object, got list",
        "lists.jsonl:4: colour: unknown field; expected some of "
        "account, iid, stream_id, name, description, allow_duplicates",
        "lists.jsonl:5: account: must be a string, got int",
        "lists.jsonl:5: name: must be a string, got int",
        "lists.jsonl:5: allow_duplicates: must be true/false, yes/no, 1/0 or empty, got 'perhaps'",
        "lists.jsonl:6: name: is required",
    ]


@pytest.mark.parametrize(
    ("path", "fmt"),
    [("a.csv", "csv"), ("dir.v2/A.CSV", "csv"), ("x.jsonl", "jsonl"), ("x.ndjson", "jsonl")],
)
def test_format_comes_from_the_extension(path: str, fmt: str) -> None:
    assert input_format(path) == fmt


def test_an_unknown_extension_is_refused() -> None:
    with pytest.raises(InputFileError) as caught:
        input_format("lists.txt")
    assert str(caught.value) == (
        "lists.txt: cannot tell the format: name the file *.csv, *.jsonl or *.ndjson"
    )


def test_read_input_groups_rows_by_account(tmp_path: Path) -> None:
    path = tmp_path / "lists.csv"
    path.write_text(HEADER + "a,st,One,,\nb,st,Two,,\na,st,Three,,\n", encoding="utf-8")
    groups = read_input(str(path), NO_DEFAULTS)
    assert {key.account_id: [spec.name for spec in specs] for key, specs in groups.items()} == {
        "a": ["One", "Three"],
        "b": ["Two"],
    }


def test_read_input_reports_bytes_that_are_not_utf8_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "lists.csv"
    path.write_bytes(HEADER.encode() + b"a,st,Caf\xe9,,\n")
    with pytest.raises(InputFileError) as caught:
        read_input(str(path), NO_DEFAULTS)
    assert caught.value.problems == (
        InputProblem(str(path), 2, None, "not UTF-8 text (byte 0xe9)"),
    )


def test_read_input_reports_a_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "absent.jsonl")
    with pytest.raises(InputFileError, match=r"absent\.jsonl: No such file or directory"):
        read_input(path, NO_DEFAULTS)


def test_a_left_out_description_means_do_not_care() -> None:
    """Empty CSV cell, absent or null JSON key: None, so sync keeps the list's description."""
    csv_rows = parse_input(HEADER + "a,st,One,,\n", "f.csv", NO_DEFAULTS, "csv")
    jsonl = (
        '{"account": "a", "iid": "st", "name": "One"}\n'
        '{"account": "a", "iid": "st", "name": "Two", "description": null}\n'
        '{"account": "a", "iid": "st", "name": "Three", "description": ""}\n'
    )
    jsonl_rows = parse_input(jsonl, "f.jsonl", NO_DEFAULTS, "jsonl")
    assert [row.spec.description for row in csv_rows] == [None]
    # JSON can say "no description" explicitly; CSV's empty cell cannot tell it from absence.
    assert [row.spec.description for row in jsonl_rows] == [None, None, ""]


def test_sync_help_says_what_an_empty_cell_means() -> None:
    from kore_campaign_async.cli._parser import SYNC_HELP

    assert "An empty cell or a missing key (description, allow_duplicates)" in SYNC_HELP
