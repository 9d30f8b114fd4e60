"""One account's quota shared by the processes that use it: pacing, stores, leases."""
