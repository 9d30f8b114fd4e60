"""Read the client's ``host``: a base URL that can be sent to, and the origin that names it.

Checked once, when the client is built, so a host no request can reach fails there with a
``ConfigurationError`` rather than on every call with whatever the resolver raises
(``http://.`` and a 64-character label are a ``UnicodeError`` from the IDNA codec the socket
layer encodes a host name with).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final
from urllib.parse import SplitResult, urlsplit

import attrs
import yarl

from .._exceptions import ConfigurationError

_DEFAULT_PORTS: Final = {"https": 443, "http": 80}
#: A DNS name's limits (RFC 1035): 63 octets a label, 253 in all (no trailing dot).
LABEL_MAX_LENGTH: Final = 63
HOST_MAX_LENGTH: Final = 253
#: Letters, digits, hyphens, and the underscores some internal names carry.
_LABEL: Final = re.compile(r"[A-Za-z0-9_-]+")
_INSECURE_HINT: Final = (
    "plain http sends the auth token in clear text; use https, or pass "
    "allow_insecure_http=True to send it unencrypted on purpose"
)


@attrs.frozen
class BaseUrl:
    """Where the client sends: ``url`` (scheme, host, port, path) and its ``origin``."""

    url: str
    """Scheme, host as given, port if given, and path without a trailing slash."""
    origin: str
    """``scheme://host[:port]``: lower case, host name in its ASCII (IDNA) form, default port
    and path dropped. Two spellings of one host have one origin, so they share one quota."""
    loopback: bool
    """Whether the host is this machine (``localhost``, 127.0.0.0/8, ``::1``)."""

    def refuse_plain_http(self, *, allowed: bool) -> None:
        """Refuse plain ``http`` to a host that is not this machine, unless ``allowed``."""
        if self.origin.startswith("http://") and not self.loopback and not allowed:
            raise ConfigurationError(f"host {self.origin}: {_INSECURE_HINT}")


def check_base_url(value: object, *, allow_insecure_http: bool = False) -> BaseUrl:
    """Return the base URL ``value`` names, or raise ConfigurationError saying what is wrong.

    Refused: anything but ``http``/``https``, credentials, a query or a fragment, a port
    outside 1-65535, an IPv6 literal that is not one, and a host name the IDNA codec cannot
    encode or DNS cannot carry. Plain ``http`` to any host but this machine is refused unless
    ``allow_insecure_http`` is set.
    """
    if not isinstance(value, str):
        raise ConfigurationError(f"host must be a URL string, got {type(value).__name__}")
    parts = _split(value.strip())
    host = _ascii_host(parts)
    port = _port(parts)
    shown_port = "" if port is None or port == _DEFAULT_PORTS[parts.scheme] else f":{port}"
    base_url = BaseUrl(
        url=f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}",
        origin=f"{parts.scheme}://{host}{shown_port}",
        loopback=is_loopback(host),
    )
    base_url.refuse_plain_http(allowed=allow_insecure_http)
    return base_url


def _split(text: str) -> SplitResult:
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # "https://[::1": an IPv6 literal left open
        # Not echoed: the text may carry a password.
        raise ConfigurationError(f"host is not a URL ({exc})") from None
    # Checked before anything echoes the text: a password must not reach a message or log.
    if "@" in parts.netloc:
        raise ConfigurationError("host must not carry credentials (user:password@)")
    if parts.scheme not in _DEFAULT_PORTS or not parts.netloc:
        raise ConfigurationError(f"host must look like https://platform.kore.ai, got {text!r}")
    if parts.query or parts.fragment:
        raise ConfigurationError("host must not carry a query or a fragment")
    return parts


def _port(parts: SplitResult) -> int | None:
    try:
        port = parts.port
    except ValueError:  # not a number, or past 65535
        port = 0
    if port == 0:
        raise ConfigurationError(f"host {parts.netloc!r}: the port must be 1 to 65535")
    return port


def _ascii_host(parts: SplitResult) -> str:
    """Return the host as it goes on the wire, lower case: an IP address or an ASCII name."""
    name = parts.hostname or ""
    if not name:
        raise ConfigurationError(f"host {parts.netloc!r} names no host")
    if parts.netloc.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(name).compressed}]"
        except ValueError:
            raise ConfigurationError(f"host {parts.netloc!r} is no IPv6 address") from None
    try:
        return str(ipaddress.IPv4Address(name))
    except ValueError:
        pass
    try:
        # The host as it goes on the wire: yarl (under aiohttp) turns other scripts into their
        # xn-- form by IDNA 2008, where Python's "idna" codec (IDNA 2003) would write
        # "straße" as "strasse", another host, and give one host two quotas.
        ascii_name = yarl.URL.build(scheme="https", host=name).raw_host or ""
    except (ValueError, UnicodeError):
        raise ConfigurationError(
            f"host {name!r} is no valid host name: each dot-separated label must be 1 to "
            f"{LABEL_MAX_LENGTH} letters, digits, hyphens or underscores"
        ) from None
    ascii_name = ascii_name.lower()
    ascii_name = ascii_name.removesuffix(".")  # the root: "kore.ai." is "kore.ai"
    if len(ascii_name) > HOST_MAX_LENGTH:
        raise ConfigurationError(
            f"host name must be at most {HOST_MAX_LENGTH} characters, got {len(ascii_name)}"
        )
    for label in ascii_name.split("."):
        if not _LABEL.fullmatch(label) or len(label) > LABEL_MAX_LENGTH:
            raise ConfigurationError(
                f"host {name!r} is no valid host name: each dot-separated label must be 1 to "
                f"{LABEL_MAX_LENGTH} letters, digits, hyphens or underscores, got {label!r}"
            )
    return ascii_name


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name, an IP address, a bracketed IPv6 literal) is this machine."""
    host = host.lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
