"""One base spider per portal family. Each holds all the crawl logic of its family; an agency spider is a
few declarative attributes (name, agency, start_urls)."""

from __future__ import annotations

from crawler.spiders.families.base import ReportSpider, SourceInfo
from crawler.spiders.families.generic import GenericListSpider
from crawler.spiders.families.gkmlpt import GkmlptSpider
from crawler.spiders.families.hanweb import HanwebJpageSpider
from crawler.spiders.families.trs import TrsStaticSpider

__all__ = ["GenericListSpider", "GkmlptSpider", "HanwebJpageSpider", "ReportSpider", "SourceInfo", "TrsStaticSpider"]
