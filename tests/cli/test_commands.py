"""What the one-off commands show, built without a server."""

from __future__ import annotations

from kore_campaign_async import ContactListUpdate, UpdatedContactList
from kore_campaign_async.cli._commands import merge_update


def test_an_update_answer_is_filled_with_what_was_sent_and_the_rest_is_unchanged() -> None:
    answer = UpdatedContactList(id="cl-1", name="Kore's spelling", account_id="acct")
    sent = ContactListUpdate(name="sent spelling", description="New text")
    merged, unchanged = merge_update(answer, sent)
    assert (merged.name, merged.description, merged.account_id) == (
        "Kore's spelling",  # what Kore answered wins over what was sent
        "New text",
        "acct",
    )
    assert unchanged == ("allow_duplicates", "source")
