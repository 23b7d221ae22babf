"""Scrapy settings for the dangjian crawler: every behaviour is switched on here.

Groups are in alphabetical order; ``DANGJIAN_*`` settings are documented in docs/settings.md.
"""

import os

BOT_NAME = "dangjian"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# -- dangjian ------------------------------------------------------------------------------
# POST every alert (blocked site, layout change, failure-rate jump) as JSON here; off when empty.
DANGJIAN_ALERT_WEBHOOK = os.environ.get("DANGJIAN_ALERT_WEBHOOK", "")
# The SQLite database the crawl writes to.
DANGJIAN_DB = os.environ.get("DANGJIAN_DB", "data/news.db")
# Health alerts (pipeline/runs.py): a run's failure rate at least this high, and this much
# above the site's previous runs, is a jump; this many runs without a new article is stale.
DANGJIAN_HEALTH_FAILURE_JUMP = 0.2
DANGJIAN_HEALTH_FAILURE_RATE = 0.3
DANGJIAN_HEALTH_STALE_RUNS = 5
# Per-host budget (crawler/politeness.py): requests in flight and the delay between starts,
# held at the download. The backend keeps the counts: this process's, or (workers) Redis's.
DANGJIAN_HOST_BUDGET = "crawler.politeness.LocalHostBudget"
# The handler that downloads once the budget allows (Scrapy's HTTP/1.1 handler).
DANGJIAN_HOST_BUDGET_HANDLER = "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"
# Seconds a worker's lease lives unless renewed: a killed worker's place frees itself then.
DANGJIAN_HOST_BUDGET_LEASE_TTL = 10.0
# Seconds between two asks of a worker waiting for another worker's lease.
DANGJIAN_HOST_BUDGET_POLL = 0.05
# Skip known articles, stop paging at known list pages, send conditional requests.
DANGJIAN_INCREMENTAL = True
# Per-site lock files (one crawl of a site at a time); next to the database when empty.
DANGJIAN_JOBS_DIR = os.environ.get("DANGJIAN_JOBS_DIR", "")
# Show a progress line on a terminal ("auto"), always ("on") or never ("off").
DANGJIAN_PROGRESS = "auto"
# Run id stamped on every page, failure and crawl_runs row; generated when empty.
DANGJIAN_RUN_ID = ""
# The site registry; the bundled crawler/sites.yml when empty.
DANGJIAN_SITES = os.environ.get("DANGJIAN_SITES", "")
# First retry waits this many seconds, each next one twice as long, up to the maximum.
DANGJIAN_RETRY_BACKOFF = 2.0
DANGJIAN_RETRY_BACKOFF_MAX = 60.0
# Revisit articles published in the last DAYS days once not seen for AFTER seconds
# (edits, takedowns), at most MAX per site and run.
DANGJIAN_REVISIT_AFTER = 3 * 86400
DANGJIAN_REVISIT_DAYS = 30
DANGJIAN_REVISIT_MAX = 200

# -- politeness ----------------------------------------------------------------------------
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 2
ROBOTSTXT_OBEY = True
USER_AGENT = os.environ.get(
    "DANGJIAN_USER_AGENT",
    "dangjian-news/0.1 (+https://github.com/dangjian-news/dangjian-news; research crawler)",
)

# -- limits (docs/operations.md#limits): what one hostile page or column may cost -----------
# A column (a site's start URL folder) yields at most this many list pages per crawl
# process: an endless pagination or calendar stops there with one failure; 0 = no cap.
DANGJIAN_MAX_LIST_PAGES = 200
# Largest body taken, also once decompressed (a gzip bomb): 16 MiB; warn over 4 MiB.
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
# DOWNLOAD_TIMEOUT (politeness, above) bounds a whole download: a trickling server too.
# Longest redirect chain followed; a loop fails at once (crawler.middlewares).
REDIRECT_MAX_TIMES = 10

# -- components ----------------------------------------------------------------------------
# Every http(s) download waits for the per-host budget (DANGJIAN_HOST_BUDGET*).
DOWNLOAD_HANDLERS = {
    "http": "crawler.politeness.HostBudgetDownloadHandler",
    "https": "crawler.politeness.HostBudgetDownloadHandler",
}
DOWNLOADER_MIDDLEWARES = {
    # Runs before robots.txt (100) and the download: a request for a host outside its
    # site's allowed hosts never leaves the machine (not even for that host's robots.txt),
    # redirects included.
    "crawler.middlewares.HostGuardMiddleware": 90,
    # At most DANGJIAN_MAX_LIST_PAGES list pages per column (after robots.txt).
    "crawler.middlewares.ListPageCapMiddleware": 110,
    # ETag / Last-Modified of the stored page as If-None-Match / If-Modified-Since.
    "crawler.incremental_crawl.ConditionalRequestMiddleware": 120,
    # Retries wait exponentially longer (Scrapy's own retries at once).
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    # Decompression below the retries, so it names what they gave up on (body too large,
    # cut short); DOWNLOAD_MAXSIZE applies to the decompressed body too.
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.middlewares.BodyLimitMiddleware": 540,
    "crawler.politeness.BackoffRetryMiddleware": 550,
    # Sees a 3xx before RedirectMiddleware (600): refuses loops, long chains, other hosts.
    "crawler.middlewares.RedirectGuardMiddleware": 610,
    # Next to the downloader, so it sees a challenge before redirects and retries do.
    "crawler.antibot.AntiBotMiddleware": 950,
}
EXTENSIONS = {
    # AUTOTHROTTLE_* is applied per host by the budget (shared by workers), not per slot.
    "scrapy.extensions.throttle.AutoThrottle": None,
    "crawler.extensions.CrawlProgress": 500,
}
ITEM_PIPELINES = {
    "crawler.pipelines.StorePipeline": 300,
}

# -- distributed mode (docs/distributed.md) ------------------------------------------------
# Used only by `dangjian worker` / `enqueue` / `ingest`; `dangjian crawl` never touches Redis.
# A worker's request fingerprints of a run expire this long after the run's last new URL.
DANGJIAN_REDIS_DUPEFILTER_TTL = 3 * 86400
# Prefix of every Redis key, so several crawls can share one Redis.
DANGJIAN_REDIS_PREFIX = os.environ.get("DANGJIAN_REDIS_PREFIX", "dangjian")
# Workers slow down while more pages than this wait in the stream for the ingester.
DANGJIAN_REDIS_STREAM_MAX = 20_000
# Seconds a worker's heartbeat lives; a worker silent that long is taken for dead.
DANGJIAN_REDIS_WORKER_TTL = 15
# scrapy-redis: a worker stops after the shared queue has been empty this many seconds.
MAX_IDLE_TIME_BEFORE_CLOSE = 30
REDIS_URL = os.environ.get("REDIS_URL", "")

# -- misc ----------------------------------------------------------------------------------
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
