"""scrapy-redis components made safe for many workers that may die: queue, dupefilter, liveness.

Stock scrapy-redis pops a request and forgets it, so a worker killed with requests in flight
loses them (they are already in the duplicate filter and are never fetched again). Here a pop
moves the request into the worker's *processing* hash (one Lua script, atomic), and it leaves
that hash only when its page is handed to the stream (``RedisHandoffPipeline``) or the request
goes back to the queue (a retry or redirect). Workers keep a heartbeat key with a TTL; a
worker whose heartbeat expired has its processing hash put back on the queue by any other.

The queue takes hosts in turn: a request's score is its priority, then its host's *turn*
(one more than that host's previous request, and never below the turn being served), so a
worker popping its next requests gets several hosts, not a run of one host's links (equal
scores are ordered by the pickled bytes, i.e. by URL). With a per-host delay this matters: a
worker whose downloader holds only one host's requests waits out that host's delay while the
other hosts idle (Scrapy's own ``DownloaderAwarePriorityQueue`` does this for one process).

The duplicate filter is one Redis set per run that expires ``DANGJIAN_REDIS_DUPEFILTER_TTL``
seconds after the run's last new URL, so memory is bounded by the runs of the last few days.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from redis import Redis
from scrapy import Request
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.request import request_from_dict
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from distributed.stream import RedisKeys

logger = logging.getLogger(__name__)

# Request.meta key holding the processing-hash field of a request this worker popped.
TASK_META = "dangjian_task"
DEFAULT_DUPEFILTER_TTL = 3 * 86400

# Score = -priority × TURNS + turn: priority first, then hosts in turn (exact in a double
# for |priority| < 2^12 and turns < 2^40).
TURNS = 2**40

# KEYS: dupefilter set, queue zset, processing hash, host turns hash, turn being served.
# ARGV: fingerprint, priority, request, dupefilter ttl, task to release ('' = none), filter?,
#       host.
ENQUEUE = f"""
-- The retried or redirected task is released whether or not its successor is queued.
if ARGV[5] ~= '' then redis.call('HDEL', KEYS[3], ARGV[5]) end
if ARGV[6] == '1' then
  if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
local served = tonumber(redis.call('GET', KEYS[5]) or '0')
local turn = math.max(tonumber(redis.call('HGET', KEYS[4], ARGV[7]) or '0') + 1, served)
redis.call('HSET', KEYS[4], ARGV[7], string.format('%d', turn))
redis.call('EXPIRE', KEYS[4], ARGV[4])
redis.call('ZADD', KEYS[2], string.format('%d', -tonumber(ARGV[2]) * {TURNS} + turn), ARGV[3])
return 1
"""

# KEYS: queue zset, processing hash, turn being served. ARGV: task id.
# Returns the request or nil.
POP = f"""
local r = redis.call('ZPOPMIN', KEYS[1])
if #r == 0 then return false end
redis.call('HSET', KEYS[2], ARGV[1], r[2] .. '|' .. r[1])
local turn = tonumber(r[2]) % {TURNS}
if turn > tonumber(redis.call('GET', KEYS[3]) or '0') then
  redis.call('SET', KEYS[3], string.format('%d', turn))
end
return r[1]
"""

# KEYS: processing hash, queue zset, workers set. ARGV: worker id. Returns requests requeued.
REQUEUE = """
local items = redis.call('HGETALL', KEYS[1])
for i = 2, #items, 2 do
  local v = items[i]
  local sep = string.find(v, '|', 1, true)
  redis.call('ZADD', KEYS[2], string.sub(v, 1, sep - 1), string.sub(v, sep + 1))
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[3], ARGV[1])
return #items / 2
"""


def new_worker_id() -> str:
    """Return a worker id unique across machines, e.g. ``host-1234-9f3a``."""
    import os
    import socket

    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


class WorkerRegistry:
    """One worker's view of the cluster: its heartbeat, its processing hash, the others'.

    Args:
        server: the Redis client.
        keys: the deployment's key names.
        worker_id: this worker's id.
        ttl: seconds a heartbeat lives; a worker silent that long is taken for dead.
    """

    def __init__(self, server: Redis, keys: RedisKeys, worker_id: str, ttl: int) -> None:
        self.server = server
        self.keys = keys
        self.worker_id = worker_id
        self.ttl = ttl
        self.processing_key = keys.processing(worker_id)
        self._requeue = server.register_script(REQUEUE)

    def beat(self) -> None:
        """Register and refresh this worker's heartbeat."""
        pipe = self.server.pipeline()
        pipe.sadd(self.keys.workers, self.worker_id)
        pipe.set(self.keys.worker(self.worker_id), "1", ex=self.ttl)
        pipe.execute()

    def leave(self) -> None:
        """Unregister on a clean stop; anything still in processing was dropped on purpose."""
        pipe = self.server.pipeline()
        pipe.delete(self.processing_key, self.keys.worker(self.worker_id))
        pipe.srem(self.keys.workers, self.worker_id)
        pipe.execute()

    def release(self, task: str) -> None:
        """Forget a task that ended without a page (robots.txt, off-site, filtered)."""
        if task:
            self.server.hdel(self.processing_key, task)

    def clear_own(self) -> int:
        """Drop this worker's processing hash; only safe when its engine is idle."""
        return int(self.server.delete(self.processing_key))

    def recover_dead(self) -> int:
        """Put the requests of every worker whose heartbeat expired back on the queue."""
        recovered = 0
        for raw in self.server.smembers(self.keys.workers):
            other = raw.decode() if isinstance(raw, bytes) else raw
            if other == self.worker_id or self.server.exists(self.keys.worker(other)):
                continue
            n = int(
                self._requeue(
                    keys=[self.keys.processing(other), self.keys.requests, self.keys.workers],
                    args=[other],
                )
            )
            if n:
                logger.warning("worker %s is gone: %d request(s) put back on the queue", other, n)
            recovered += n
        return recovered

    def work_pending(self) -> bool:
        """Return True while any request is queued or taken by some worker."""
        if self.server.zcard(self.keys.requests) or self.server.llen(self.keys.start_urls):
            return True
        return any(
            self.server.hlen(self.keys.processing(w.decode() if isinstance(w, bytes) else w))
            for w in self.server.smembers(self.keys.workers)
        )


class RunDupeFilter(RFPDupeFilter):
    """Per-run request fingerprints in Redis (``<prefix>:dupefilter:<run id>``), expiring.

    Each scheduled run crawls its columns afresh (list pages change), as a single-machine
    crawl does; the set of a run expires ``DANGJIAN_REDIS_DUPEFILTER_TTL`` seconds after the
    run last added a URL, so Redis holds the fingerprints of recent runs only.
    """

    def __init__(self, server: Redis, keys: RedisKeys, ttl: int, debug: bool = False) -> None:
        super().__init__(server, key=keys.dupefilter(""), debug=debug)
        self.keys = keys
        self.ttl = ttl

    @classmethod
    def from_spider(cls, spider: Any) -> RunDupeFilter:
        from scrapy_redis.connection import get_redis_from_settings

        settings = spider.settings
        return cls(
            get_redis_from_settings(settings),
            RedisKeys(settings.get("DANGJIAN_REDIS_PREFIX") or "dangjian"),
            settings.getint("DANGJIAN_REDIS_DUPEFILTER_TTL", DEFAULT_DUPEFILTER_TTL),
            settings.getbool("DUPEFILTER_DEBUG"),
        )

    def key_for(self, request: Request) -> str:
        return self.keys.dupefilter(request.meta.get("run_id", ""))

    def request_seen(self, request: Request) -> bool:
        key = self.key_for(request)
        added = self.server.sadd(key, self.request_fingerprint(request))
        self.server.expire(key, self.ttl)
        return added == 0

    def clear(self) -> None:
        """Nothing to clear: the run sets expire on their own, and other workers share them."""

    def close(self, reason: str = "") -> None:
        """Keep the fingerprints: other workers are still crawling the same runs."""


class ReliablePriorityQueue(PriorityQueue):
    """scrapy-redis PriorityQueue whose pop moves the request into a processing hash."""

    def __init__(self, server: Redis, spider: Any, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        self.processing_key = spider.registry_redis.processing_key
        self.keys: RedisKeys = spider.keys
        self._pop = server.register_script(POP)
        self._enqueue = server.register_script(ENQUEUE)

    def push_filtered(self, request: Request, dupefilter: RunDupeFilter) -> bool:
        """Add ``request`` unless its run has seen it; release the task it retries, atomically.

        Returns:
            True when the request was queued.
        """
        task = request.meta.pop(TASK_META, "")
        return self._push(
            request,
            dupefilter.key_for(request),
            dupefilter.request_fingerprint(request),
            dupefilter.ttl,
            task,
            filtered=not request.dont_filter,
        )

    def push(self, request: Request) -> None:
        self._push(request, "", "", DEFAULT_DUPEFILTER_TTL, "", filtered=False)

    def _push(
        self, request: Request, seen_key: str, fingerprint: str, ttl: int, task: str, filtered: bool
    ) -> bool:
        host = request.meta.get("download_slot") or urlparse_cached(request).hostname or ""
        added = self._enqueue(
            keys=[
                seen_key or self.keys.queue_turns,  # unused when not filtered
                self.key,
                self.processing_key,
                self.keys.queue_turns,
                self.keys.queue_served,
            ],
            args=[
                fingerprint,
                request.priority,
                self._encode_request(request),
                ttl,
                task,
                "1" if filtered else "0",
                host,
            ],
        )
        return bool(added)

    def pop(self, timeout: int = 0) -> Request | None:
        task = secrets.token_hex(8)
        data = self._pop(keys=[self.key, self.processing_key, self.keys.queue_served], args=[task])
        if not data:
            return None
        request = request_from_dict(self.serializer.loads(data), spider=self.spider)
        request.meta[TASK_META] = task
        return request


class ReliableScheduler(Scheduler):
    """scrapy-redis Scheduler whose enqueue (dupefilter check + push) is one atomic script."""

    def enqueue_request(self, request: Request) -> bool:
        if not self.queue.push_filtered(request, self.df):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True
