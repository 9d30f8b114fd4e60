"""Resources: the operations of ``account.contact_lists``, one request each."""
