"""The per-host budget shared by every worker of a cluster, in Redis (docs/distributed.md).

``crawler.politeness.HostBudgetDownloadHandler`` asks its backend for a *lease* before each
download. Workers use this backend (``DANGJIAN_HOST_BUDGET`` in ``distributed_settings``), so
the counts are the cluster's, not one process's:

* at most the host's limit of leases live at once: one sorted set per host, lease → expiry
  (ms, Redis clock). A lease lives ``DANGJIAN_HOST_BUDGET_LEASE_TTL`` seconds; its worker
  renews it every third of that while the download runs, so a killed or frozen worker's
  leases lapse by themselves and nothing waits for a heartbeat;
* the host's delay between two starts, from its last start anywhere in the cluster: the
  registry's delay, else the AutoThrottle delay in the host's hash, which every worker's
  latencies move (the formula of ``ThrottlePolicy.adjust``, in Lua);
* a site blocked in a run (``<prefix>:blocked:<run>``, written by the worker that met the
  challenge) gets no lease anywhere: its requests are dropped at once on every worker.

Every decision is one Lua script using Redis's own clock (``TIME``), so it is atomic and the
workers' clocks never matter. Needs one Redis server (not Redis Cluster: a script touches
several keys).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

import redis
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy_redis.connection import get_redis_from_settings
from twisted.internet import task

from crawler.politeness import Answer, HostRequest, ThrottlePolicy
from distributed.queue import new_worker_id
from distributed.stream import RedisKeys

logger = logging.getLogger(__name__)

# Hosts, their AutoThrottle delay and counters are forgotten after a day without a start.
MEMORY = 86400

# KEYS: leases zset, host hash, hosts zset, blocked hash of the request's run.
# ARGV: lease, limit, lease ttl (ms), fixed delay (s, '' = AutoThrottle's), start delay (s),
#       site id ('' = none), host, memory (s).
# Returns {'lease', now} | {'wait', ms} | {'full', 0} | {'blocked', reason}.
ACQUIRE = """
if ARGV[6] ~= '' then
  local reason = redis.call('HGET', KEYS[4], ARGV[6])
  if reason then return {'blocked', reason} end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local delay
if ARGV[4] ~= '' then
  delay = tonumber(ARGV[4])
  redis.call('HSET', KEYS[2], 'delay', ARGV[4], 'fixed', '1')
else
  delay = tonumber(redis.call('HGET', KEYS[2], 'delay'))
  if delay == nil or redis.call('HGET', KEYS[2], 'fixed') == '1' then
    delay = tonumber(ARGV[5])
    redis.call('HSET', KEYS[2], 'delay', ARGV[5], 'fixed', '0')
  end
end
redis.call('HSET', KEYS[2], 'limit', ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[8])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return {'full', '0'} end
local last = tonumber(redis.call('HGET', KEYS[2], 'last'))
if last then
  local wait = last + math.floor(delay * 1000 + 0.5) - now
  if wait > 0 then return {'wait', string.format('%d', wait)} end
end
redis.call('ZADD', KEYS[1], string.format('%d', now + tonumber(ARGV[3])), ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[8])
redis.call('HSET', KEYS[2], 'last', string.format('%d', now))
redis.call('HINCRBY', KEYS[2], 'starts', 1)
redis.call('ZADD', KEYS[3], string.format('%d', now), ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[8]) * 1000)
return {'lease', string.format('%d', now)}
"""

# KEYS: leases zset, host hash.
# ARGV: lease, latency (s, '' = none), status, adjust ('1'/'0'), target concurrency,
#       min delay, max delay. Returns the new AutoThrottle delay, or nil.
RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[2] == '' or redis.call('EXISTS', KEYS[2]) == 0 then return false end
redis.call('HSET', KEYS[2], 'latency', ARGV[2])
if ARGV[4] ~= '1' or redis.call('HGET', KEYS[2], 'fixed') == '1' then return false end
local old = tonumber(redis.call('HGET', KEYS[2], 'delay')) or tonumber(ARGV[6])
local target = tonumber(ARGV[2]) / tonumber(ARGV[5])
local new = math.max(target, (old + target) / 2.0)
new = math.min(math.max(tonumber(ARGV[6]), new), tonumber(ARGV[7]))
if tonumber(ARGV[3]) ~= 200 and new <= old then return tostring(old) end
redis.call('HSET', KEYS[2], 'delay', tostring(new))
return tostring(new)
"""

# KEYS: the leases zset of each lease. ARGV: lease ttl (ms), then the leases in KEYS order.
# XX: a lease that already lapsed and was swept is not brought back.
RENEW = """
local t = redis.call('TIME')
local expiry = string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  + tonumber(ARGV[1]))
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', expiry, ARGV[i + 1])
end
return #KEYS
"""


class RedisHostBudget:
    """The budget backend of a worker: every decision taken in Redis for the whole cluster.

    Args:
        server: the Redis client (the worker's).
        keys: the deployment's key names.
        worker_id: this worker's id, the first part of its lease names.
        policy: AutoThrottle's policy.
        lease_ttl: seconds a lease lives unless renewed.
        poll: seconds to wait before asking again when the host is full.
    """

    def __init__(
        self,
        server: redis.Redis,
        keys: RedisKeys,
        worker_id: str,
        policy: ThrottlePolicy,
        lease_ttl: float = 10.0,
        poll: float = 0.05,
    ) -> None:
        self.server = server
        self.keys = keys
        self.worker_id = worker_id
        self.policy = policy
        self.lease_ttl = lease_ttl
        self.poll = poll
        self.held: dict[str, str] = {}  # lease → its leases key, renewed while held
        self._acquire = server.register_script(ACQUIRE)
        self._release = server.register_script(RELEASE)
        self._renew = server.register_script(RENEW)
        self.renewal: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisHostBudget:
        settings = crawler.settings
        if not settings.get("REDIS_URL"):
            raise NotConfigured("the cluster-wide host budget needs REDIS_URL (or --redis)")
        return cls(
            get_redis_from_settings(settings),
            RedisKeys(settings.get("DANGJIAN_REDIS_PREFIX") or "dangjian"),
            getattr(crawler.spider, "worker_id", "") or new_worker_id(),
            ThrottlePolicy.from_settings(settings),
            settings.getfloat("DANGJIAN_HOST_BUDGET_LEASE_TTL", 10.0),
            settings.getfloat("DANGJIAN_HOST_BUDGET_POLL", 0.05),
        )

    def start_delay(self) -> float:
        return self.policy.start_delay if self.policy.enabled else self.policy.min_delay

    def try_acquire(self, ask: HostRequest) -> Answer:
        lease = f"{self.worker_id}:{secrets.token_hex(6)}"
        kind, value = self._acquire(
            keys=[
                self.keys.budget_leases(ask.key),
                self.keys.budget_host(ask.key),
                self.keys.budget_hosts,
                self.keys.blocked(ask.run_id),
            ],
            args=[
                lease,
                ask.limit,
                int(self.lease_ttl * 1000),
                "" if ask.fixed_delay is None else repr(float(ask.fixed_delay)),
                repr(float(self.start_delay())),
                ask.site_id if ask.run_id else "",
                ask.key,
                MEMORY,
            ],
        )
        kind = kind.decode()
        if kind == "lease":
            self.held[lease] = self.keys.budget_leases(ask.key)
            self._start_renewal()
            return Answer(lease=lease)
        if kind == "blocked":
            return Answer(blocked=value.decode("utf-8", "replace"))
        if kind == "wait":
            return Answer(wait=int(value) / 1000)
        return Answer(wait=self.poll)

    def release(
        self, ask: HostRequest, lease: str, latency: float | None, status: int | None
    ) -> float | None:
        self.held.pop(lease, None)
        adjust = ask.adjust and ask.fixed_delay is None and self.policy.enabled
        new = self._release(
            keys=[self.keys.budget_leases(ask.key), self.keys.budget_host(ask.key)],
            args=[
                lease,
                "" if latency is None else repr(float(latency)),
                status or 0,
                "1" if adjust else "0",
                repr(self.policy.target_concurrency),
                repr(self.policy.min_delay),
                repr(self.policy.max_delay),
            ],
        )
        return float(new) if new else None

    def renew(self) -> None:
        """Push back the expiry of every lease this worker holds."""
        if not self.held:
            return
        leases = list(self.held.items())
        try:
            self._renew(
                keys=[key for _, key in leases],
                args=[int(self.lease_ttl * 1000), *(lease for lease, _ in leases)],
            )
        except redis.RedisError as exc:
            logger.error("worker %s: renewing host leases failed: %s", self.worker_id, exc)

    def _start_renewal(self) -> None:
        if self.renewal is None:
            self.renewal = task.LoopingCall(self.renew)
            self.renewal.start(self.lease_ttl / 3, now=False)

    def close(self) -> None:
        if self.renewal is not None and self.renewal.running:
            self.renewal.stop()
        pipe = self.server.pipeline()
        for lease, key in self.held.items():
            pipe.zrem(key, lease)
        pipe.execute()
        self.held.clear()


# -- what `dangjian status --redis` shows ---------------------------------------------------


@dataclass
class HostStatus:
    """One host's budget as the cluster sees it now."""

    host: str
    in_flight: int
    limit: int
    delay: float
    fixed: bool
    latency: float | None
    starts: int
    last_start_ago: float | None
    holders: list[str] = field(default_factory=list)


@dataclass
class ClusterStatus:
    """The per-host budgets, the sites blocked per run, and the live workers."""

    hosts: list[HostStatus]
    blocked: list[tuple[str, str, str]]  # run id, site id, reason
    workers: list[str]


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def cluster_host_status(redis_url: str, prefix: str = "dangjian") -> ClusterStatus:
    """Read the per-host budgets of a running cluster (hosts started in the last day).

    Args:
        redis_url: the cluster's Redis.
        prefix: its key prefix (``DANGJIAN_REDIS_PREFIX``).

    Returns:
        Hosts (in flight, limit, delay, last latency, starts), blocked sites, live workers.
    """
    from distributed.worker import redis_client

    server = redis_client(redis_url)
    keys = RedisKeys(prefix)
    seconds, micros = server.time()
    now = seconds * 1000 + micros // 1000
    hosts = []
    for raw in server.zrange(keys.budget_hosts, 0, -1):
        host = _text(raw)
        info = {_text(k): _text(v) for k, v in server.hgetall(keys.budget_host(host)).items()}
        if not info:
            continue
        live = server.zrangebyscore(keys.budget_leases(host), now, "+inf")
        last = info.get("last")
        hosts.append(
            HostStatus(
                host=host,
                in_flight=len(live),
                limit=int(info.get("limit", 0)),
                delay=float(info.get("delay", 0)),
                fixed=info.get("fixed") == "1",
                latency=float(info["latency"]) if info.get("latency") else None,
                starts=int(info.get("starts", 0)),
                last_start_ago=(now - int(last)) / 1000 if last else None,
                holders=sorted({_text(lease).rsplit(":", 1)[0] for lease in live}),
            )
        )
    blocked = []
    for raw in server.scan_iter(match=keys.blocked("*"), count=1000):
        run_id = _text(raw).rsplit(":", 1)[-1]
        for site, reason in server.hgetall(raw).items():
            blocked.append((run_id, _text(site), _text(reason)))
    workers = sorted(
        _text(w) for w in server.smembers(keys.workers) if server.exists(keys.worker(_text(w)))
    )
    server.close()
    return ClusterStatus(sorted(hosts, key=lambda h: h.host), sorted(blocked), workers)


def host_status_table(status: ClusterStatus) -> str:
    """Return the table ``dangjian status --redis`` prints: one line per host, then blocks."""
    lines = [
        f"{len(status.workers)} live worker(s)",
        f"{'host':<32} {'in flight':>9} {'delay s':>8} {'by':<8} {'latency s':>9} "
        f"{'starts':>7} {'last start':>10}",
    ]
    for h in status.hosts:
        latency = f"{h.latency:.2f}" if h.latency is not None else "-"
        ago = f"{h.last_start_ago:.0f} s ago" if h.last_start_ago is not None else "-"
        lines.append(
            f"{h.host:<32} {f'{h.in_flight}/{h.limit}':>9} {h.delay:>8.2f} "
            f"{'site' if h.fixed else 'throttle':<8} {latency:>9} {h.starts:>7} {ago:>10}"
        )
    for run_id, site_id, reason in status.blocked:
        lines.append(f"blocked in run {run_id}: {site_id} ({reason})")
    return "\n".join(lines)
