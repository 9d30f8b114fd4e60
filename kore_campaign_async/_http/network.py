"""Where the client's requests go: the proxy and the TLS checks, checked up front.

Pure (no aiohttp): the client checks its settings here before anything is sent, and
``AiohttpTransport`` builds its session from the :class:`Network` it gets. No password from a
URL (the host's or the proxy's) ever reaches a message, a log or a repr.

``trust_env`` reads ``HTTPS_PROXY`` / ``HTTP_PROXY`` (by the host's scheme) and ``NO_PROXY``,
as curl, requests and httpx do, never ``.netrc``: Kore authenticates by its own header, and a
netrc password must not ride along to it. Loopback hosts never go through a proxy from the
environment (as in Go's net/http), so a fake server on 127.0.0.1 answers behind any proxy.
"""

from __future__ import annotations

from ssl import SSLContext
from urllib.parse import SplitResult, unquote, urlsplit
from urllib.request import getproxies_environment

import attrs

from .._exceptions import ConfigurationError
from .._wire.base_url import is_loopback


@attrs.frozen(repr=False)
class Proxy:
    """An HTTP(S) proxy: its URL without credentials, and the credentials apart."""

    url: str
    """``scheme://host:port``, never with ``user:password@``."""
    login: str | None = None
    password: str | None = None

    def __repr__(self) -> str:
        credentials = ", with credentials" if self.login is not None else ""
        return f"Proxy({self.url!r}{credentials})"


@attrs.frozen
class Network:
    """How the client's own session reaches Kore: through which proxy, with which TLS checks."""

    proxy: Proxy | None = None
    ssl: SSLContext | bool = True
    """A context of the caller's, True (verify with the system's CAs) or False (no checks)."""


def _parse_proxy(value: object, field: str) -> Proxy:
    """Read a proxy URL given as ``field`` (``proxy`` or an environment variable's name)."""
    if not isinstance(value, str):
        raise ConfigurationError(f"{field} must be a proxy URL string, got {type(value).__name__}")
    text = value.strip()
    if "://" not in text:
        text = f"http://{text}"  # curl's reading of HTTPS_PROXY=proxy.corp:3128
    parts = urlsplit(text)
    # Nothing of the value is echoed below the scheme: its netloc may hold a password.
    if parts.scheme not in ("http", "https"):
        raise ConfigurationError(
            f"{field} must be an http:// or https:// proxy URL, got a {parts.scheme}:// URL "
            "(for a SOCKS proxy, pass a session= with a connector that speaks it)"
        )
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError(
            f"{field} has a port that is not a number from 0 to 65535"
        ) from None
    if not parts.hostname:
        raise ConfigurationError(f"{field} must name the proxy's host, as in http://proxy:3128")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigurationError(f"{field} must be scheme://host:port only, with no path or query")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    url = f"{parts.scheme}://{host}" + ("" if port is None else f":{port}")
    if parts.username is None:
        return Proxy(url)
    return Proxy(url, unquote(parts.username), unquote(parts.password or ""))


def _bypassed(hostname: str, port: int | None, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` (``*``, or hosts and domains, with a port or not) names the host."""
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if entry == "*":
            return True
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and entry_port != str(port):
            continue
        name = name.lstrip(".")
        if name and (hostname == name or hostname.endswith(f".{name}")):
            return True
    return False


def _proxy_from_env(host: SplitResult) -> Proxy | None:
    """The proxy the environment names for ``host``, if any (``NO_PROXY`` honoured)."""
    hostname = (host.hostname or "").lower()
    proxies = getproxies_environment()
    port = host.port or (443 if host.scheme == "https" else 80)
    if is_loopback(hostname) or _bypassed(hostname, port, proxies.get("no", "")):
        return None
    value = proxies.get(host.scheme)
    if not value:
        return None
    return _parse_proxy(value, f"{host.scheme.upper()}_PROXY (from the environment)")


def check_network(
    host: str,
    *,
    trust_env: object,
    proxy: object,
    ssl: object,
    custom: str | None,
) -> Network:
    """Check ``trust_env``, ``proxy`` and ``ssl`` for the client's ``host`` (a checked one).

    ``custom`` names what replaces the client's own session (``"session"``, ``"transport"``),
    if anything: proxy and TLS are then that object's business, and giving them here too is
    an error rather than something silently ignored.
    """
    if type(trust_env) is not bool:
        raise ConfigurationError(f"trust_env must be True or False, got {type(trust_env).__name__}")
    if ssl is not None and not isinstance(ssl, SSLContext) and type(ssl) is not bool:
        raise ConfigurationError(
            f"ssl must be an ssl.SSLContext, True or False, got {type(ssl).__name__} "
            "(for a CA bundle: ssl=ssl.create_default_context(cafile=...))"
        )
    if custom is not None and (proxy is not None or ssl is not None):
        raise ConfigurationError(
            f"proxy and ssl set up the client's own session; with {custom}= give them to "
            f"your {custom} instead"
        )
    if proxy is not None:
        chosen: Proxy | None = _parse_proxy(proxy, "proxy")
    elif trust_env and custom is None:
        chosen = _proxy_from_env(urlsplit(host))
    else:
        chosen = None
    return Network(proxy=chosen, ssl=True if ssl is None else ssl)
