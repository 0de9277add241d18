"""Which addresses and hosts the crawler may fetch.

A hostile page can link to loopback, private, link-local or cloud-metadata addresses; the crawler refuses them
unless ``--allow-private`` is given. Off-site links (a spam mirror of a report) are refused too: a link is
followed only within the start URL's registrable domain or to another ``.gov.cn`` host.

``OGI_EXTRA_SITES`` (a list of domain names; the demo and the tests set ``["fixture.test"]``) names domains
under which every host is one site: the loopback virtual hosts of a test portal.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["UnsafeURL", "check_address", "check_host", "check_url", "parse_ip", "registrable_domain", "resolve_host",
           "same_site"]

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data", "metadata.tencentyun.com"})
METADATA_IPS = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("169.254.170.2"),
    }
)
# suffixes under which the registrable domain has three labels (x.gov.cn, x.com.cn, …)
SECOND_LEVEL = ("gov.cn", "com.cn", "org.cn", "net.cn", "edu.cn", "ac.cn")
TRUSTED_SUFFIXES = (".gov.cn",)


class UnsafeURL(ValueError):
    """A URL the crawler must not fetch (private address, bad scheme, off-site)."""


def registrable_domain(host: str, extra_sites: Iterable[str] = ()) -> str:
    """Given a host name, return its site key: ``www.gz.gov.cn`` -> ``gz.gov.cn``; with ``extra_sites``
    ``("fixture.test",)``, ``city-a.fixture.test`` -> ``fixture.test``."""
    host = normal_host(host)
    ip = parse_ip(host)
    if ip is not None:  # an IP address is its own site (127.0.0.1 and 10.0.0.1 share no "last two labels")
        return str(ip)
    for site in extra_sites:
        site = site.lower().strip(".")
        if site and (host == site or host.endswith("." + site)):
            return site
    labels = host.split(".")
    for suffix in SECOND_LEVEL:
        if host == suffix or host.endswith("." + suffix):
            n = suffix.count(".") + 2
            return ".".join(labels[-n:])
    return ".".join(labels[-2:])


def same_site(url: str, other: str, extra_sites: Iterable[str] = ()) -> bool:
    """True when ``url`` may be followed from a crawl that started at ``other`` (``extra_sites``: see the
    module docstring)."""
    host = normal_host(urlsplit(url).hostname or "")
    start = normal_host(urlsplit(other).hostname or "")
    if not host:
        return False
    if host == start or registrable_domain(host, extra_sites) == registrable_domain(start, extra_sites):
        return True
    return host.endswith(TRUSTED_SUFFIXES) and start.endswith(TRUSTED_SUFFIXES)


def embedded_ipv4(addr: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Given an IPv6 address, return the IPv4 addresses it carries: IPv4-mapped (``::ffff:a.b.c.d``),
    IPv4-compatible (``::a.b.c.d``), 6to4 (``2002:AABB:CCDD::/16``), NAT64 (``64:ff9b::/96``) and Teredo
    (``2001::/32``: server and client)."""
    out: list[ipaddress.IPv4Address] = []
    if addr.ipv4_mapped:
        out.append(addr.ipv4_mapped)
    if addr.sixtofour:
        out.append(addr.sixtofour)
    if addr.teredo:
        out.extend(addr.teredo)
    packed = int(addr)
    if addr in NAT64 or (packed >> 32 == 0 and packed > 0xFFFF):  # NAT64 well-known, or ::a.b.c.d
        out.append(ipaddress.IPv4Address(packed & 0xFFFFFFFF))
    return out


NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # local-use NAT64 (RFC 8215): a site's own translator
SHARED = ipaddress.ip_network("100.64.0.0/10")


def _one_address_problem(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if addr in METADATA_IPS:
        return "metadata"
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_multicast or addr.is_unspecified or addr.is_reserved:
        return "reserved"
    if addr.is_private or addr in SHARED or (isinstance(addr, ipaddress.IPv6Address) and addr in NAT64_LOCAL):
        return "private"
    if not addr.is_global:
        return "reserved"
    return None


def check_address(ip: str) -> str | None:
    """Why an IP address is forbidden ('loopback', 'private', 'link-local', 'metadata', 'reserved', …), or
    None. An IPv6 address is judged by every IPv4 address it embeds too (mapped, compatible, 6to4, NAT64,
    Teredo): ``2002:7f00:1::1`` is loopback."""
    addr = parse_ip(ip)
    if addr is None:
        return "bad-address"
    if isinstance(addr, ipaddress.IPv6Address):
        for inner in embedded_ipv4(addr):
            reason = _one_address_problem(inner)
            if reason:
                return reason
        if addr.ipv4_mapped or addr in NAT64:
            return None  # judged as the IPv4 address it maps or translates
    return _one_address_problem(addr)


_LEGACY_V4 = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$", re.I)


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Given a host as written in a URL, return the IP address it denotes, or None for a name.

    Brackets, an IPv6 zone and one trailing dot are ignored; the legacy IPv4 forms that ``inet_aton`` (and so
    every resolver and proxy) accepts are read too: ``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``."""
    host = text.strip().lower().strip("[]").split("%", 1)[0]
    if host.endswith("."):
        host = host[:-1]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_V4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def normal_host(host: str) -> str:
    """Given a URL host, return it lower-cased without brackets or trailing dots (``localhost.`` -> ``localhost``)."""
    return host.strip().lower().strip("[]").rstrip(".")


def resolve_host(host: str, port: int | None = None) -> tuple[str, ...]:
    """Given a host name, return every address it resolves to now (never cached: each request resolves
    again); raise :class:`UnsafeURL` ('unresolvable') when it does not resolve: fail closed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeURL(f"{host} did not resolve ({type(exc).__name__}): unresolvable") from None
    addresses = tuple(sorted({str(info[4][0]) for info in infos}))
    if not addresses:
        raise UnsafeURL(f"{host} resolved to no address: unresolvable")
    return addresses


def check_host(host: str, *, allow_private: bool = False, resolve: bool = True,
               port: int | None = None) -> tuple[str, ...]:
    """Given a URL host, return the addresses it may be reached at; raise :class:`UnsafeURL` when any of them
    (or the name itself: ``localhost.``, a metadata name) is forbidden, or when it does not resolve.

    ``allow_private`` lifts the refusal of loopback/private addresses (tests, the demo), not of cloud metadata.
    ``resolve=False`` checks only what the host says by itself (an IP in any form, a forbidden name)."""
    name = normal_host(host)
    if not name:
        raise UnsafeURL("no host")
    if name in METADATA_HOSTS:
        raise UnsafeURL(f"{host}: metadata")
    if not allow_private and (name == "localhost" or name.endswith(".localhost")):
        raise UnsafeURL(f"{host}: loopback")
    literal = parse_ip(name)
    if literal is not None:
        addresses: tuple[str, ...] = (str(literal),)
    elif not resolve:
        return ()
    else:
        addresses = resolve_host(name, port)
    for ip in addresses:
        reason = check_address(ip)
        if reason == "metadata" or (reason and not allow_private):
            raise UnsafeURL(f"{host} resolves to {ip}: {reason}")
    return addresses


def check_url(url: str, *, allow_private: bool = False, resolve: bool = True) -> None:
    """Raise :class:`UnsafeURL` when ``url`` must not be fetched: a scheme other than http(s), a forbidden
    address among everything its host resolves to now, or a host that does not resolve (fail closed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL(f"scheme {parts.scheme or '(none)'!r} not allowed")
    host = parts.hostname or ""
    if not host:
        raise UnsafeURL("no host")
    try:
        port = parts.port
    except ValueError:
        raise UnsafeURL(f"{url[:80]}: bad port") from None
    check_host(host, allow_private=allow_private, resolve=resolve, port=port)
