"""A cluster is as polite to each site as one machine (issue 17): real workers, Redis, loopback.

Three ``dangjian worker`` processes share one per-host budget in Redis
(``distributed/politeness.py``). Loopback hosts count the requests they are answering at once
and record when each request started (``LoopbackSites``). Workers run with
``CONCURRENT_REQUESTS=3`` so a host's requests spread over all of them (a worker with room
for 16 would pop every link it found itself, and the test would prove nothing).

Clock tolerance: starts are taken by the server when it reads the request; the budget grants
them on Redis's clock, and the request reaches the server a few milliseconds later, by an
amount that varies with load. Gaps may come out shorter than the delay by
``TOLERANCE`` (50 ms); in-flight counts need no tolerance (a lease covers the whole request).
"""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from distributed.politeness import cluster_host_status
from distributed.stream import RedisKeys

from .conftest import dangjian, stop
from .test_distributed import redis_server, start_ingester, wait_all, wait_until  # noqa: F401 (fixture)
from .test_politeness_public_api import LoopbackSites, write_registry

pytestmark = pytest.mark.e2e

TOLERANCE = 0.05
# Workers start first (so the crawl spreads over all of them) and must outlive the slowest
# one's start-up on a loaded machine; each test stops them once the crawl is done.
IDLE_CLOSE = 120
WORKER_TTL = 3
LIMIT = 2  # CONCURRENT_REQUESTS_PER_DOMAIN, the project default


def start_worker(redis_url: str, registry: Path, log: Path, *settings: str) -> subprocess.Popen:
    args = ["-s", "CONCURRENT_REQUESTS=3", "-s", f"DANGJIAN_REDIS_WORKER_TTL={WORKER_TTL}"]
    for setting in settings:
        args += ["-s", setting]
    return subprocess.Popen(
        dangjian(
            "worker",
            "--redis",
            redis_url,
            "--sites",
            str(registry),
            "--idle-close",
            str(IDLE_CLOSE),
            *args,
        ),
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )


def enqueue(redis_url: str, registry: Path) -> None:
    """``dangjian enqueue --sample``, in this process: the workers are waiting already."""
    from distributed.worker import enqueue_sites

    enqueue_sites(redis_url, sample=True, sites_path=str(registry))


def live_workers(client, n: int) -> bool:
    keys = RedisKeys()
    return (
        sum(bool(client.exists(keys.worker(w.decode()))) for w in client.smembers(keys.workers))
        >= n
    )


def cluster_quiet(client) -> bool:
    """Nothing queued and nothing taken by any worker, dead or alive."""
    keys = RedisKeys()
    if client.zcard(keys.requests) or client.llen(keys.start_urls):
        return False
    return not any(client.hlen(keys.processing(w.decode())) for w in client.smembers(keys.workers))


def crawl_done(client, sites: LoopbackSites, served: dict[str, int]) -> Callable[[], bool]:
    """A condition: every host served its pages and the cluster stayed quiet for 1.5 s."""
    quiet_since: list[float] = []

    def done() -> bool:
        if any(sites.logs[host].served < n for host, n in served.items()):
            return False
        if not cluster_quiet(client):
            quiet_since.clear()
            return False
        quiet_since[:] = quiet_since or [time.monotonic()]
        return time.monotonic() - quiet_since[0] >= 1.5

    return done


def stop_all(procs: list[subprocess.Popen | None]) -> None:
    for proc in procs:
        if proc is not None:
            stop(proc)


def stored(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


SLOW, THROTTLED = "127.0.0.51", "127.0.0.52"


def test_three_workers_keep_one_per_host_limit_and_delay(redis_server, tmp_path):  # noqa: F811 (the fixture)
    """Never more than the limit in flight per host, never two starts closer than the delay."""
    with LoopbackSites({SLOW: 0.5, THROTTLED: 0.3}, articles=20) as sites:
        registry = write_registry(
            tmp_path / "sites.yml",
            [sites.entry("slow-site", SLOW, 0.2), sites.entry("throttled-site", THROTTLED, None)],
        )
        throttle = ["DOWNLOAD_DELAY=0.1", "AUTOTHROTTLE_START_DELAY=0.1"]
        workers = [
            start_worker(redis_server.url, registry, tmp_path / f"w{i}.log", *throttle)
            for i in range(3)
        ]
        db = tmp_path / "news.db"
        ingester = None
        status_cli: subprocess.Popen | None = None
        try:
            wait_until(lambda: live_workers(redis_server.client, 3), 120, "3 workers up")
            enqueue(redis_server.url, registry)
            # Started after the run is announced: an ingester finding nothing to do exits.
            ingester = start_ingester(
                redis_server.url, db, tmp_path / "ingest.log", "--exit-when-done"
            )
            holders: set[str] = set()
            most = 0
            # Watch the cluster as `dangjian status --redis` does, while it crawls.
            done = crawl_done(redis_server.client, sites, {SLOW: 21, THROTTLED: 21})
            deadline = time.monotonic() + 180
            while not done():
                assert time.monotonic() < deadline, "the crawl did not finish in 180 s"
                for host in cluster_host_status(redis_server.url).hosts:
                    if host.host == SLOW:
                        holders.update(host.holders)
                        most = max(most, host.in_flight)
                if most and status_cli is None:  # in the background: the watch goes on
                    status_cli = subprocess.Popen(
                        dangjian("status", "--redis", redis_server.url),
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                time.sleep(0.05)
            assert status_cli is not None
            table = status_cli.communicate(timeout=60)[0]
            stop_all(workers)
            wait_all([ingester], timeout=60)
        finally:
            stop_all([*workers, ingester, status_cli])
        logs = [(tmp_path / f"w{i}.log").read_text() for i in range(3)]
        status = cluster_host_status(redis_server.url)

    for host, delay in ((SLOW, 0.2), (THROTTLED, 0.1)):
        log = sites.logs[host]
        assert log.peak <= LIMIT, (host, log.peak)
        assert min(log.gaps()) >= delay - TOLERANCE, (host, sorted(log.gaps())[:5])
    # The slow site's answers take 0.5 s: the limit, not the delay, was what held it back.
    assert sites.logs[SLOW].peak == LIMIT and most == LIMIT
    # Its requests were shared out: leases of several workers on that one host.
    assert len(holders) >= 2, (holders, [log[-1500:] for log in logs])
    # AutoThrottle's delay is the cluster's: raised to the ~0.3 s latency every worker saw.
    by_host = {h.host: h for h in status.hosts}
    assert by_host[SLOW].fixed and by_host[SLOW].delay == pytest.approx(0.2)
    assert not by_host[THROTTLED].fixed and by_host[THROTTLED].delay >= 0.25
    late = sites.logs[THROTTLED].gaps()[len(sites.logs[THROTTLED].gaps()) // 2 :]
    assert min(late) >= 0.25 - TOLERANCE, late
    assert all(h.in_flight == 0 for h in status.hosts)  # every lease given back
    # The operator's view of the running cluster: e.g. "127.0.0.51  2/2  0.20 site ...".
    line = next(x for x in table.splitlines() if x.startswith(SLOW))
    assert re.search(r"\s[0-2]/2\s+0\.20 site\s", line), table
    assert "live worker(s)" in table
    # Nothing lost: every article of both sites stored once.
    assert ingester.returncode == 0, (tmp_path / "ingest.log").read_text()[-2000:]
    rows = stored(db, "select site_id, count(*), count(distinct url) from articles group by 1")
    assert sorted(rows) == [("slow-site", 20, 20), ("throttled-site", 20, 20)]


def test_a_killed_workers_lease_frees_itself_and_nothing_is_lost(redis_server, tmp_path):  # noqa: F811 (the fixture)
    lease_ttl = 2.0
    client = redis_server.client
    keys = RedisKeys()
    with LoopbackSites({SLOW: 0.4}, articles=40) as sites:
        registry = write_registry(tmp_path / "sites.yml", [sites.entry("slow-site", SLOW, 0)])
        ttl = f"DANGJIAN_HOST_BUDGET_LEASE_TTL={lease_ttl}"
        victim = start_worker(redis_server.url, registry, tmp_path / "victim.log", ttl)
        survivor = start_worker(redis_server.url, registry, tmp_path / "survivor.log", ttl)
        db = tmp_path / "news.db"
        ingester = None
        try:
            wait_until(lambda: live_workers(client, 2), 120, "2 workers up")
            enqueue(redis_server.url, registry)
            # Started after the run is announced: an ingester finding nothing to do exits.
            ingester = start_ingester(
                redis_server.url, db, tmp_path / "ingest.log", "--exit-when-done"
            )

            def victim_leases() -> list[tuple[bytes, float]]:
                return [
                    (lease, score)
                    for lease, score in client.zrange(
                        keys.budget_leases(SLOW), 0, -1, withscores=True
                    )
                    if f"-{victim.pid}-".encode() in lease
                ]

            # Freeze it while it holds a lease and the survivor is crawling too.
            wait_until(lambda: sites.logs[SLOW].served > 6, timeout=60, what="the crawl under way")
            deadline = time.monotonic() + 30
            while True:
                victim.send_signal(signal.SIGSTOP)
                if victim_leases():
                    break
                victim.send_signal(signal.SIGCONT)
                assert time.monotonic() < deadline, "the victim never held a lease"
                time.sleep(0.01)
            victim.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            seconds, micros = client.time()
            now_ms = seconds * 1000 + micros / 1000
            held = victim_leases()
            victim.wait(timeout=10)

            def victim_holds_a_place() -> bool:
                hosts = {h.host: h for h in cluster_host_status(redis_server.url).hosts}
                return any(f"-{victim.pid}-" in w for w in hosts[SLOW].holders)

            wait_until(
                lambda: not victim_holds_a_place(), timeout=lease_ttl + 5, what="lease lapse"
            )
            freed = time.monotonic()
            # 41 pages, some twice: the victim's requests are fetched again by the survivor.
            wait_until(crawl_done(client, sites, {SLOW: 41}), 180, "the crawl done")
            stop(survivor)
            wait_all([ingester], timeout=60)
        finally:
            stop_all([victim, survivor, ingester])

    # The lease runs out at most one TTL after the kill (it was renewed at most TTL ago) ...
    assert held and all(expiry - now_ms <= lease_ttl * 1000 + 50 for _, expiry in held)
    assert freed - killed <= lease_ttl + 0.5
    log = sites.logs[SLOW]
    # ... until then its place stays taken: the survivor alone has one request at a time ...
    # (The victim's own request was still being answered for up to 0.4 s after the kill.)
    expires = killed + min(e - now_ms for _, e in held) / 1000
    assert log.peak_between(killed + 0.5, expires - 0.1) <= 1
    # ... then it has both places: the lease came back by itself.
    assert log.peak_between(freed, freed + 30) == LIMIT
    assert log.peak <= LIMIT
    assert survivor.returncode == 0 and ingester.returncode == 0
    # Nothing lost: the victim's requests went back on the queue (its heartbeat ran out).
    rows = stored(db, "select count(*), count(distinct url) from articles")
    assert rows == [(40, 40)], (tmp_path / "survivor.log").read_text()[-2000:]


def test_a_blocked_site_stops_on_every_worker_at_once(redis_server, tmp_path):  # noqa: F811 (the fixture)
    """The first anti-bot challenge stops the site everywhere: no later request reaches it."""
    challenged, healthy = "127.0.0.53", "127.0.0.54"
    served_before_challenge = 4
    with LoopbackSites(
        {challenged: 0.0, healthy: 0.1},
        articles=12,
        challenge={challenged: served_before_challenge},
    ) as sites:
        registry = write_registry(
            tmp_path / "sites.yml",
            [
                sites.entry("challenged-site", challenged, 0.5, columns=3),
                sites.entry("healthy-site", healthy, 0.1),
            ],
        )
        workers = [
            start_worker(redis_server.url, registry, tmp_path / f"w{i}.log") for i in range(3)
        ]
        db = tmp_path / "news.db"
        ingester = None
        try:
            wait_until(lambda: live_workers(redis_server.client, 3), 120, "3 workers up")
            enqueue(redis_server.url, registry)
            # Started after the run is announced: an ingester finding nothing to do exits.
            ingester = start_ingester(
                redis_server.url, db, tmp_path / "ingest.log", "--exit-when-done"
            )
            wait_until(crawl_done(redis_server.client, sites, {healthy: 13}), 180, "the crawl done")
            stop_all(workers)
            wait_all([ingester], timeout=60)
        finally:
            stop_all([*workers, ingester])
        logs = [(tmp_path / f"w{i}.log").read_text() for i in range(3)]
        status = cluster_host_status(redis_server.url)

    pages = [p for p in sites.logs[challenged].paths if p != "/robots.txt"]
    # The challenge was the last request the site got: the next start was 0.5 s away, and by
    # then every worker knew (the block is published in Redis as soon as it is met).
    assert len(pages) == served_before_challenge + 1, pages
    challenged_by = [i for i, log in enumerate(logs) if "ALERT site challenged-site blocked" in log]
    assert len(challenged_by) == 1
    others = [log for i, log in enumerate(logs) if i not in challenged_by]
    # Workers that never saw the challenge dropped the site's requests they held.
    assert any("'dangjian/budget/blocked'" in log for log in others), [w[-1500:] for w in logs]
    assert [site for _, site, _ in status.blocked] == ["challenged-site"]
    assert status.blocked[0][2].startswith("HTTP 412 with an inline $_ts")
    assert ingester.returncode == 0, (tmp_path / "ingest.log").read_text()[-2000:]
    conn = sqlite3.connect(db)
    runs = dict(conn.execute("select site_id, status from crawl_runs"))
    assert runs["challenged-site"] == "blocked"
    assert runs["healthy-site"] in ("ok", "partial")  # partial: a timeout under load
    assert conn.execute(
        "select count(*) from articles where site_id = 'healthy-site'"
    ).fetchone() == (12,)
