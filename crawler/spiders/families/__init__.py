"""The portal families, registered by a plain list (like Datasette's DEFAULT_PLUGINS).

``FAMILIES`` is in detection order: the first family whose ``detect(response)`` is true crawls the page.
Each family module exposes ``family`` (its name), ``detect(response) -> bool``, ``SPIDER_CLASS`` (the name of its spider
class, a :class:`ReportSpider`) and ``<family>_parse_list(spider, response, ctx)``. Adding a family is one new module,
one line here and a frozen-page test.
"""

from __future__ import annotations

from types import ModuleType

from crawler.spiders.families import generic, gkmlpt, hanweb, trs, trs_dynamic
from crawler.spiders.families.base import ReportSpider
from crawler.spiders.families.generic import GenericListSpider
from crawler.spiders.families.gkmlpt import GkmlptSpider
from crawler.spiders.families.hanweb import HanwebJpageSpider
from crawler.spiders.families.trs import TrsStaticSpider
from crawler.spiders.families.trs_dynamic import TrsDynamicSpider

FAMILIES: tuple[ModuleType, ...] = (
    gkmlpt,  # a JS shell backed by a JSON API (window._CONFIG)
    hanweb,  # an embedded jpage datastore / dataproxy.jsp
    trs_dynamic,  # TRS 动静结合: listModel({...}) from list2.trsapi, static rows then a search API (POST)
    trs,  # a TRS pager script (createPageHTML / countPage)
    generic,  # anything else: links and next-links (always detects)
)
BY_NAME: dict[str, ModuleType] = {m.family: m for m in FAMILIES}

__all__ = ["BY_NAME", "FAMILIES", "GenericListSpider", "GkmlptSpider", "HanwebJpageSpider", "ReportSpider",
           "TrsDynamicSpider", "TrsStaticSpider"]
