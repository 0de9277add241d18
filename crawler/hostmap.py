"""HTTPS URLs of loopback-mapped hosts, fetched in plain HTTP from the mapped server.

``OGI_HOST_MAP`` (tests, the demo, replays of saved portals) says "this host is served by that loopback
server". ``HostMapMiddleware`` sends such requests to the server as an HTTP proxy; for ``https://`` URLs Scrapy
would open a CONNECT tunnel and a TLS session, which a replay server does not offer, so every https page of a
replayed portal (real portals are mostly https) failed. This handler, registered for the ``https`` scheme,
sends a request the middleware marked ``ogi_host_mapped`` to the mapped server as a plain proxy request for
the same path, and hands the spider the response under the original ``https://`` URL and request: links,
archive URLs, fingerprints and conditional requests all keep the real URL. Unmarked requests (every real
crawl) go through Scrapy's own handler unchanged.
"""

from __future__ import annotations

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.http import Request, Response

MAPPED = "ogi_host_mapped"


class HostMapHTTPSDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, except for https requests of a host in ``OGI_HOST_MAP``."""

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get(MAPPED) or not request.url.startswith("https://"):
            return await super().download_request(request)
        plain = request.replace(url="http://" + request.url[len("https://"):])
        response = await super().download_request(plain)
        return response.replace(url=request.url, request=request)
