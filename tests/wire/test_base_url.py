"""The client's host: refused at construction when no request could reach it, or when plain
http would carry the token in clear; one origin however the host is spelled."""

from __future__ import annotations

from urllib.parse import SplitResult

import pytest
import yarl

import kore_campaign_async as kca
from kore_campaign_async._wire.base_url import _ascii_host, check_base_url

UNREACHABLE = {
    "empty-labels": ("http://.", "label"),
    "empty-label": ("https://a..kore.ai", "label"),
    "label-of-64": ("https://" + "a" * 64 + ".kore.ai", "1 to 63"),
    "name-of-259": ("https://" + ("a" * 63 + ".") * 4 + "com", "at most 253"),
    "ipv6-left-open": ("https://[::1", "IPv6"),
    "ipv6-not-one": ("https://[zz]", "IPv6"),
    "space-in-name": ("https://kore .ai", "letters, digits"),
    "percent-in-name": ("https://kore%2fai.ai", "letters, digits"),
    "port-0": ("https://kore.ai:0", "1 to 65535"),
    "port-too-big": ("https://kore.ai:65536", "1 to 65535"),
    "port-not-a-number": ("https://kore.ai:https", "1 to 65535"),
    "no-host": ("https://:443", "names no host"),
    "query": ("https://kore.ai?x=1", "query"),
    "fragment": ("https://kore.ai#top", "fragment"),
    "credentials": ("https://user:pa55word@kore.ai", "credentials"),
    "scheme": ("ftp://kore.ai", "https://platform.kore.ai"),
}


@pytest.mark.parametrize(("host", "said"), UNREACHABLE.values(), ids=UNREACHABLE.keys())
def test_a_host_no_request_could_reach_is_refused_at_construction(host: str, said: str) -> None:
    with pytest.raises(kca.ConfigurationError, match=said) as info:
        kca.CampaignClient(host, token="t")
    assert "pa55word" not in str(info.value)


SPELLINGS = [
    "https://platform.kore.ai",
    "https://PLATFORM.kore.ai",
    "https://platform.kore.ai:443",
    "https://platform.kore.ai/api/..",
    "https://platform.kore.ai./",
    "HTTPS://Platform.Kore.AI:443/some/prefix/",
]


@pytest.mark.parametrize("host", SPELLINGS)
def test_one_host_spelled_many_ways_has_one_origin(host: str) -> None:
    assert check_base_url(host).origin == "https://platform.kore.ai"


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("https://platform.kore.ai:8443/x", "https://platform.kore.ai:8443"),
        ("http://127.0.0.1:80", "http://127.0.0.1"),
        ("http://[0:0::1]:8080", "http://[::1]:8080"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
        # IDNA 2008, as yarl sends it: "straße" is its own host, not "strasse".
        ("https://straße.example", "https://xn--strae-oqa.example"),
        ("https://STRASSE.example", "https://strasse.example"),
    ],
)
def test_the_origin_keeps_what_tells_hosts_apart(host: str, origin: str) -> None:
    assert check_base_url(host).origin == origin


def test_the_url_keeps_its_path_but_not_a_trailing_slash() -> None:
    assert check_base_url("https://kore.ai/prefix/").url == "https://kore.ai/prefix"


@pytest.mark.parametrize(
    "host",
    [
        "http://kore.example",
        "http://platform.kore.ai:8080",
        "http://10.0.0.7",
        "http://[2001:db8::1]",
        "http://127.0.0.1.nip.io",
    ],
)
def test_plain_http_to_another_machine_is_refused_naming_the_opt_in(host: str) -> None:
    with pytest.raises(kca.ConfigurationError, match="allow_insecure_http=True"):
        kca.CampaignClient(host, token="t")
    client = kca.CampaignClient(host, token="t", allow_insecure_http=True)
    assert client.host == host


@pytest.mark.parametrize(
    "host",
    [
        "http://127.0.0.1:8080",
        "http://127.5.6.7",
        "http://[::1]:8080",
        "http://localhost:9000",
        "http://LOCALHOST",
        "http://api.localhost",
    ],
)
def test_plain_http_to_this_machine_needs_no_opt_in(host: str) -> None:
    assert check_base_url(host).loopback
    assert kca.CampaignClient(host, token="t").host == host.rstrip("/")


def test_a_bracketed_host_that_urlsplit_lets_through_is_still_no_ipv6_address() -> None:
    # Python 3.10's urlsplit does not check what stands in brackets; the IPv6 check does.
    with pytest.raises(kca.ConfigurationError, match="no IPv6 address"):
        _ascii_host(SplitResult("https", "[zz]", "", "", ""))


@pytest.mark.parametrize(
    "host", ["https://straße.example/x", "https://Straße.EXAMPLE", "https://bücher.example"]
)
def test_the_origin_names_the_host_the_request_goes_to(host: str) -> None:
    # One host, one quota: the origin is the host aiohttp connects to, whatever the spelling.
    base = check_base_url(host)
    assert base.origin == f"https://{yarl.URL(base.url).raw_host}"
