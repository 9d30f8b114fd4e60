"""The one-off commands, run as a user runs them, against a fake Kore server."""

from __future__ import annotations

import json

from kore_campaign_async.testing import FakeKoreServer
from tests.helpers.cli import ACCOUNT, IID, Cli


async def test_a_list_through_create_get_update_lists_and_delete(
    cli: Cli, kore: FakeKoreServer
) -> None:
    made = await cli("create", "Renewals", "--description", "July", "--allow-duplicates", "--json")
    assert made.code == 0, made.err
    created = json.loads(made.out)
    assert (created["name"], created["description"], created["allow_duplicates"]) == (
        "Renewals",
        "July",
        True,
    )
    list_id = created["id"]
    assert [doc["_id"] for doc in kore.lists(ACCOUNT)] == [list_id]

    got = await cli("get", list_id, "--json")
    assert got.code == 0, got.err
    assert json.loads(got.out)["id"] == list_id

    changed = await cli(
        "update", list_id, "--name", "Renewals Aug", "--no-allow-duplicates", "--json"
    )
    assert changed.code == 0, changed.err
    (doc,) = kore.lists(ACCOUNT)
    assert (doc["name"], doc["description"], doc["allowDuplicates"]) == (
        "Renewals Aug",
        "July",
        False,
    )

    table = await cli("lists")
    assert table.code == 0, table.err
    assert "Renewals Aug" in table.out
    assert "1 contact list" in table.out

    gone = await cli("delete", list_id, "--yes")
    assert gone.code == 0, gone.err
    assert f"Deleted {list_id} 'Renewals Aug'" in gone.out
    assert kore.lists(ACCOUNT) == []


async def test_delete_without_yes_and_without_a_terminal_refuses(
    cli: Cli, kore: FakeKoreServer
) -> None:
    doc = kore.seed_list(ACCOUNT, IID, "Keep me")
    run = await cli("delete", doc["_id"])
    assert run.code == 2
    assert "pass --yes" in run.err
    assert [kept["_id"] for kept in kore.lists(ACCOUNT)] == [doc["_id"]]
    assert kore.count(operation="delete") == 0


async def test_contacts_and_a_v1_get(cli: Cli, kore: FakeKoreServer) -> None:
    doc = kore.seed_list(ACCOUNT, IID, "With contacts", contacts=3)
    listed = await cli("contacts", doc["_id"], "--json")
    assert listed.code == 0, listed.err
    phones = [contact["phone_number"] for contact in json.loads(listed.out)]
    assert phones == [contact["phoneNumber"] for contact in kore.contacts(ACCOUNT, doc["_id"])]
    assert len(phones) == 3

    v1 = await cli("get", doc["_id"], "--api-version", "v1")
    assert v1.code == 0, v1.err
    assert "with contacts" in v1.out  # v1 answers carry lname
    assert kore.requests[-1].path.startswith(f"/agentassist/api/v1/public/{IID}/")


async def test_a_missing_list_fails_with_status_1_and_kore_s_message(cli: Cli) -> None:
    run = await cli("get", "cl-missing")
    assert run.code == 1
    assert "NotFoundError" in run.err
    assert "Contact list not found" in run.err


async def test_bad_arguments_exit_2_before_anything_is_sent(cli: Cli, kore: FakeKoreServer) -> None:
    too_long = await cli("create", "x" * 49)
    assert too_long.code == 2
    assert "name: must be at most 48 characters, got 49" in too_long.err
    nothing = await cli("update", "cl-1")
    assert nothing.code == 2
    assert "give at least one of --name, --description, --allow-duplicates" in nothing.err
    assert kore.requests == []


async def test_missing_settings_name_flag_and_variable_and_never_echo_the_secret(
    cli: Cli, kore: FakeKoreServer
) -> None:
    run = await cli("lists", env={"KORE_ACCOUNT_ID": ""})
    assert run.code == 2
    assert "missing account id: set --account-id or KORE_ACCOUNT_ID" in run.err
    no_id = await cli("lists", env={"KORE_CLIENT_ID": ""})
    assert no_id.code == 2
    assert "--client-id or KORE_CLIENT_ID" in no_id.err
    for output in (run.out, run.err, no_id.out, no_id.err):
        assert kore.client_secret not in output
    assert kore.requests == []


async def test_a_wrong_secret_is_an_authentication_failure_that_does_not_show_it(
    cli: Cli, kore: FakeKoreServer
) -> None:
    wrong = "wrong-secret-abcdefghijklmnop"
    run = await cli("lists", env={"KORE_CLIENT_SECRET": wrong})
    assert run.code == 1
    assert "AuthenticationError" in run.err
    assert wrong not in run.err + run.out
    assert kore.count(status=401) >= 1


async def test_without_rich_the_cli_says_which_extra_to_install(cli: Cli) -> None:
    run = await cli("lists", prelude="import sys; sys.modules['rich'] = None")
    assert run.code == 2
    assert "install kore_campaign_async[cli]" in run.err


async def test_update_on_v2_shows_what_kore_kept_not_an_empty_description(
    cli: Cli, kore: FakeKoreServer
) -> None:
    doc = kore.seed_list(ACCOUNT, IID, "Renewals", "Kept text")
    table = await cli("update", doc["_id"], "--name", "Renewals Aug")
    assert table.code == 0, table.err
    rows = {
        key: value.strip()
        for key, value in (line.split(maxsplit=1) for line in table.out.splitlines()[2:])
    }
    assert rows["name"] == "Renewals Aug"
    assert rows["description"] == "(unchanged)"
    (stored,) = kore.lists(ACCOUNT)
    assert stored["description"] == "Kept text"

    as_json = await cli("update", doc["_id"], "--description", "New text", "--json")
    assert as_json.code == 0, as_json.err
    data = json.loads(as_json.out)
    assert data["description"] == "New text"
    assert "allow_duplicates" not in data  # not changed and not in Kore's answer: not null


async def test_piped_output_has_no_padding_and_folds_long_values(cli: Cli) -> None:
    made = await cli("create", "Renewals", "--description", "July")
    assert made.code == 0, made.err
    lines = made.out.splitlines()
    assert [line for line in lines if line != line.rstrip()] == []
    assert max(map(len, lines)) <= 100  # Kore's long `mapping` folds onto more lines
    assert any(line.startswith("mapping ") for line in lines)
    listed = await cli("lists")
    assert listed.out.splitlines()[-1] == "1 contact list"
    assert all(line == line.rstrip() for line in listed.out.splitlines())
