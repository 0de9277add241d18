"""Scrapy settings for OGI Archive (``scrapy.cfg``: ``default = crawler.settings``).

Politeness: an honest User-Agent with a contact URL, robots.txt obeyed, AutoThrottle, at most 2 concurrent
requests per host, retries with back-off and Retry-After honoured. Safety: private/loopback/metadata
addresses refused unless ``OGI_ALLOW_PRIVATE``; size and time limits per response.
"""

from __future__ import annotations

BOT_NAME = "ogi-archive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = (
    "OGI-Archive/0.1 (+https://github.com/ogi-archive/ogi-archive; "
    "archive of 政府信息公开工作年度报告 for research)"
)
ROBOTSTXT_OBEY = True
COOKIES_ENABLED = True  # cookie-echo WAFs (a 302 to itself that sets a cookie) pass with a plain cookie jar

CONCURRENT_REQUESTS = 16
# responses waiting for the pipeline (parse workers busy) stop new downloads beyond this many bytes: keeps
# a fast crawl's memory flat (Scrapy's default 5 MB let ~300 parsed pages pile up)
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 1_000_000
CONCURRENT_ITEMS = 8  # per response; Scrapy's 100 starts 100 asyncio tasks for every response (pure overhead)
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
OGI_RETRY_BACKOFF = 1.0  # seconds; doubled on every retry (when the server sends no Retry-After)
OGI_RETRY_AFTER_MAX = 120.0  # a longer Retry-After gives up on the URL (recorded as http/503 …)

DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
DEPTH_LIMIT = 12
# egress checked at connect time (crawler/egress.py): every connection resolves again, only checked addresses
# are connected to, a name that does not resolve is refused (fail closed); no DNS cache
TWISTED_DNS_RESOLVER = "crawler.egress.CheckedResolver"
# https pages of OGI_HOST_MAP hosts (replays, the demo) come from the mapped loopback server in plain HTTP;
# every other request goes through Scrapy's own HTTP/1.1 handler unchanged (crawler/hostmap.py)
DOWNLOAD_HANDLERS = {"https": "crawler.hostmap.HostMapHTTPSDownloadHandler"}
DNSCACHE_ENABLED = False
OGI_PROXY_HOSTS: list[str] = []  # operator proxies reached unchecked (also the hosts of the *_proxy variables)

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.SafetyMiddleware": 40,
    "crawler.middlewares.HostMapMiddleware": 45,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsMiddleware": 100,  # robots.txt answered 401/403: the whole host is refused
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.RetryAfterMiddleware": 550,
    "crawler.middlewares.ConditionalRequestMiddleware": 560,
    # Scrapy's cookie jar with the Public Suffix List from tldextract's bundled snapshot (no download)
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "crawler.cookies.OfflineCookiesMiddleware": 700,
}
SPIDER_MIDDLEWARES = {
    "crawler.middlewares.CrawlModeMiddleware": 800,  # light skips, revisions starts
    # a document link twice in a run is a recorded duplicate; nearer the engine than the mode middleware, so it
    # also sees the revisions pass's start requests (else the dupefilter drops the repeat silently)
    "crawler.middlewares.LinkLedgerMiddleware": 750,
    "crawler.losses.LossMiddleware": 950,  # beyond DEPTH_LIMIT, an empty/error list page: a recorded loss
}
ITEM_PIPELINES = {"crawler.pipelines.ArchivePipeline": 300}
SPIDER_CONTRACTS = {"crawler.contracts.SamplePageContract": 10}  # scrapy check: @sample_page

# OGI settings (the `ogi crawl` command fills these from its options)
OGI_DB = "ogi.db"
OGI_RUN_ID = None  # an existing run row (the scheduler's); None: the pipeline starts its own run
OGI_TRIGGER = "manual"
OGI_MODE = "full"  # full | light (list pages, only never-fetched documents) | revisions (known reports re-checked)
OGI_ALLOW_PRIVATE = False
OGI_HOST_MAP: dict[str, str] = {}  # {"fixture.test": "127.0.0.1:8765"}: loopback virtual hosts for tests/demo
OGI_EXTRA_SITES: list[str] = []  # ["fixture.test"]: every host under these names is one site (tests/demo)
OGI_WARC = True
OGI_PARSE = True  # False: fetch and archive only (re-parse later from the archive)
OGI_PARSE_WORKERS = 1  # parse in that many worker processes (0: in the crawl process, without budgets)
# per-document parse budgets (crawler/parsepool.py); each exceeded budget is a recorded failure of that document
OGI_PARSE_SECONDS = 90.0  # wall time: the worker is killed (parse_timeout)
# address space above the worker's own (RLIMIT_AS): parse_memory. OCR needs it: one 1400×1929 page took 1.48 GB of
# address space (725 MB resident) in RapidOCR; under 1024 its onnxruntime failed with std::bad_alloc
OGI_PARSE_MEMORY_MB = 2048
OGI_PARSE_RECYCLE = 500  # documents per worker before it is replaced
OGI_PARSE_FUNC = None  # dotted path of the worker's parse function (tests); None: parse_to_json
OGI_COMMIT_ITEMS = 500  # archive writes are committed in groups: every N items …
OGI_COMMIT_SECONDS = 2.0  # … or every S seconds (a kill -9 loses at most that; the resumed crawl redoes it)

LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's remote control (a loopback HTTP server that executes Python in the crawl, on by default): off,
# like the telnet console, and not even loaded (it imports aiohttp: ~90 ms of every crawl's start-up)
REMOTE_CONTROL_ENABLED = False
EXTENSIONS = {"scrapy.extensions.remote_control.RemoteControl": None,
              "crawler.extensions.MemoryHygiene": 500,
              "crawler.losses.LossRecorder": 510}  # request_dropped: redirect loops, dropped items recorded  # gc.freeze + a commit/collect tick every second
FEED_EXPORT_ENCODING = "utf-8"
