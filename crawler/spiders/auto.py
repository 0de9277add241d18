"""The ``ogi`` spider: give it any list-page URL, it detects the portal family and crawls it.

``scrapy crawl ogi -a url=http://…/zfxxgknb/`` or ``ogi crawl --url …``. Detection runs over
:data:`crawler.spiders.families.FAMILIES` in order; the first family whose ``detect`` is true parses the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from crawler.spiders.families import BY_NAME, FAMILIES


def detect_family(response: Response) -> str:
    """Given a list page, return the name of the first family in FAMILIES that recognises it."""
    return next(m.family for m in FAMILIES if m.detect(response))


class AutoSpider(*(getattr(m, m.SPIDER_CLASS) for m in FAMILIES)):  # type: ignore[misc]
    """Crawls any list page by detecting its family (each family's logic lives in its spider class)."""

    name = "ogi"
    family = "auto"

    def parse_list(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """Given a list page, yield its report-link and next-page requests and what it lists.

        @sample_page
        @returns requests 1
        @returns items 1
        """
        family = ctx.get("family") or detect_family(response)
        module = BY_NAME.get(family) or BY_NAME["generic"]
        self.crawler.stats.inc_value(f"ogi/family/{module.family}")
        parse = getattr(module, f"{module.family}_parse_list")
        return parse(self, response, {**ctx, "family": module.family})
