"""Scrapy settings for the dangjian crawler: every behaviour is switched on here.

Groups are in alphabetical order; ``DANGJIAN_*`` settings are documented in docs/settings.md.
"""

import os

BOT_NAME = "dangjian"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# -- dangjian ------------------------------------------------------------------------------
# The SQLite database the crawl writes to.
DANGJIAN_DB = os.environ.get("DANGJIAN_DB", "data/news.db")
# Show a progress line on a terminal ("auto"), always ("on") or never ("off").
DANGJIAN_PROGRESS = "auto"
# Run id stamped on every page, failure and crawl_runs row; generated when empty.
DANGJIAN_RUN_ID = ""
# The site registry; the bundled crawler/sites.yml when empty.
DANGJIAN_SITES = os.environ.get("DANGJIAN_SITES", "")

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

# -- components ----------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Runs after robots.txt (100) and before the download: a request for a host outside
    # its site's allowed hosts never leaves the machine, redirects included.
    "crawler.middlewares.HostGuardMiddleware": 110,
}
EXTENSIONS = {
    "scrapy.extensions.throttle.AutoThrottle": None,
    "crawler.extensions.SiteAwareAutoThrottle": 0,
    "crawler.extensions.CrawlProgress": 500,
}
ITEM_PIPELINES = {
    "crawler.pipelines.StorePipeline": 300,
}

# -- misc ----------------------------------------------------------------------------------
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
