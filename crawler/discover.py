"""Source discovery: from a portal's 政府信息公开 page, a department directory or a home page, find the
annual-report columns (政府信息公开年报) of the body and of its departments, as ``sources.yaml`` entries.

Three kinds of evidence, all read from the page itself (nothing is hard-coded for one portal):

* **links** whose text or URL names an annual-report column (``政府信息公开年报``, ``xxgknb``, ``zfxxgkndbg`` …),
  with the confusable siblings of ``crawler.spiders.titles`` (政府网站年度报表, 政府工作报告, universities …)
  rejected and recorded;
* **department configs embedded in a script** (a TRS "动静结合" portal lists every department as
  ``{"<dept url>": {orgname: "…", chnllist: [{url, chnlname}, …]}, …}``): a chnllist entry that is itself a
  report column is taken as is, and when the page's navigation carries a *templated* report link
  (``ms-attr-href="/zwgk/zfxxgk/{{paths[5]}}/{{paths[6]}}/{{paths[7]}}/zfxxgknb/"``) the template is
  evaluated for every department URL (``paths`` = the URL split on ``/``, as the page's script does);
* **directory links** (部门信息公开, 政府信息公开, 信息公开目录 …) that :func:`discover` follows to ``depth``.

:func:`discover_page` is pure (page bytes + URL in, findings out). :func:`discover` fetches with a small
urllib client that applies ``crawler.safety`` (no private/loopback addresses unless ``allow_private``, only
same-site links, every redirect checked), fetches each candidate column once to detect its CMS family with
the crawler's own ``FAMILIES`` detectors, and records every failed fetch and every rejected link.

beautifulsoup4 (``html.parser``) reads these pages: portal and directory pages are the tag soup of
templating engines (avalon ``ms-*`` attributes, unclosed tags, script-built menus) where a tolerant parser
matters more than speed, and discovery reads a few dozen pages, not thousands.
"""

from __future__ import annotations

import logging
import re
import time
import urllib.error
import urllib.request
import urllib.robotparser
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote, urldefrag, urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup

from crawler.parsers.normalize import nfkc
from crawler.safety import UnsafeURL, check_address, check_url, registrable_domain, same_site
from crawler.spiders.titles import REJECT

__all__ = ["Candidate", "DiscoveryResult", "Fetched", "PageFindings", "detect_family", "discover",
           "discover_page", "fetch_url", "guess_level", "page_agency", "source_name"]

logger = logging.getLogger(__name__)

MAX_BYTES = 8 * 1024 * 1024
USER_AGENT = "ogi-archive-discover/1 (annual-report source discovery)"
URL_SAFE = "/%:@!$&'()*+,;=-._~"
# a link that names an annual-report column (after NFKC and whitespace removal)
COLUMN_TEXT = re.compile(
    r"信息公开(?:工作)?(?:年度)?(?:工作)?(?:年报|报告)|公开年报|公开年度报告|^年度报告$|^年报$|工作年度报告$"
)
# the URL slug of such a column: zfxxgknb, xxgknb, gknb, ndbg, zfxxgkndbg, common_zfxxgknb.shtml, gknb2017 …
COLUMN_SLUG = re.compile(r"(?:^|[_-])(?:zfxxgk|xxgk|gk)?(?:nb|ndbg|ndbb)(?:\d{4})?(?:[_-]\d+)?(?:\.s?html?)?$",
                         re.IGNORECASE)
# a single report, not a column: an article page or a document
ARTICLE_URL = re.compile(r"/t\d{8}_\d+\.s?html?$|\.(?:pdf|docx?|wps|xlsx?|zip|rar)$|/art/\d|content_\d+|post_\d+",
                         re.IGNORECASE)
YEAR = re.compile(r"(?:19|20)\d{2}\s*年")
# links worth following to find more columns (a directory of departments, the 政府信息公开 platform)
DIRECTORY_TEXT = re.compile(
    r"部门信息公开|部门公开|部门政府信息公开|政府信息公开(?:专栏|平台|目录|网站)?$|信息公开目录|信息公开专栏"
    r"|(?:乡镇|街道|区县|县区|县市区|镇街|部门|单位)(?:政府)?信息公开|政务公开$|部门(?:导航|频道|网站)$"
)
DIRECTORY_SLUG = re.compile(r"^(?:zfxxgk|xxgk|zfxxgkzl|xxgkml|zfxxgkml|bmxxgk|bmgk|dfbmptlj|xzxxgk|zzxxgk)$",
                            re.IGNORECASE)
# a department config in a script: "<url>": {orgname: "<name>" (also name/deptname/unitname/title)
SCRIPT_DEPT = re.compile(
    r"""["'](?P<url>https?://[^"'\s]+?)["']\s*:\s*\{\s*(?P<key>orgname|deptname|unitname|name|title)\s*:\s*"""
    r"""["'](?P<name>[^"']+)["']"""
)
SCRIPT_CHANNEL = re.compile(
    r"""\{[^{}]*?\burl\s*:\s*["'](?P<url>[^"']+)["'][^{}]*?\b(?:chnlname|name|title)\s*:\s*["'](?P<name>[^"']*)["']"""
)
TEMPLATE_VAR = re.compile(r"\{\{\s*paths\s*\[\s*(\d+)\s*\]\s*\}\}")
ANY_TEMPLATE = re.compile(r"\{\{.*?\}\}")
TITLE_SPLIT = re.compile(r"\s*(?:_|--|—|–|\||-)\s*")
AGENCY_END = re.compile(r"(?:人民政府|政府|管委会|管理委员会|局|厅|委员会|委|办公室|办公厅|办|署|中心|部|院|会)$")
DEPT_END = re.compile(r"(?:局|厅|委员会|委|办公室|办公厅|办|署|中心|院|馆|站|所|队|处|部|会)$")
GOV_END = re.compile(r"(?:人民政府|政府|党工委管委会|管委会|管理委员会)$")
NATIONAL = re.compile(r"^(?:国务院|国家|中华人民共和国|中央)|(?:部|总局|总署)$")
ZONE = re.compile(r"(?:综合实验区|实验区|新区|开发区|高新区|经济区|试验区|自贸区|示范区)")
MUNICIPALITIES = ("北京市", "上海市", "天津市", "重庆市")
# words whose 市/区/州 is not a place level (市场监督管理局, 社区, 园区 …)
NOT_PLACE = re.compile(r"市场|城市|超市|门市|社区|片区|园区|景区|城区|小区|校区|街区|库区|矿区|林区|牧区|辖区|区域|区划|州府")
CONFUSABLE_HINT = re.compile(r"报告|年报|报表")


def norm(text: str | None) -> str:
    """NFKC (radicals folded), every whitespace run removed: the form all matching is done on."""
    return re.sub(r"\s+", "", nfkc(text or "").replace("\u3000", " "))


@dataclass(frozen=True, slots=True)
class Candidate:
    """One annual-report column found on a page, with the evidence for it."""

    url: str
    agency: str | None
    via: str  # link | script-config | nav-template
    evidence: str  # the link text, the chnlname, or the template
    page: str  # the page it was found on
    level: str | None = None
    family: str | None = None
    checked: str | None = None  # 'ok' | 'http 404' | 'unsafe: …' | None (not fetched)
    name: str = ""

    def to_source(self) -> dict[str, Any]:
        """The ``sources.yaml`` entry: name, url, agency, level, family."""
        return {"name": self.name, "url": self.url, "agency": self.agency, "level": self.level,
                "family": self.family}


@dataclass(slots=True)
class PageFindings:
    """What one page says: report columns, directory links to follow, confusable links rejected."""

    url: str
    agency: str | None
    candidates: list[Candidate] = field(default_factory=list)
    follow: list[tuple[str, str]] = field(default_factory=list)  # (url, link text)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # (url, link text, reason)
    departments: int = 0  # departments read from a script config


@dataclass(slots=True)
class Fetched:
    """One fetched page."""

    url: str
    status: int
    body: bytes
    content_type: str


@dataclass(slots=True)
class DiscoveryResult:
    """Everything :func:`discover` found and everything it could not do."""

    start: str
    candidates: list[Candidate] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line: columns found, pages read, links rejected, fetches failed."""
        return (f"{len(self.candidates)} annual-report column(s) from {len(self.pages)} page(s); "
                f"{len(self.rejected)} confusable link(s) rejected; {len(self.failures)} fetch(es) failed")


# ---------------------------------------------------------------- page analysis (pure)


def clean_url(url: str) -> str:
    """The URL without its fragment (``#`` part); the scheme and host lower-cased."""
    url = urldefrag(url)[0]
    p = urlsplit(url)
    return urlunsplit((p.scheme.lower(), p.netloc.lower(), p.path or "/", p.query, ""))


def page_agency(soup: BeautifulSoup) -> str | None:
    """The body that publishes the page: ``SiteName`` meta, else the ``<title>``'s last part ("…_<site>")."""
    for meta_name in ("SiteName", "sitename", "siteName"):
        tag = soup.find("meta", attrs={"name": meta_name})
        content = str(tag.get("content") or "").strip() if tag else ""
        if content:
            return nfkc(content).strip()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    parts = [p for p in TITLE_SPLIT.split(nfkc(title)) if p]
    if len(parts) > 1 and AGENCY_END.search(norm(parts[-1])):
        return parts[-1].strip()
    return None


def guess_level(agency: str | None) -> str | None:
    """A guess of an agency's level from its name: national, provincial, city, county, zone, township, or
    ``<level>-department`` for a department of such a body (``department`` when the place is not named)."""
    a = norm(agency)
    if not a:
        return None
    if re.search(r"(?:乡|镇|街道)(?:人民政府|政府|办事处)?$", a):
        return "township"
    is_gov = bool(GOV_END.search(a))
    is_dept = not is_gov and bool(DEPT_END.search(a))
    head = GOV_END.sub("", a) if is_gov else a
    place = _place_level(head)
    if place is None and NATIONAL.search(a):
        return "national"
    if is_dept:
        return f"{place}-department" if place else "department"
    return place


def _place_level(name: str) -> str | None:
    """The level of the deepest place named at the start of ``name`` (江苏省南京市 -> city)."""
    name = NOT_PLACE.sub("", name)
    if name.startswith(MUNICIPALITIES) and not re.search(r"(?:区|县)", name[3:]):
        return "provincial"
    level = None
    for m in re.finditer(r"综合实验区|实验区|新区|开发区|高新区|试验区|示范区|片区|自治区|省|自治州|市|州|盟|地区|县|旗|区",
                         name):
        tok = m.group(0)
        if tok == "片区":
            continue
        if ZONE.fullmatch(tok):
            level = "zone"
        elif tok in ("省", "自治区"):
            level = "provincial"
        elif tok in ("市", "州", "自治州", "盟", "地区"):
            level = "provincial" if name[: m.end()] in MUNICIPALITIES else "city"
        else:
            level = "county"
    return level


def source_name(url: str, taken: Iterable[str] = ()) -> str:
    """A unique source name from the URL: ``<site>_<dir>_<column>`` (``pingtan_ptzhsyqczj_zfxxgknb``)."""
    p = urlsplit(url)
    site = registrable_domain(p.hostname or "site").split(".")[0]
    segs = [s for s in p.path.split("/") if s and not re.fullmatch(r"index(?:_\d+)?\.\w+", s)]
    segs = [re.sub(r"\.\w+$", "", s) for s in segs]
    taken = set(taken)
    for n in range(2, len(segs) + 1):
        name = "_".join([site, *segs[-n:]])
        if name not in taken:
            return name
    base, i = "_".join([site, *segs]) if segs else site, 2
    while f"{base}_{i}" in taken:
        i += 1
    return base if base not in taken else f"{base}_{i}"


def _links(soup: BeautifulSoup) -> Iterable[tuple[str, str, bool]]:
    """Every link of the page as (href, text, templated): ``href`` and template attributes (``ms-attr-href``,
    ``:href``, ``v-bind:href``, ``data-href``); text from the tag's text, ``title`` and image ``alt``."""
    for a in soup.find_all("a"):
        text = a.get_text(" ", strip=True) or str(a.get("title") or "")
        if not text:
            img = a.find("img")
            text = str(img.get("alt") or "") if img else ""
        title = str(a.get("title") or "")
        if len(norm(title)) > len(norm(text)):
            text = title
        for attr, value in a.attrs.items():
            if not isinstance(value, str) or not value.strip():
                continue
            if attr.endswith("href"):
                templated = "{{" in value or attr != "href"
                yield value.strip(), text, templated


def _is_column(href: str, text: str) -> tuple[bool, str | None]:
    """(names a report column?, rejection reason) for one link."""
    t = norm(text)
    path = urlsplit(href).path.rstrip("/")
    slug = path.rsplit("/", 1)[-1]
    by_text = bool(COLUMN_TEXT.search(t))
    by_slug = bool(COLUMN_SLUG.search(slug))
    if not (by_text or by_slug):
        return False, None
    if REJECT.search(t):
        return False, "confusable"
    if ARTICLE_URL.search(path):
        return False, "report-not-column"
    if by_slug and not by_text and t and YEAR.search(t) is None and not re.search(r"年报|报告|nb|ndbg", t, re.I):
        return False, None  # a slug alone with an unrelated text (…/gknb/ labelled 公开指南) is not enough
    return True, None


def _link_agency(text: str) -> str | None:
    """The agency a link names before the column words ("市财政局政府信息公开年报" -> 市财政局), or None."""
    t = norm(text)
    m = COLUMN_TEXT.search(t)
    head = re.sub(r"(?:政府)?(?:信息)?$", "", t[: m.start()]) if m else ""
    head = re.sub(r"\d{4}年(?:度)?$", "", head)
    return head if len(head) >= 2 and AGENCY_END.search(head) else None


def _is_directory(href: str, text: str) -> bool:
    t = norm(text)
    slug = urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1]
    return bool(DIRECTORY_TEXT.search(t)) or (bool(DIRECTORY_SLUG.match(slug)) and not REJECT.search(t))


def _agency_for(url: str, prefixes: list[tuple[str, str]], default: str | None) -> str | None:
    """The agency of a column: the department whose URL is the longest prefix of it, else ``default``."""
    best = None
    for base, name in prefixes:
        if url.startswith(base) and (best is None or len(base) > len(best[0])):
            best = (base, name)
    return best[1] if best else default


def _eval_template(template: str, base: str, page_url: str) -> str | None:
    """A ``{{paths[i]}}`` template evaluated for the URL ``base`` (``paths`` = ``base`` split on ``/``), made
    absolute against the page; None when it has another placeholder or does not lead under ``base``."""
    paths = base.split("/")

    def sub(m: re.Match[str]) -> str:
        i = int(m.group(1))
        return paths[i] if i < len(paths) else "\x00"

    out = TEMPLATE_VAR.sub(sub, template)
    if "\x00" in out or ANY_TEMPLATE.search(out) or "//" in urlsplit(out).path:
        return None
    url = clean_url(urljoin(page_url, out))
    return url if url.startswith(base) and url != base else None


def _script_departments(soup: BeautifulSoup, page_url: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Departments of a script config: (dept url, name, [(channel url, channel name), …]) in page order."""
    out: list[tuple[str, str, list[tuple[str, str]]]] = []
    seen: set[str] = set()
    for script in soup.find_all("script"):
        text = script.string or script.get_text() or ""
        matches = list(SCRIPT_DEPT.finditer(text))
        for i, m in enumerate(matches):
            dept = clean_url(urljoin(page_url, m.group("url")))
            if dept in seen:
                continue
            seen.add(dept)
            end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
            chans = [(clean_url(urljoin(page_url, c.group("url"))), nfkc(c.group("name")).strip())
                     for c in SCRIPT_CHANNEL.finditer(text, m.end(), end)]
            out.append((dept, nfkc(m.group("name")).strip(), chans))
    return out


def discover_page(body: bytes | str, url: str) -> PageFindings:
    """Given a page (bytes or text) and its URL, return the report columns it names, the directory links worth
    following and the confusable links it rejected (no fetching)."""
    soup = BeautifulSoup(body, "html.parser")
    url = clean_url(url)
    site_agency = page_agency(soup)
    found = PageFindings(url=url, agency=site_agency)
    links = list(_links(soup))
    depts = _script_departments(soup, url)
    found.departments = len(depts)
    # agencies by URL prefix: departments of a script config, then agency-like link texts (breadcrumbs)
    prefixes: list[tuple[str, str]] = [(d, name) for d, name, _ in depts]
    for href, text, templated in links:
        if not templated and href.endswith("/") and AGENCY_END.search(norm(text)) and len(norm(text)) <= 40:
            prefixes.append((clean_url(urljoin(url, href)), nfkc(text).strip()))
    seen: set[str] = set()

    def add(column: str, via: str, evidence: str, agency: str | None) -> None:
        if column in seen or not same_site(column, url):
            return
        seen.add(column)
        found.candidates.append(Candidate(url=column, agency=agency, via=via, evidence=evidence, page=url,
                                          level=guess_level(agency)))

    templates: list[tuple[str, str]] = []
    for href, text, templated in links:
        if href.startswith(("javascript:", "mailto:", "tel:", "#")):
            continue
        is_col, reason = _is_column(href, text)
        if templated:
            if is_col and TEMPLATE_VAR.search(href):
                templates.append((href, text))
            continue
        absolute = clean_url(urljoin(url, href))
        if reason == "confusable" or (REJECT.search(norm(text)) and CONFUSABLE_HINT.search(norm(text))):
            found.rejected.append((absolute, nfkc(text).strip(), "confusable"))
        elif is_col:
            own = _link_agency(text)
            add(absolute, "link", nfkc(text).strip(), own or _agency_for(absolute, prefixes, site_agency))
        elif _is_directory(href, text) and absolute != url:
            found.follow.append((absolute, nfkc(text).strip()))
    for dept, name, chans in depts:
        for chan_url, chan_name in chans:
            is_col, reason = _is_column(chan_url, chan_name)
            if is_col:
                add(chan_url, "script-config", chan_name, name)
            elif reason == "confusable":
                found.rejected.append((chan_url, chan_name, reason))
        for template, text in templates:
            column = _eval_template(template, dept, url)
            if column:
                add(column, "nav-template", f"{norm(text)} {template}", name)
        if not templates:
            found.follow.append((dept, name))
    for template, text in templates:  # the page's own department (its URL fills the template too)
        base = next((d for d, _, _ in depts if url.startswith(d)), None)
        for prefix in sorted({p for p, _ in prefixes if url.startswith(p)} | ({base} if base else set()), key=len):
            column = _eval_template(template, prefix, url)
            if column:
                add(column, "nav-template", f"{norm(text)} {template}",
                    _agency_for(column, prefixes, site_agency))
    for option in soup.find_all("option"):  # department-site dropdowns (部门网站 <select onchange=…>)
        value = str(option.get("value") or "").strip()
        text = nfkc(option.get_text(" ", strip=True)).strip()
        if value.startswith(("http://", "https://", "/")) and AGENCY_END.search(norm(text)):
            target = clean_url(urljoin(url, value))
            if same_site(target, url) and target != url:
                found.follow.append((target, text))
    found.follow = list(dict.fromkeys(found.follow))
    return found


# ---------------------------------------------------------------- fetching (urllib, crawler.safety rules)


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Refuse a redirect to an address or site the crawl may not fetch."""

    def __init__(self, allow_private: bool, host_map: dict[str, str]) -> None:
        self.allow_private, self.host_map = allow_private, host_map

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        original = req.get_header("X-ogi-original") or req.full_url
        target = urljoin(original, newurl)
        _check(target, self.allow_private, self.host_map)
        return _request(target, self.host_map)


def _mapped(host: str, host_map: dict[str, str]) -> str | None:
    host = host.lower()
    return next((t for n, t in host_map.items() if host == n or host.endswith("." + n)), None)


def _check(url: str, allow_private: bool, host_map: dict[str, str]) -> None:
    target = _mapped(urlsplit(url).hostname or "", host_map)
    if target is not None:
        reason = check_address(target.rsplit(":", 1)[0])
        if reason and not allow_private:
            raise UnsafeURL(f"{url} is mapped to {target}: {reason}")
        return
    check_url(url, allow_private=allow_private)


def _request(url: str, host_map: dict[str, str]) -> urllib.request.Request:
    p = urlsplit(url)
    target = _mapped(p.hostname or "", host_map)
    path, query = quote(p.path or "/", safe=URL_SAFE), quote(p.query, safe=URL_SAFE + "?")
    wire = urlunsplit(("http" if target else p.scheme, target or p.netloc, path, query, ""))
    req = urllib.request.Request(wire, headers={"User-Agent": USER_AGENT, "Accept": "text/html,*/*;q=0.5"})
    if target:
        req.add_header("Host", p.netloc)
        req.add_header("X-ogi-original", url)
    return req


def fetch_url(url: str, *, allow_private: bool = False, host_map: dict[str, str] | None = None,
              timeout: float = 20.0) -> Fetched:
    """Given a URL, return the fetched page (any HTTP status); UnsafeURL when the safety rules refuse it or a
    redirect, OSError on a network failure. ``host_map`` (``{"example.gov.cn": "127.0.0.1:8080"}``) serves
    a domain from another address (tests: the saved pages on loopback)."""
    host_map = dict(host_map or {})
    _check(url, allow_private, host_map)
    opener = urllib.request.build_opener(_CheckedRedirects(allow_private, host_map))
    req = _request(url, host_map)
    try:
        with opener.open(req, timeout=timeout) as resp:
            body = resp.read(MAX_BYTES + 1)[:MAX_BYTES]
            final = resp.headers.get("X-ogi-original") or url
            return Fetched(url=final, status=resp.status, body=body,
                           content_type=resp.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as exc:
        return Fetched(url=url, status=exc.code, body=exc.read(MAX_BYTES) if exc.fp else b"",
                       content_type=exc.headers.get("Content-Type", "") if exc.headers else "")


def detect_family(body: bytes, url: str, content_type: str = "text/html") -> str:
    """Given a fetched column page, return the crawler family that would crawl it (the crawler's own detectors,
    in ``FAMILIES`` order)."""
    from scrapy.http import HtmlResponse

    from crawler.spiders.families import FAMILIES

    response = HtmlResponse(url, body=body, headers={"Content-Type": content_type or "text/html"})
    return next(m.family for m in FAMILIES if m.detect(response))


def discover(start: str, *, depth: int = 1, allow_private: bool = False, host_map: dict[str, str] | None = None,
             max_pages: int = 60, check_columns: bool = True, timeout: float = 20.0, delay: float = 0.0,
             fetch: Callable[[str], Fetched] | None = None) -> DiscoveryResult:
    """Given a start URL, read it and the directory pages it links (breadth first, ``depth`` levels, at most
    ``max_pages``), and return the annual-report columns found, each fetched once (``check_columns``) for its
    family; failed fetches (robots.txt refusals included) and rejected links are kept in the result.
    ``delay`` seconds pass between two requests."""
    raw = fetch or (lambda u: fetch_url(u, allow_private=allow_private, host_map=host_map, timeout=timeout))
    get = _Polite(raw, delay)
    result = DiscoveryResult(start=start)
    by_url: dict[str, Candidate] = {}
    queue: list[tuple[str, int]] = [(clean_url(start), 0)]
    visited: set[str] = set()
    while queue and len(result.pages) < max_pages:
        url, level = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        page = _get(get, url, result)
        if page is None:
            continue
        result.pages.append(url)
        found = discover_page(page.body, page.url)
        result.rejected.extend(r for r in found.rejected if r not in result.rejected)
        for cand in found.candidates:
            by_url.setdefault(cand.url, cand)
        if level < depth:
            queue.extend((u, level + 1) for u, _ in found.follow if u not in visited and same_site(u, start))
    if queue and len(result.pages) >= max_pages:
        result.failures.extend((u, "page limit") for u, _ in queue if u not in visited)
    names: set[str] = set()
    for cand in by_url.values():
        family, checked = None, None
        if check_columns:
            page = _get(get, cand.url, result)
            if page is not None:
                family, checked = detect_family(page.body, page.url, page.content_type), "ok"
            else:
                checked = next(r for u, r in reversed(result.failures) if u == cand.url)
        name = source_name(cand.url, names)
        names.add(name)
        result.candidates.append(Candidate(**{**asdict(cand), "family": family, "checked": checked, "name": name}))
    return result


class RobotsRefused(OSError):
    """robots.txt disallows the URL for this client."""


class _Polite:
    """A fetcher that obeys each host's robots.txt (fetched once per host, through the same fetcher; an
    unreadable or missing robots.txt allows everything) and waits ``delay`` seconds between requests."""

    def __init__(self, fetch: Callable[[str], Fetched], delay: float) -> None:
        self.fetch, self.delay, self.last = fetch, delay, 0.0
        self.robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}

    def _wait(self) -> None:
        pause = self.last + self.delay - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self.last = time.monotonic()

    def __call__(self, url: str) -> Fetched:
        p = urlsplit(url)
        origin = f"{p.scheme}://{p.netloc}"
        if origin not in self.robots:
            self._wait()
            try:
                answer = self.fetch(origin + "/robots.txt")
            except (OSError, ValueError):
                answer = None
            parser = None
            if answer is not None and answer.status == 200:
                parser = urllib.robotparser.RobotFileParser()
                parser.parse(answer.body.decode("utf-8", "replace").splitlines())
            self.robots[origin] = parser
        parser = self.robots[origin]
        if parser is not None and not parser.can_fetch(USER_AGENT, url):
            raise RobotsRefused(f"robots.txt of {origin} disallows {url}")
        self._wait()
        return self.fetch(url)


def _get(get: Callable[[str], Fetched], url: str, result: DiscoveryResult) -> Fetched | None:
    """The page, or None with the reason recorded in ``result.failures``."""
    try:
        page = get(url)
    except RobotsRefused as exc:
        result.failures.append((url, f"robots: {exc}"))
        return None
    except UnsafeURL as exc:
        result.failures.append((url, f"unsafe: {exc}"))
        return None
    except (OSError, ValueError) as exc:
        result.failures.append((url, f"fetch error: {exc.__class__.__name__}: {exc}"))
        return None
    if page.status >= 400:
        result.failures.append((url, f"http {page.status}"))
        return None
    return page
