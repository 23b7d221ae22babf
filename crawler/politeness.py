"""Politeness beyond Scrapy's defaults: retries that back off, and a per-host budget that holds.

Scrapy's RetryMiddleware re-queues a timed-out or 5xx request at once, so a struggling server
gets the same request again within milliseconds. ``BackoffRetryMiddleware`` waits
``DANGJIAN_RETRY_BACKOFF`` × 2^(n-1) seconds (at most ``DANGJIAN_RETRY_BACKOFF_MAX``) before
handing back the n-th retry.

``HostBudgetDownloadHandler`` wraps Scrapy's HTTP download handler (the public
``DOWNLOAD_HANDLERS`` setting) and holds, per host, at most ``CONCURRENT_REQUESTS_PER_DOMAIN``
requests in flight and the host's delay between request starts. Being the handler, it sits
after Scrapy's own slot queue, so nothing runs between its grant and the connection. A
*budget* backend keeps the counts: ``LocalHostBudget`` in this process (``dangjian crawl``),
``distributed.politeness.RedisHostBudget`` for every worker of a cluster at once.

Why not Scrapy's slots alone: in Scrapy 2.19 a slot with no delay starts every queued request
of its host at once (a request joins ``slot.transferring`` only when its task runs; 7 in
flight to one sample site, measured), and slots are per process. The delay of a host is its
registry ``delay`` (Scrapy's public ``DOWNLOAD_SLOTS``, filled by the spider), else
AutoThrottle's policy on the host's latencies (``AUTOTHROTTLE_*`` settings; Scrapy's own
extension is off, it could only move one process's slots), else ``DOWNLOAD_DELAY``.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import ensure_awaitable, maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredLock
from twisted.internet.task import deferLater

logger = logging.getLogger(__name__)

HTTP_HANDLER = "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"


class BackoffRetryMiddleware(RetryMiddleware):
    """RetryMiddleware whose retries wait exponentially longer (replaces it at order 550)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        mw = super().from_crawler(crawler)
        mw.backoff = crawler.settings.getfloat("DANGJIAN_RETRY_BACKOFF", 2.0)
        mw.backoff_max = crawler.settings.getfloat("DANGJIAN_RETRY_BACKOFF_MAX", 60.0)
        return mw

    def delay_for(self, retry_times: int) -> float:
        """Seconds to wait before the ``retry_times``-th retry (1, 2, ...)."""
        return min(self.backoff_max, self.backoff * 2 ** max(retry_times - 1, 0))

    async def _wait(self, retry: Request) -> None:
        delay = self.delay_for(retry.meta.get("retry_times", 1))
        if delay <= 0:
            return
        stats = self.crawler.stats
        stats.inc_value("dangjian/retry/backoff_count")
        stats.inc_value("dangjian/retry/backoff_seconds", delay)
        logger.info(
            "backing off %.1f s before retry %d of %s",
            delay,
            retry.meta.get("retry_times", 1),
            retry.url,
        )
        await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))

    async def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await self._wait(result)
        return result

    async def process_exception(
        self, request: Request, exception: Exception, spider: Any = None
    ) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._wait(result)
        return result


# -- the per-host budget -------------------------------------------------------------------


@dataclass(frozen=True)
class ThrottlePolicy:
    """AutoThrottle's policy, read from the ``AUTOTHROTTLE_*`` and ``DOWNLOAD_DELAY`` settings.

    Attributes:
        enabled: adjust the delay of hosts without a registry delay to their latency.
        start_delay: the delay of a host before its first response.
        min_delay: the delay never goes below this (``DOWNLOAD_DELAY``).
        max_delay: ... nor above this (``AUTOTHROTTLE_MAX_DELAY``).
        target_concurrency: requests the host should be answering at once, on average.
    """

    enabled: bool = True
    start_delay: float = 2.0
    min_delay: float = 1.0
    max_delay: float = 60.0
    target_concurrency: float = 1.0

    @classmethod
    def from_settings(cls, settings: Any) -> ThrottlePolicy:
        min_delay = settings.getfloat("DOWNLOAD_DELAY")
        target = settings.getfloat("AUTOTHROTTLE_TARGET_CONCURRENCY", 1.0)
        enabled = settings.getbool("AUTOTHROTTLE_ENABLED") and target > 0
        if settings.getbool("AUTOTHROTTLE_ENABLED") and target <= 0:
            logger.error("AUTOTHROTTLE_TARGET_CONCURRENCY must be above 0: AutoThrottle off")
        return cls(
            enabled=enabled,
            start_delay=max(min_delay, settings.getfloat("AUTOTHROTTLE_START_DELAY", 5.0)),
            min_delay=min_delay,
            max_delay=settings.getfloat("AUTOTHROTTLE_MAX_DELAY", 60.0),
            target_concurrency=target if target > 0 else 1.0,
        )

    def adjust(self, delay: float, latency: float, status: int) -> float:
        """Return a host's next delay after a response; Scrapy's AutoThrottle formula.

        A server answering in ``latency`` seconds handles ``target_concurrency`` requests
        at once when sent one every latency / target_concurrency seconds; the delay moves
        half-way there (at once when it must grow), and an error page never lowers it.
        ``distributed/politeness.py`` runs the same formula in Lua.
        """
        target = latency / self.target_concurrency
        new = min(max(self.min_delay, max(target, (delay + target) / 2.0)), self.max_delay)
        if status != 200 and new <= delay:
            return delay
        return new


@dataclass(frozen=True)
class HostRequest:
    """What the budget needs to know about one request.

    Attributes:
        key: the host's key: Scrapy's download slot (the host name, no port).
        limit: most requests in flight to the host.
        fixed_delay: the host's own delay (registry ``delay``), or None for AutoThrottle's.
        site_id: the request's site (``site_id`` meta), or "".
        run_id: the request's run (``run_id`` meta, distributed mode), or "".
        adjust: whether this request's latency may adjust the host's delay.
    """

    key: str
    limit: int
    fixed_delay: float | None
    site_id: str = ""
    run_id: str = ""
    adjust: bool = True


class Answer(NamedTuple):
    """A budget's answer to one try: a lease, or how long to wait, or why the site stopped."""

    lease: str | None = None
    wait: float = 0.0
    blocked: str | None = None


class HostBudget(Protocol):
    """The interface of a budget backend (built with ``from_crawler``)."""

    def try_acquire(self, ask: HostRequest) -> Answer:
        """Take a lease on ``ask.key`` if the host allows a start now; never blocks."""

    def release(
        self, ask: HostRequest, lease: str, latency: float | None, status: int | None
    ) -> float | None:
        """Give the lease back; feed the latency to AutoThrottle; return the new delay."""

    def close(self) -> None:
        """Let go of every lease and connection."""


@dataclass
class _Host:
    inflight: set[str] = field(default_factory=set)
    last_start: float | None = None
    delay: float | None = None


class LocalHostBudget:
    """The budget of one process (``dangjian crawl``): counts in memory, monotonic clock."""

    def __init__(self, policy: ThrottlePolicy, poll: float = 0.05, clock: Any = time.monotonic):
        self.policy = policy
        self.poll = poll
        self.clock = clock
        self.hosts: dict[str, _Host] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LocalHostBudget:
        return cls(
            ThrottlePolicy.from_settings(crawler.settings),
            crawler.settings.getfloat("DANGJIAN_HOST_BUDGET_POLL", 0.05),
        )

    def delay(self, ask: HostRequest) -> float:
        """The host's current delay between request starts."""
        if ask.fixed_delay is not None:
            return ask.fixed_delay
        host = self.hosts.get(ask.key)
        if host is None or host.delay is None:
            return self.policy.start_delay if self.policy.enabled else self.policy.min_delay
        return host.delay

    def try_acquire(self, ask: HostRequest) -> Answer:
        host = self.hosts.setdefault(ask.key, _Host())
        if len(host.inflight) >= ask.limit:
            return Answer(wait=self.poll)  # woken earlier by a release of this process
        now = self.clock()
        if host.last_start is not None:
            # The current delay counts, so a delay AutoThrottle just raised applies at once.
            wait = host.last_start + self.delay(ask) - now
            if wait > 0:
                return Answer(wait=wait)
        lease = secrets.token_hex(6)
        host.inflight.add(lease)
        host.last_start = now
        return Answer(lease=lease)

    def release(
        self, ask: HostRequest, lease: str, latency: float | None, status: int | None
    ) -> float | None:
        host = self.hosts.setdefault(ask.key, _Host())
        host.inflight.discard(lease)
        if ask.fixed_delay is not None or not self.policy.enabled or latency is None:
            return None
        host.delay = self.policy.adjust(self.delay(ask), latency, status or 0)
        return host.delay

    def close(self) -> None:
        self.hosts.clear()


class HostBudgetDownloadHandler:
    """Download handler: the wrapped HTTP handler, started only when the host budget allows.

    ``DOWNLOAD_HANDLERS`` names it for http and https. ``DANGJIAN_HOST_BUDGET`` is the
    backend (empty: no budget, Scrapy's slots alone); ``DANGJIAN_HOST_BUDGET_HANDLER`` is the
    handler that downloads. A request waits here, without a lease, until its host has a free
    place and its delay has passed since the host's last start; the lease is given back when
    the response (or the error) arrives, with the latency for AutoThrottle's policy, unless
    the request has ``autothrottle_dont_adjust_delay`` in its meta. A backend may answer that
    the request's site is blocked (distributed mode): the request is then dropped.
    """

    lazy = False

    def __init__(self, crawler: Crawler, inner: Any, budget: HostBudget | None) -> None:
        self.crawler = crawler
        self.inner = inner
        self.budget = budget
        settings = crawler.settings
        self.per_host = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self.slots: dict[str, dict[str, Any]] = settings.getdict("DOWNLOAD_SLOTS")
        self.policy = ThrottlePolicy.from_settings(settings)
        self.debug = settings.getbool("AUTOTHROTTLE_DEBUG")
        self.waiters: dict[str, list[Deferred[None]]] = {}
        self.locks: dict[str, DeferredLock] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostBudgetDownloadHandler:
        settings = crawler.settings
        inner = build_from_crawler(
            load_object(settings.get("DANGJIAN_HOST_BUDGET_HANDLER") or HTTP_HANDLER), crawler
        )
        path = settings.get("DANGJIAN_HOST_BUDGET")
        budget = build_from_crawler(load_object(path), crawler) if path else None
        return cls(crawler, inner, budget)

    def host_request(self, request: Request) -> HostRequest:
        """Describe ``request`` for the budget: its host key, limit and fixed delay."""
        # The downloader has set the slot (meta "download_slot") before calling a handler.
        key = request.meta.get("download_slot") or urlparse_cached(request).hostname or ""
        slot = self.slots.get(key, {})
        fixed = slot.get("delay")
        if fixed is None and not self.policy.enabled:
            fixed = self.policy.min_delay
        return HostRequest(
            key=key,
            limit=max(1, int(slot.get("concurrency", self.per_host))),
            fixed_delay=None if fixed is None else float(fixed),
            site_id=request.meta.get("site_id") or "",
            run_id=request.meta.get("run_id") or "",
            adjust=request.meta.get("autothrottle_dont_adjust_delay", False) is not True,
        )

    async def download_request(self, request: Request) -> Response:
        if self.budget is None:
            return await self.inner.download_request(request)
        ask = self.host_request(request)
        lease = await self.acquire(ask, request)
        try:
            response = await self.inner.download_request(request)
        except BaseException:
            self.release(ask, lease, None, None)
            raise
        latency = request.meta.get("download_latency") if ask.adjust else None
        self.release(ask, lease, latency, response.status)
        return response

    async def acquire(self, ask: HostRequest, request: Request) -> str:
        """Wait until the budget grants a lease for ``ask``; return it.

        Requests for one host ask one at a time, in order: the budget (Redis, for workers)
        hears from each process once per host and wait, not from every waiting request.
        """
        assert self.budget is not None
        stats = self.crawler.stats
        started = time.monotonic()
        waited = False
        lock = self.locks.setdefault(ask.key, DeferredLock())
        await maybe_deferred_to_future(lock.acquire())
        try:
            while True:
                answer = self.budget.try_acquire(ask)
                if answer.blocked is not None:
                    stats.inc_value("dangjian/budget/blocked")
                    raise IgnoreRequest(f"site {ask.site_id} is blocked ({answer.blocked})")
                if answer.lease is not None:
                    break
                waited = True
                await self._pause(ask.key, answer.wait)
        finally:
            lock.release()
            if not lock.locked and not lock.waiting:
                self.locks.pop(ask.key, None)
        stats.inc_value("dangjian/budget/leases")
        if waited or time.monotonic() - started > 0.001:
            stats.inc_value("dangjian/budget/waited")
            stats.inc_value("dangjian/budget/wait_seconds", time.monotonic() - started)
        return answer.lease

    def release(
        self, ask: HostRequest, lease: str, latency: float | None, status: int | None
    ) -> None:
        """Give a lease back and wake this process's requests waiting for the host."""
        assert self.budget is not None
        delay = self.budget.release(ask, lease, latency, status)
        if self.debug and delay is not None:
            logger.info(
                "host %s: latency %d ms, delay now %d ms", ask.key, latency * 1000, delay * 1000
            )
        for waiter in self.waiters.pop(ask.key, []):
            if not waiter.called:
                waiter.callback(None)

    async def _pause(self, key: str, seconds: float) -> None:
        """Sleep ``seconds``, or less when a lease of ``key`` comes back in this process."""
        waiter: Deferred[None] = Deferred()
        self.waiters.setdefault(key, []).append(waiter)

        def wake() -> None:
            if not waiter.called:
                waiter.callback(None)

        call = reactor.callLater(max(seconds, 0.001), wake)
        try:
            await maybe_deferred_to_future(waiter)
        finally:
            if call.active():
                call.cancel()
            waiting = self.waiters.get(key)
            if waiting and waiter in waiting:
                waiting.remove(waiter)

    async def close(self) -> None:
        if self.budget is not None:
            self.budget.close()
        close = getattr(self.inner, "close", None)
        if close is not None:
            await ensure_awaitable(close())
