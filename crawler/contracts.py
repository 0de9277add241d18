"""Scrapy contracts (``scrapy check``) for every spider, against the sample portal (ogi/demo/portal.py).

``@sample_page`` sends the contract's request to the list page of the sample portal that the spider's family
serves (:data:`SAMPLE_PAGES`, by spider name), with the ``ctx`` a start request carries; the builtin
``@returns`` then checks what the callback yields. Run it with the portal on loopback:

    python -m ogi.demo.portal 8765 &
    scrapy check -s OGI_ALLOW_PRIVATE=1 -s 'OGI_HOST_MAP={"fixture.test": "127.0.0.1:8765"}' \\
        -s 'OGI_EXTRA_SITES=["fixture.test"]'

(``tests/crawler/test_scrapy_conventions.py`` does that.) A spider run by ``scrapy check`` has no start URL,
so it runs without the archive pipeline (crawler.spiders.families.base): nothing is written.
"""

from __future__ import annotations

from typing import Any

from scrapy.contracts import Contract

SAMPLE_PAGES: dict[str, str] = {
    "ogi": "http://hub.fixture.test/zfxxgknb/",
    "generic": "http://county.fixture.test/InfoPublic.aspx?cid=1019&pid=971&page=1&kw=",
    "trs": "http://ministry.fixture.test/zfxxgk/zfxxgknb/index.html",
    "trs_dynamic": "http://fj.fixture.test/zwgk/zfxxgk/gaj/zfxxgknb/",
    "hanweb": "http://province.fixture.test/col/col1001/index.html",
    "gkmlpt": "http://city.fixture.test/gkmlpt/index",
}


class SamplePageContract(Contract):
    """``@sample_page``: the request goes to the spider's sample list page, as a start request would."""

    name = "sample_page"

    def __init__(self, method: Any, *args: Any) -> None:
        super().__init__(method, *args)
        self.spider = method.__self__  # the bound spider instance

    def adjust_request_args(self, args: dict[str, Any]) -> dict[str, Any]:
        """Given the contract request's arguments, return them aimed at the sample page with a start ctx."""
        spider = self.spider
        url = SAMPLE_PAGES[spider.name]
        ctx = {"source": f"scrapy-check:{spider.name}", "site": url, "agency": None, "region": None,
               "level": None, "depth": 0, "family": None if spider.name == "ogi" else spider.family}
        args["url"] = url
        args["cb_kwargs"] = {"ctx": ctx}
        args["meta"] = {**(args.get("meta") or {}), "ogi_kind": "list", "ogi_site": url, "ogi_source": ctx["source"],
                        "handle_httpstatus_list": [304]}
        args["dont_filter"] = True
        return args
