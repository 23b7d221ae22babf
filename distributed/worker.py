"""Distributed crawling on Redis (scrapy-redis): the worker spider, the hand-off, enqueueing.

Many workers share one request queue and one duplicate filter in Redis and hand raw pages
to a Redis stream; one ``dangjian ingest`` process runs the pipeline and is the only writer
of the SQLite database. See docs/distributed.md for the design and the numbers.

Single-machine crawls (``dangjian crawl``) never import this module and need no Redis.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from scrapy import Request, signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.exceptions import DontCloseSpider, IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy_redis.connection import get_redis_from_settings
from scrapy_redis.spiders import RedisMixin
from twisted.internet import task as twisted_task
from twisted.python.failure import Failure

from crawler.items import FetchFailureItem, PageItem, SiteBlockedItem
from crawler.links import column_scope
from crawler.registry import Site, load_registry, select_sites
from crawler.spiders.news import NewsSpider, new_run_id
from distributed.queue import TASK_META, WorkerRegistry, new_worker_id
from distributed.stream import RedisKeys, failure_message, page_message, run_message
from pipeline.errors import DangjianError
from pipeline.store.runs import BLOCKED_STAGE

logger = logging.getLogger(__name__)

DEFAULT_IDLE_CLOSE = 30
DEFAULT_WORKER_TTL = 15
DEFAULT_STREAM_MAX = 20_000


def distributed_settings(prefix: str) -> dict[str, Any]:
    """Return the settings that turn the news spider into a worker of the shared queue."""
    keys = RedisKeys(prefix)
    return {
        "SCHEDULER": "distributed.queue.ReliableScheduler",
        "SCHEDULER_QUEUE_CLASS": "distributed.queue.ReliablePriorityQueue",
        "SCHEDULER_QUEUE_KEY": keys.requests,
        "DUPEFILTER_CLASS": "distributed.queue.RunDupeFilter",
        # scrapy-redis flushes the queue and the filter when a spider closes unless told to
        # persist: the first worker to finish would wipe the others' work.
        "SCHEDULER_PERSIST": True,
        "REDIS_START_URLS_KEY": keys.start_urls,
        "ITEM_PIPELINES": {"distributed.worker.RedisHandoffPipeline": 300},
        # Incremental look-ups read the database, which lives with the ingester, not here.
        "DANGJIAN_INCREMENTAL": False,
        # Per-host limit, delay and AutoThrottle shared by every worker (distributed/politeness.py).
        "DANGJIAN_HOST_BUDGET": "distributed.politeness.RedisHostBudget",
    }


@dataclass
class TaskPage(PageItem):
    """A fetched page and the processing-hash task it completes."""

    task: str = ""


@dataclass
class TaskFailure(FetchFailureItem):
    """A request that got no response, and the task it completes."""

    task: str = ""


class RedisNewsSpider(RedisMixin, NewsSpider):
    """The news spider as a worker: start URLs and requests come from Redis, pages go back.

    Needs ``REDIS_URL``. Reads start URLs that ``dangjian enqueue`` pushed (JSON with url,
    site_id, run_id) when idle; closes after ``MAX_IDLE_TIME_BEFORE_CLOSE`` seconds in
    which no worker had anything queued or in flight.
    """

    name = "news-redis"

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        if not settings.get("REDIS_URL"):
            raise NotConfigured("the news-redis spider needs REDIS_URL (or --redis)")
        prefix = settings.get("DANGJIAN_REDIS_PREFIX") or "dangjian"
        for name, value in distributed_settings(prefix).items():
            settings.set(name, value, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> RedisNewsSpider:
        spider: RedisNewsSpider = super().from_crawler(crawler, *args, **kwargs)
        # A worker serves every site of the registry: runs name theirs in each request.
        spider.sites = list(spider.registry)
        spider.sites_by_id = {s.id: s for s in spider.registry}
        settings = crawler.settings
        spider.keys = RedisKeys(settings.get("DANGJIAN_REDIS_PREFIX") or "dangjian")
        spider.worker_id = new_worker_id()
        spider.registry_redis = WorkerRegistry(
            get_redis_from_settings(settings),
            spider.keys,
            spider.worker_id,
            settings.getint("DANGJIAN_REDIS_WORKER_TTL", DEFAULT_WORKER_TTL),
        )
        spider.idle_since = None
        spider.setup_redis(crawler)
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        return spider

    def _opened(self, spider: Any) -> None:
        # Scrapy polls an empty scheduler every 5 s; a worker waiting for the others'
        # requests should notice them sooner.
        self.crawler.engine._SLOT_HEARTBEAT_INTERVAL = 1.0
        self.registry_redis.beat()
        self.beat_loop = twisted_task.LoopingCall(self._beat)
        self.beat_loop.start(max(1, self.registry_redis.ttl // 3), now=False)
        logger.info("worker %s joined %s", self.worker_id, self.settings.get("REDIS_URL"))

    def _beat(self) -> None:
        try:
            self.registry_redis.beat()
            self.registry_redis.recover_dead()
        except redis.RedisError as exc:
            logger.error("worker %s: Redis heartbeat failed: %s", self.worker_id, exc)

    def _closed(self, spider: Any, reason: str) -> None:
        if getattr(self, "beat_loop", None) is not None and self.beat_loop.running:
            self.beat_loop.stop()
        if reason == "finished":
            self.registry_redis.leave()
        logger.info("worker %s stopped: %s", self.worker_id, reason)

    async def start(self) -> AsyncIterator[Any]:
        for request in self.next_requests():
            yield request

    def make_request_from_data(self, data: bytes) -> Request | list[Request]:
        """Build the list-page request for one start URL pushed by ``enqueue_sites``."""
        entry = json.loads(data)
        site = self.sites_by_id.get(entry.get("site_id", ""))
        if site is None:
            logger.error(
                "start URL %s names a site missing from this worker's registry: %r",
                entry.get("url"),
                entry.get("site_id"),
            )
            return []
        request = self._request(entry["url"], site, "list", column_scope(entry["url"]))
        request.meta["run_id"] = entry.get("run_id", "")
        return request

    def spider_idle(self) -> None:
        """Keep the worker while any worker has work; close after the idle time otherwise."""
        workers = self.registry_redis
        workers.recover_dead()
        # The engine is idle, so nothing this worker took is still in flight: whatever is left
        # in its processing hash ended without a page (e.g. a 1xx answer) and is dropped.
        workers.clear_own()
        if self.count_size(self.redis_key) > 0:
            self.idle_since = None
            self.schedule_next_requests()
            raise DontCloseSpider
        if workers.work_pending():
            self.idle_since = None
            raise DontCloseSpider
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
        if self.max_idle_time and now - self.idle_since >= self.max_idle_time:
            logger.info(
                "worker %s: queue empty for %d s, stopping", self.worker_id, self.max_idle_time
            )
            return
        raise DontCloseSpider

    # -- the spider's callbacks, with the run id and task carried through -----------------

    def _request(self, url: str, site: Site, kind: str, scope: str) -> Request:
        # The queue is shared: requests carry the site id (not the Site object) and the run.
        request = super()._request(url, site, kind, scope)
        return request.replace(cb_kwargs={})

    def parse_list(self, response: Response, site: Site | None = None) -> Iterator[Any]:
        """Queue the page's links first, then hand the page on (which completes the task)."""
        site = self.sites_by_id[response.meta["site_id"]]
        yield from self._links_first(super().parse_list(response, site), response)

    def parse_article(self, response: Response, site: Site | None = None) -> Iterator[Any]:
        """Queue the article's attachment links first, then hand the page on."""
        site = self.sites_by_id[response.meta["site_id"]]
        yield from self._links_first(super().parse_article(response, site), response)

    def _links_first(self, results: Iterable[Any], response: Response) -> Iterator[Any]:
        # Requests carry the run (its duplicate filter, its pages); they are queued before
        # the page's hand-off releases its task, so a worker dying in between loses nothing.
        out = list(results)
        for item in out:
            if isinstance(item, Request):
                item.meta["run_id"] = response.meta.get("run_id", "")
                yield item
        for item in out:
            if not isinstance(item, Request):
                yield self._as_task(item, response.meta)

    def on_error(self, failure: Failure) -> Iterator[Any]:
        meta = failure.request.meta
        yield from (self._as_task(item, meta) for item in super().on_error(failure))
        if failure.check(IgnoreRequest):
            self.registry_redis.release(meta.get(TASK_META, ""))

    def _as_task(self, item: Any, meta: Mapping[str, Any]) -> Any:
        run_id, task = meta.get("run_id", ""), meta.get(TASK_META, "")
        if isinstance(item, PageItem):
            return TaskPage(dataclasses.replace(item.page, run_id=run_id), task=task)
        if isinstance(item, SiteBlockedItem):
            return dataclasses.replace(item, run_id=run_id)
        if isinstance(item, FetchFailureItem):
            return TaskFailure(
                url=item.url, site_id=item.site_id, run_id=run_id, reason=item.reason, task=task
            )
        return item


class RedisHandoffPipeline:
    """Hand raw pages to the Redis stream instead of processing them (distributed mode only).

    The stream entry and the release of the request's task are one transaction: a worker
    killed at any moment has either handed the page on or will have it fetched again. When
    more than ``DANGJIAN_REDIS_STREAM_MAX`` entries wait for the ingester, the worker slows
    down until it catches up, so a stopped ingester cannot fill Redis's memory.

    A site's block goes, in the same transaction, into ``<prefix>:blocked:<run>``: from then
    on no worker gets a lease for that site in that run (``distributed/politeness.py``).
    """

    def __init__(
        self,
        crawler: Crawler,
        server: redis.Redis,
        keys: RedisKeys,
        stream_max: int,
        blocked_ttl: int = 3 * 86400,
    ) -> None:
        self.crawler = crawler
        self.server = server
        self.keys = keys
        self.stream_max = stream_max
        self.blocked_ttl = blocked_ttl

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisHandoffPipeline:
        settings = crawler.settings
        if not settings.get("REDIS_URL"):
            raise NotConfigured
        return cls(
            crawler,
            get_redis_from_settings(settings),
            RedisKeys(settings.get("DANGJIAN_REDIS_PREFIX") or "dangjian"),
            settings.getint("DANGJIAN_REDIS_STREAM_MAX", DEFAULT_STREAM_MAX),
            settings.getint("DANGJIAN_REDIS_DUPEFILTER_TTL", 3 * 86400),
        )

    def process_item(self, item: Any, spider: Any = None) -> Any:
        spider = spider or self.crawler.spider
        if isinstance(item, PageItem):
            fields = page_message(item.page)
            kind = "page"
        elif isinstance(item, FetchFailureItem):
            fields = failure_message(
                url=item.url, site_id=item.site_id, run_id=item.run_id, reason=item.reason
            )
            kind = "failure"
        elif isinstance(item, SiteBlockedItem):
            fields = failure_message(
                url=item.url,
                site_id=item.site_id,
                run_id=item.run_id,
                reason=item.reason,
                stage=BLOCKED_STAGE,
            )
            kind = "blocked"
        else:
            return item
        pipe = self.server.pipeline(transaction=True)
        if kind == "blocked":
            # Every worker stops the site now: the budget grants its requests no lease.
            pipe.hset(self.keys.blocked(item.run_id), item.site_id, item.reason)
            pipe.expire(self.keys.blocked(item.run_id), self.blocked_ttl)
        pipe.xadd(self.keys.pages, fields)
        if getattr(item, "task", ""):
            pipe.hdel(spider.registry_redis.processing_key, item.task)
        pipe.xlen(self.keys.pages)
        length = pipe.execute()[-1]
        self.crawler.stats.inc_value(f"dangjian/handoff/{kind}")
        if length > self.stream_max:
            return self._wait_for_ingester(item)
        return item

    def _wait_for_ingester(self, item: Any) -> Any:
        """Return a Deferred firing once the stream is back under its limit."""
        from twisted.internet import reactor

        self.crawler.stats.inc_value("dangjian/handoff/backpressure")

        def check() -> Any:
            if self.server.xlen(self.keys.pages) <= self.stream_max:
                return item
            return twisted_task.deferLater(reactor, 1.0, check)

        return twisted_task.deferLater(reactor, 1.0, check)


def redis_client(redis_url: str) -> redis.Redis:
    """Connect to ``redis_url`` and check that it answers.

    Raises:
        DangjianError: Redis cannot be reached.
    """
    server = redis.Redis.from_url(redis_url, socket_connect_timeout=10)
    try:
        server.ping()
    except redis.RedisError as exc:
        raise DangjianError(
            f"cannot reach Redis at {redis_url}: {exc}. "
            "Check --redis / REDIS_URL and that redis-server runs."
        ) from exc
    return server


def enqueue_sites(
    redis_url: str,
    site_ids: Iterable[str] = (),
    *,
    sample: bool = False,
    sites_path: str | None = None,
    prefix: str = "dangjian",
) -> tuple[str, int]:
    """Start a run of the selected sites on the shared queue; return the run id and URL count.

    Announces the run on the stream (so the ingester records it in ``crawl_runs``), then
    pushes each site's start URLs for idle workers to pick up. Schedules call this.

    Raises:
        SiteConfigError: the registry is invalid or names an unknown site.
        DangjianError: Redis cannot be reached.
    """
    sites = select_sites(load_registry(sites_path), list(site_ids), sample)
    server = redis_client(redis_url)
    keys = RedisKeys(prefix)
    run_id = new_run_id()
    today = datetime.now(UTC) + timedelta(hours=8)  # China local date, as the spider
    starts = [
        json.dumps({"url": url, "site_id": site.id, "run_id": run_id})
        for site in sites
        for url in site.expanded_start_urls(today)
    ]
    pipe = server.pipeline(transaction=True)
    pipe.xadd(keys.pages, run_message(run_id, [s.raw for s in sites]))
    pipe.sadd(keys.runs, run_id)
    if starts:
        pipe.rpush(keys.start_urls, *starts)
    pipe.execute()
    logger.info("run %s: %d start URL(s) of %d site(s) queued", run_id, len(starts), len(sites))
    return run_id, len(starts)


def run_worker(
    redis_url: str, sites_path: str | None = None, settings: Mapping[str, Any] | None = None
) -> None:
    """Run one crawl worker in this process until the shared queue stays idle.

    Raises:
        DangjianError: Redis cannot be reached.
    """
    from crawler.process import crawl_settings

    redis_client(redis_url).close()
    merged = {"REDIS_URL": redis_url, **dict(settings or {})}
    # The database setting is unused by workers: pages go to Redis.
    process = CrawlerProcess(crawl_settings("", sites_path, merged))
    process.crawl(RedisNewsSpider)
    process.start()
