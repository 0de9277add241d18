"""Declarative spiders for single real portals: a family base plus a few facts. Adding one is this small.

None of these start URLs has been verified live (portals.md §5): a failed crawl is recorded with its reason.
"""

from __future__ import annotations

from crawler.spiders.families import GkmlptSpider, HanwebJpageSpider, TrsStaticSpider


class MvaAnnualReports(TrsStaticSpider):
    name = "cn_mva"
    agency = "退役军人事务部"
    level = "national"
    start_urls = ["https://www.mva.gov.cn/gongkai/zfxxgkpt/zfxxgknb/"]  # noqa: RUF012


class ShandongGovOffice(HanwebJpageSpider):
    name = "sd_gov_office"
    agency = "山东省人民政府办公厅"
    region = "山东省"
    level = "provincial"
    start_urls = ["http://gb.shandong.gov.cn/col/col341595/index.html"]  # noqa: RUF012


class GuangzhouGovOffice(GkmlptSpider):
    name = "gz_gov_office"
    agency = "广州市人民政府办公厅"
    region = "广东省广州市"
    level = "city"
    start_urls = ["https://www.gz.gov.cn/zfjgzy/gzsrmzfbgt/zfxxgknb/"]  # noqa: RUF012
