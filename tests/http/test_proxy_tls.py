"""Through a real CONNECT proxy to a real TLS server with a CA of its own: what companies run."""

from __future__ import annotations

import gc
import ssl

import pytest
import trustme

import kore_campaign_async as kca
from kore_campaign_async.testing import FakeKoreServer
from tests.helpers.clients import MakeClient
from tests.helpers.network import KORE_HOST, KORE_NAME, ConnectProxy, server_context, upstream

ONCE = kca.RetryPolicy.none()


async def test_https_goes_through_the_proxy_and_the_proxy_reads_no_token(
    make_client: MakeClient,
    tls_server: FakeKoreServer,
    proxy: ConnectProxy,
    trusting: ssl.SSLContext,
) -> None:
    async with make_client(tls_server, host=KORE_HOST, proxy=proxy.url, ssl=trusting) as client:
        lists = client.account("acct-1", iid="st").contact_lists
        created = await lists.create("Through the proxy")
        assert [cl.id for cl in await lists.list()] == [created.id]
        token = client.auth.ready_token()
    assert token
    assert proxy.connects == [f"{KORE_NAME}:443"]  # one tunnel, kept alive for both calls
    assert tls_server.count() == 2
    # Inside the tunnel everything is TLS: the proxy never sees the token or a list name.
    assert token.encode() not in proxy.seen
    assert b"Through the proxy" not in proxy.seen
    assert b"CONNECT kore.test:443" in proxy.seen


async def test_trust_env_takes_the_proxy_from_https_proxy(
    make_client: MakeClient,
    tls_server: FakeKoreServer,
    proxy: ConnectProxy,
    trusting: ssl.SSLContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "elsewhere.example,.internal")
    async with make_client(tls_server, host=KORE_HOST, ssl=trusting) as client:
        assert await client.account("acct-1", iid="st").contact_lists.list() == []
    assert proxy.connects == [f"{KORE_NAME}:443"]


async def test_an_untrusted_ca_fails_saying_tls_verification_failed(
    make_client: MakeClient, tls_server: FakeKoreServer, proxy: ConnectProxy
) -> None:
    # The default ssl=True trusts the system's CAs, not the server's private one.
    async with make_client(tls_server, host=KORE_HOST, proxy=proxy.url, retry=ONCE) as client:
        with pytest.raises(kca.APIConnectionError) as caught:
            await client.account("acct-1", iid="st").contact_lists.list()
    message = str(caught.value)
    assert "TLS certificate verification failed" in message
    assert "unable to get local issuer certificate" in message
    assert "ssl.create_default_context(cafile=" in message
    assert caught.value.request_sent is False
    assert tls_server.count() == 0


async def test_ssl_false_reaches_a_staging_host_with_a_certificate_nobody_trusts(
    make_client: MakeClient, tls_server: FakeKoreServer, proxy: ConnectProxy
) -> None:
    async with make_client(tls_server, host=KORE_HOST, proxy=proxy.url, ssl=False) as client:
        assert await client.account("acct-1", iid="st").contact_lists.list() == []
    assert tls_server.count() == 1


async def test_a_client_certificate_opens_a_server_that_requires_one(
    make_client: MakeClient, ca: trustme.CA
) -> None:
    async with FakeKoreServer(ssl_context=server_context(ca, client_certs=True)) as mtls:
        proxy = ConnectProxy(upstream(mtls))
        await proxy.start()
        try:
            with_cert = ssl.create_default_context()
            ca.configure_trust(with_cert)
            ca.issue_cert("billing-service@example.com").configure_cert(with_cert)
            settings = {"host": KORE_HOST, "proxy": proxy.url, "ssl": with_cert}
            async with make_client(mtls, **settings) as client:
                assert await client.account("acct-1", iid="st").contact_lists.list() == []
        finally:
            await proxy.stop()
    assert mtls.count() == 1


# Python 3.10's asyncio (before the TLS rewrite of 3.11) never marks the client's TLS transport
# closed when the server drops it right after a TLS 1.3 handshake, and warns when it is freed.
OLD_ASYNCIO_TLS = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <function _SSLProtocolTransport.__del__"
    ":pytest.PytestUnraisableExceptionWarning"
)


@OLD_ASYNCIO_TLS
async def test_without_its_client_certificate_the_call_fails_and_nothing_is_read(
    make_client: MakeClient, ca: trustme.CA, trusting: ssl.SSLContext
) -> None:
    async with FakeKoreServer(ssl_context=server_context(ca, client_certs=True)) as mtls:
        proxy = ConnectProxy(upstream(mtls))
        await proxy.start()
        try:
            settings = {"host": KORE_HOST, "proxy": proxy.url, "ssl": trusting, "retry": ONCE}
            async with make_client(mtls, **settings) as client:
                with pytest.raises(kca.APIConnectionError):
                    await client.account("acct-1", iid="st").contact_lists.list()
        finally:
            await proxy.stop()
        gc.collect()  # any transport asyncio left behind is freed here, under this test's filter
    assert mtls.count() == 0  # the request never got past the handshake


async def test_proxy_credentials_go_to_the_proxy_and_never_into_a_message(
    make_client: MakeClient,
    tls_server: FakeKoreServer,
    trusting: ssl.SSLContext,
) -> None:
    proxy = ConnectProxy(upstream(tls_server), credentials="svc:pa@ss-word")
    await proxy.start()
    try:
        port = proxy.url.rsplit(":", 1)[1]
        good = f"http://svc:pa%40ss-word@127.0.0.1:{port}"
        async with make_client(tls_server, host=KORE_HOST, proxy=good, ssl=trusting) as client:
            assert await client.account("acct-1", iid="st").contact_lists.list() == []
            assert "ss-word" not in repr(client)
        bad = f"http://svc:wrong-ss-word@127.0.0.1:{port}"
        settings = {"host": KORE_HOST, "ssl": trusting, "retry": ONCE}
        async with make_client(tls_server, proxy=bad, **settings) as client:
            with pytest.raises(kca.APIConnectionError) as caught:
                await client.account("acct-1", iid="st").contact_lists.list()
    finally:
        await proxy.stop()
    assert proxy.refused == 1
    assert "the proxy refused the connection (407)" in str(caught.value)
    assert caught.value.request_sent is False
    shown = [caught.value, *_chain(caught.value)]
    assert not any("ss-word" in f"{e!r} {e} {vars(e)}" for e in shown)


async def test_a_proxy_that_is_down_fails_before_anything_is_sent(
    make_client: MakeClient, tls_server: FakeKoreServer, trusting: ssl.SSLContext
) -> None:
    proxy = ConnectProxy(upstream(tls_server))
    await proxy.start()
    url = proxy.url
    await proxy.stop()
    settings = {"host": KORE_HOST, "ssl": trusting, "retry": ONCE}
    async with make_client(tls_server, proxy=url, **settings) as client:
        with pytest.raises(kca.APIConnectionError) as caught:
            await client.account("acct-1", iid="st").contact_lists.list()
    assert "cannot connect to the proxy" in str(caught.value)
    assert caught.value.request_sent is False


def _chain(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current = error.__cause__ or error.__context__
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found
