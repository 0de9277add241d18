"""The ``ogi`` spider: give it any list-page URL, it detects the portal family and crawls it.

``scrapy crawl ogi -a url=http://…/zfxxgknb/`` or ``ogi crawl --url …``. Detection order: gkmlpt (JSON
catalogue), Hanweb (embedded datastore / dataproxy), TRS (pager script), then plain lists with next-links.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from scrapy.http import Response

from crawler.spiders.families import GenericListSpider, GkmlptSpider, HanwebJpageSpider, TrsStaticSpider


def detect_family(response: Response) -> str:
    """'gkmlpt' | 'hanweb' | 'trs' | 'generic' for a list page."""
    if GkmlptSpider.detect_gkmlpt(response):
        return "gkmlpt"
    if HanwebJpageSpider.detect_hanweb(response):
        return "hanweb"
    if TrsStaticSpider.detect_trs(response):
        return "trs"
    return "generic"


class AutoSpider(GkmlptSpider, HanwebJpageSpider, TrsStaticSpider, GenericListSpider):
    """Crawls any list page by detecting its family (each family's logic lives in its base class)."""

    name = "ogi"
    family = "auto"

    def parse_list(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        family = ctx.get("family") or detect_family(response)
        self.crawler.stats.inc_value(f"ogi/family/{family}")
        handlers: dict[str, Callable[[Response, dict[str, Any]], Iterator[Any]]] = {
            "gkmlpt": self.gkmlpt_parse_list,
            "hanweb": self.hanweb_parse_list,
            "trs": self.trs_parse_list,
            "generic": self.generic_parse_list,
        }
        return handlers.get(family, self.generic_parse_list)(response, {**ctx, "family": family})
