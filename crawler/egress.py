"""Egress enforced at connection time: the crawl's Twisted name resolver checks every address it returns.

:class:`CheckedResolver` (``TWISTED_DNS_RESOLVER = "crawler.egress.CheckedResolver"``) replaces Scrapy's
caching resolver. For every connection Twisted makes it resolves the host again (no cache: a name that answered
a public address a moment ago and now answers 127.0.0.1 — DNS rebinding — is refused now), checks every address
with :func:`crawler.safety.check_host` (IPv4, IPv6, IPv4-mapped, 6to4, NAT64, Teredo, legacy IPv4 forms,
trailing-dot names) and hands Twisted only those checked addresses, so the socket connects to exactly what was
checked. A name that does not resolve, or any of whose addresses is forbidden, yields no address: Twisted fails
the request with a DNS lookup error (fail closed), which reaches the spider's errback as a recorded failure.

The request-time check (:class:`crawler.middlewares.SafetyMiddleware`, every request including robots.txt,
redirect hops and retries) stays the first line: it gives the refusal its ``unsafe/<kind>`` reason, and behind
an HTTP proxy it is the check that keeps a forbidden target from ever reaching the proxy (the proxy, not this
process, resolves the target there).

The proxy itself is the operator's choice, not a page's: the hosts of ``http_proxy``/``https_proxy`` (the
environment Scrapy's HttpProxyMiddleware reads), of ``OGI_PROXY_HOSTS`` and of ``OGI_HOST_MAP`` targets are
resolved without the check. ``OGI_ALLOW_PRIVATE`` lifts the check of loopback/private addresses (the demo and
the tests), never that of cloud metadata addresses.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IHostnameResolver, IHostResolution
from twisted.internet.threads import deferToThreadPool
from zope.interface import implementer

from crawler.safety import UnsafeURL, check_host, normal_host, resolve_host

__all__ = ["REFUSED", "CheckedResolver", "proxy_hosts"]

logger = logging.getLogger(__name__)

REFUSED: Counter[str] = Counter()  # refusal kind -> connections refused in this process (tests, stats)
PROXY_ENV = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


def proxy_hosts(settings: Any = None, environ: dict[str, str] | None = None) -> frozenset[str]:
    """Given the crawl settings and the environment, return the host names of the configured proxies
    (``*_proxy`` variables, ``OGI_PROXY_HOSTS``, ``OGI_HOST_MAP`` targets): the hosts resolved unchecked."""
    env = os.environ if environ is None else environ
    hosts: set[str] = set()
    for key in PROXY_ENV:
        value = env.get(key) or ""
        if value:
            host = urlsplit(value if "://" in value else f"http://{value}").hostname
            if host:
                hosts.add(normal_host(host))
    if settings is not None:
        hosts.update(normal_host(h) for h in settings.getlist("OGI_PROXY_HOSTS") or [])
        for target in dict(settings.getdict("OGI_HOST_MAP") or {}).values():
            hosts.add(normal_host(str(target).rsplit(":", 1)[0]))
    return frozenset(h for h in hosts if h)


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str) -> None:
        self.name = name

    def cancel(self) -> None:  # pragma: no cover - Twisted never cancels a getaddrinfo in a thread
        pass


def _kind(exc: UnsafeURL) -> str:
    text = str(exc)
    return text.rsplit(": ", 1)[-1].split()[0] if ": " in text else "address"


@implementer(IHostnameResolver)
class CheckedResolver:
    """Given the reactor and the crawl settings, a name resolver that returns only checked addresses."""

    def __init__(self, reactor: Any, *, allow_private: bool = False, trusted: Iterable[str] = ()) -> None:
        self.reactor = reactor
        self.allow_private = allow_private
        self.trusted = frozenset(normal_host(h) for h in trusted)

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> CheckedResolver:
        """Scrapy builds the resolver with the CrawlerProcess (it carries the settings)."""
        settings = crawler.settings
        return cls(reactor, allow_private=settings.getbool("OGI_ALLOW_PRIVATE"), trusted=proxy_hosts(settings))

    def install_on_reactor(self) -> None:
        """Make this the reactor's name resolver (also behind ``reactor.resolve``)."""
        self.reactor.installNameResolver(self)

    def addresses(self, host: str, port: int = 0) -> tuple[str, ...]:
        """Given a host, return the addresses a connection may use now; raise :class:`UnsafeURL` when it must
        not be reached (a forbidden address, no address)."""
        if normal_host(host) in self.trusted:
            return resolve_host(normal_host(host), port or None)
        return check_host(host, allow_private=self.allow_private, port=port or None)

    def resolveHostName(self, resolutionReceiver: Any, hostName: str,
                        portNumber: int = 0, addressTypes: Sequence[type[Any]] | None = None,
                        transportSemantics: str = "TCP") -> IHostResolution:
        """Resolve ``hostName`` in a thread and report only checked addresses (none: the connect fails)."""
        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        wanted = tuple(addressTypes) if addressTypes else (IPv4Address, IPv6Address)
        d = deferToThreadPool(self.reactor, self.reactor.getThreadPool(), self._checked, hostName, portNumber)

        def deliver(addresses: tuple[str, ...]) -> None:
            for ip in addresses:
                is_v6 = ":" in ip
                cls = IPv6Address if is_v6 else IPv4Address
                if cls in wanted:
                    resolutionReceiver.addressResolved(cls("TCP", ip, portNumber))
            resolutionReceiver.resolutionComplete()

        def failed(failure: Any) -> None:
            logger.error("egress resolver failed on %s: %s", hostName, failure.getErrorMessage())
            resolutionReceiver.resolutionComplete()

        d.addCallbacks(deliver, failed)
        return resolution  # type: ignore[return-value]  # provides IHostResolution (zope, not a base class)

    def _checked(self, host: str, port: int) -> tuple[str, ...]:
        try:
            return self.addresses(host, port)
        except UnsafeURL as exc:
            kind = _kind(exc)
            REFUSED[kind] += 1
            logger.warning("egress refused at connect time: %s (%s)", exc, kind)
            return ()
        except (OSError, UnicodeError) as exc:  # fail closed
            REFUSED["unresolvable"] += 1
            logger.warning("egress refused at connect time: %s did not resolve (%s)", host, exc)
            return ()

