"""trust_env, proxy and ssl are checked before anything is sent; no password is ever echoed."""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp
import pytest

import kore_campaign_async as kca
from kore_campaign_async._http.network import Network, Proxy, check_network

HOST = "https://platform.kore.ai"


def _network(*, trust_env: object = True, proxy: object = None, ssl: object = None) -> Network:
    return check_network(HOST, trust_env=trust_env, proxy=proxy, ssl=ssl, custom=None)


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_a_proxy_url_loses_its_credentials_to_fields_of_their_own() -> None:
    network = check_network(
        HOST, trust_env=True, proxy="http://svc:p%40ss@proxy.corp:3128", ssl=None, custom=None
    )
    assert network.proxy == Proxy("http://proxy.corp:3128", "svc", "p@ss")
    assert repr(network.proxy) == "Proxy('http://proxy.corp:3128', with credentials)"
    assert "p@ss" not in repr(network)
    assert network.ssl is True


CA_BUNDLE_HINT = "(for a CA bundle: ssl=ssl.create_default_context(cafile=...))"


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("proxy", "socks5://svc:hunter2@proxy:1080", "proxy must be an http:// or https://"),
        ("proxy", "http://svc:hunter2@proxy:99999", "proxy has a port that is not a number"),
        ("proxy", "http://svc:hunter2@:3128", "proxy must name the proxy's host"),
        ("proxy", "http://svc:hunter2@proxy:3128/path?x=1", "proxy must be scheme://host:port"),
        ("proxy", 3128, "proxy must be a proxy URL string, got int"),
        ("ssl", "/etc/ssl/hunter2.pem", f"True or False, got str {CA_BUNDLE_HINT}"),
        ("ssl", 1, f"ssl must be an ssl.SSLContext, True or False, got int {CA_BUNDLE_HINT}"),
        ("trust_env", "no", "trust_env must be True or False, got str"),
    ],
)
def test_a_bad_setting_is_refused_naming_it_and_never_a_password(
    setting: str, value: object, says: str
) -> None:
    settings: dict[str, Any] = {setting: value}
    with pytest.raises(kca.ConfigurationError) as caught:
        kca.CampaignClient(HOST, token="t", **settings)
    assert says in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_ssl_takes_a_context_or_a_bool() -> None:
    context = ssl.create_default_context()
    assert _network(ssl=context).ssl is context
    assert _network(ssl=False).ssl is False
    assert _network(ssl=True).ssl is True


def test_the_environment_names_the_proxy_by_the_hosts_scheme(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "proxy.corp:3128")  # no scheme: http://, as curl reads it
    monkeypatch.setenv("HTTP_PROXY", "http://plain.corp:8080")
    assert _network().proxy == Proxy("http://proxy.corp:3128")
    plain = check_network("http://kore.internal", trust_env=True, proxy=None, ssl=None, custom=None)
    assert plain.proxy == Proxy("http://plain.corp:8080")
    assert _network(trust_env=False).proxy is None
    explicit = _network(proxy="http://mine:1")
    assert explicit.proxy == Proxy("http://mine:1")


@pytest.mark.parametrize(
    ("no_proxy", "bypassed"),
    [
        ("*", True),
        ("platform.kore.ai", True),
        ("kore.ai", True),
        (".kore.ai", True),
        ("elsewhere.com, kore.ai:443", True),
        ("kore.ai:8443", False),
        ("ore.ai", False),
        ("", False),
    ],
)
def test_no_proxy_names_hosts_domains_and_ports(
    monkeypatch: pytest.MonkeyPatch, no_proxy: str, bypassed: bool
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    assert (_network().proxy is None) is bypassed


@pytest.mark.parametrize("host", ["https://127.0.0.1:8443", "https://localhost", "https://[::1]"])
def test_loopback_hosts_never_take_the_proxy_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    network = check_network(host, trust_env=True, proxy=None, ssl=None, custom=None)
    assert network.proxy is None
    given = check_network(host, trust_env=True, proxy="http://p:1", ssl=None, custom=None)
    assert given.proxy == Proxy("http://p:1")  # but a proxy= given is used for any host


def test_a_bad_proxy_in_the_environment_names_the_variable_not_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "socks5h://svc:hunter2@proxy:1080")
    with pytest.raises(kca.ConfigurationError) as caught:
        kca.CampaignClient(HOST, token="t")
    assert "HTTPS_PROXY (from the environment) must be an http:// or https://" in str(caught.value)
    assert "hunter2" not in str(caught.value)
    kca.CampaignClient(HOST, token="t", trust_env=False)  # the way out


async def test_proxy_and_ssl_belong_to_a_session_given_as_session() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(kca.ConfigurationError, match="with session= give them to your session"):
            kca.CampaignClient(HOST, token="t", session=session, ssl=False)
        with pytest.raises(kca.ConfigurationError, match="proxy and ssl"):
            kca.CampaignClient(HOST, token="t", session=session, proxy="http://p:1")
