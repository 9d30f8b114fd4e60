"""A fake Kore.ai Campaign Management server for tests, benchmarks and demos.

::

    from kore_campaign_async.testing import Fault, FakeKoreServer, ServerRateLimit

    async with FakeKoreServer(rate_limit=ServerRateLimit(limit=60, window=60.0)) as server:
        server.faults.add(Fault("status", operation="create", status=503))
        ...  # point a client at server.url with server.client_id / server.client_secret
        assert server.count(operation="create") == 2

``FakeKoreServer(port=8765)`` listens on a port of your choice (``kore-campaign fake-server``
serves one for other processes), and pytest gets the fixtures ``kore_server`` and
``kore_client`` from the package's plugin (``kore_campaign_async_pytest``).

Without a server, ``MockTransport(handler)`` answers each request from a function::

    client = CampaignClient(host, token="t", transport=MockTransport(handler))
"""

from __future__ import annotations

from ._faults import Fault, FaultKind, FaultPlan
from ._mock import Handler, MockTransport, json_response
from ._ratelimit import ServerRateLimit
from ._records import RequestRecord
from ._server import FakeKoreServer

__all__ = [
    "FakeKoreServer",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "Handler",
    "MockTransport",
    "RequestRecord",
    "ServerRateLimit",
    "json_response",
]
