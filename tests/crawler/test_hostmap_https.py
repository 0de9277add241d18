"""A replayed portal whose URLs are https (as real portals' are): the host map serves them from the loopback
server without a TLS tunnel, and the archive keeps the real https URLs.

Before crawler/hostmap.py every https request through OGI_HOST_MAP failed at the CONNECT tunnel, so a replay
of an https portal archived nothing beyond what a plain-http start page happened to reach.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ogi.demo.portal import FJ_URL, Answer, Portal, PortalServer

from .conftest import query, run_ogi
from .test_crawl import crawl_args

pytestmark = pytest.mark.slow


HTTP, HTTPS = b"http://fj.fixture.test", b"https://fj.fixture.test"


def _as_https(answer: Answer) -> Answer:
    return replace(answer, body=answer.body.replace(HTTP, HTTPS))


def https_portal() -> Portal:
    """The sample fj portal as an https site: every absolute link its pages and API answers print is https."""
    portal = Portal()
    for key, answer in list(portal.routes.items()):
        if not key.startswith("fj.fixture.test"):
            continue
        if isinstance(answer, Answer):
            portal.routes[key] = _as_https(answer)
        else:
            portal.routes[key] = lambda method, query, data, _h=answer: _as_https(_h(method, query, data))
    return portal


@pytest.fixture(scope="module")
def fj_https(tmp_path_factory):
    server = PortalServer(https_portal()).start()
    db = tmp_path_factory.mktemp("fjs") / "ogi.db"
    try:
        result = run_ogi(*crawl_args(server, db, "--url", FJ_URL.replace("http://", "https://", 1)))
        yield {"db": db, "portal": server.portal, "result": result}
    finally:
        server.stop()


def test_every_report_of_the_https_portal_is_archived_under_its_https_url(fj_https):
    assert fj_https["result"].returncode == 0, fj_https["result"].stderr[-3000:]
    expected = {e.url.replace("http://", "https://", 1) for e in fj_https["portal"].fj_expected}
    assert len(expected) == 22
    urls = {u for (u,) in query(fj_https["db"], "SELECT url FROM reports")}
    assert urls == expected


def test_nothing_failed_at_a_tunnel(fj_https):
    reasons = query(fj_https["db"], "SELECT reason, url FROM failures")
    assert not [r for r in reasons if "tunnel" in (r[0] or "").lower() or "connect" in (r[0] or "").lower()], reasons
    fetched = {u for (u,) in query(fj_https["db"], "SELECT url FROM fetches")}
    assert fetched and all(u.startswith("https://") for u in fetched), sorted(fetched)[:5]
