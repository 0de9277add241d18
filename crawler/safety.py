"""Which addresses and hosts the crawler may fetch.

A hostile page can link to loopback, private, link-local or cloud-metadata addresses; the crawler refuses them
unless ``--allow-private`` is given. Off-site links (a spam mirror of a report) are refused too: a link is
followed only within the start URL's registrable domain or to another ``.gov.cn`` host.

``OGI_EXTRA_SITES`` (a list of domain names; the demo and the tests set ``["fixture.test"]``) names domains
under which every host is one site: the loopback virtual hosts of a test portal.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

__all__ = ["UnsafeURL", "check_address", "check_url", "registrable_domain", "same_site"]

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
    host = host.lower().rstrip(".")
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
    host = (urlsplit(url).hostname or "").lower()
    start = (urlsplit(other).hostname or "").lower()
    if not host:
        return False
    if host == start or registrable_domain(host, extra_sites) == registrable_domain(start, extra_sites):
        return True
    return host.endswith(TRUSTED_SUFFIXES) and start.endswith(TRUSTED_SUFFIXES)


def check_address(ip: str) -> str | None:
    """Why an IP address is forbidden ('loopback', 'private', 'link-local', 'metadata', …), or None."""
    try:
        addr = ipaddress.ip_address(ip.split("%")[0])
    except ValueError:
        return "bad-address"
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    if addr in METADATA_IPS:
        return "metadata"
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_multicast or addr.is_unspecified or addr.is_reserved:
        return "reserved"
    if addr.is_private or addr in ipaddress.ip_network("100.64.0.0/10"):
        return "private"
    return None


@lru_cache(maxsize=4096)
def _resolve(host: str) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return ()
    return tuple(sorted({info[4][0] for info in infos}))


def check_url(url: str, *, allow_private: bool = False, resolve: bool = True) -> None:
    """Raise :class:`UnsafeURL` when ``url`` must not be fetched. Every resolved address is checked."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL(f"scheme {parts.scheme or '(none)'!r} not allowed")
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeURL("no host")
    if allow_private:
        return
    if host in METADATA_HOSTS:
        raise UnsafeURL(f"{host}: metadata host")
    if host == "localhost" or host.endswith(".localhost"):
        raise UnsafeURL(f"{host}: loopback")
    try:
        ipaddress.ip_address(host)
        addresses: tuple[str, ...] = (host,)
    except ValueError:
        addresses = _resolve(host) if resolve else ()
    for ip in addresses:
        reason = check_address(ip)
        if reason:
            raise UnsafeURL(f"{host} resolves to {ip}: {reason}")
