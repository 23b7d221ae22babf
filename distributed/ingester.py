"""The one writer of a distributed crawl: Redis stream → ingest_page → SQLite → XACK.

Workers hand raw pages to the stream ``<prefix>:pages``; this process reads it as the
consumer group ``ingest``, runs every page through ``ingest_page`` (the same code as a
single-machine crawl) and acknowledges an entry only after its SQLite transaction has
committed. A crash therefore loses nothing: on restart the consumer first re-reads its own
pending entries (and claims those of any other consumer name). Re-ingesting an entry is
harmless: a page already stored (same URL, run, fetch time and body) is skipped, and
articles are upserted on their canonical URL anyway.

Acknowledged entries are trimmed from the stream (``XTRIM MINID``), so the stream only
holds what the ingester has not yet committed.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import redis

from distributed.stream import (
    INGEST_GROUP,
    RedisKeys,
    decode_failure,
    decode_page,
    decode_run,
    message_type,
)
from pipeline.ingest import ingest_page
from pipeline.runs import CrawlRun, HealthOptions
from pipeline.store import Store, runs
from pipeline.store.runs import BLOCKED_STAGE

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestOptions:
    """How the ingester reads the stream.

    Attributes:
        consumer: the consumer name; keep it fixed so a restart re-reads its pending entries.
        batch: entries read (and acknowledged) per round trip.
        block_ms: how long one read waits for new entries.
        exit_when_done: stop once every run is finished (queue empty, no live worker, all
            entries committed) instead of waiting for the next run.
        max_entries: stop after this many entries (0: no limit); for benchmarks.
        max_deliveries: an entry whose processing raised this many times (across restarts)
            goes to the dead-letter stream ``<prefix>:dead`` with its reason, never retried
            forever.
        health: alert thresholds and webhook (``DANGJIAN_HEALTH_*`` and
            ``DANGJIAN_ALERT_WEBHOOK`` from the environment by default).
    """

    consumer: str = "ingester"
    batch: int = 100
    block_ms: int = 1000
    exit_when_done: bool = False
    max_entries: int = 0
    max_deliveries: int = 3
    health: HealthOptions = field(default_factory=lambda: HealthOptions.from_settings(os.environ))


@dataclass
class IngestStats:
    """What one ``run_ingester`` call did."""

    entries: int = 0
    redelivered: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    runs_finished: list[str] = field(default_factory=list)
    seconds: float = 0.0


class StreamIngester:
    """Reads the page stream into a Store; see the module docstring.

    Args:
        server: a Redis client (``decode_responses`` off: bodies are bytes).
        store: the open database, written only by this process.
        keys: the deployment's key names.
        options: reading options.
    """

    def __init__(
        self, server: redis.Redis, store: Store, keys: RedisKeys, options: IngestOptions
    ) -> None:
        self.server = server
        self.store = store
        self.keys = keys
        self.options = options
        self.stats = IngestStats()
        self.stopping = False

    def ensure_group(self) -> None:
        """Create the consumer group (and the stream) from the first entry if missing."""
        try:
            self.server.xgroup_create(self.keys.pages, INGEST_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def run(self) -> IngestStats:
        """Ingest until stopped (SIGINT/SIGTERM), or until done with ``exit_when_done``."""
        started = time.monotonic()
        self.ensure_group()
        self.claim_orphans()
        # "0" re-reads this consumer's pending entries (delivered before a crash, not acked).
        self._drain("0")
        while not self.stopping:
            if self.options.max_entries and self.stats.entries >= self.options.max_entries:
                break
            if self._drain(">"):
                continue
            if self.cluster_idle():
                self.finish_runs()
                if self.options.exit_when_done:
                    break
        self.stats.seconds = time.monotonic() - started
        return self.stats

    def claim_orphans(self) -> None:
        """Take over entries pending with other consumer names (an ingester renamed or lost)."""
        start = "0-0"
        while True:
            # Claimed entries become this consumer's pending ones, read back by _drain("0").
            start, claimed, *_ = self.server.xautoclaim(
                self.keys.pages,
                INGEST_GROUP,
                self.options.consumer,
                min_idle_time=0,
                start_id=start,
                count=self.options.batch,
            )
            if claimed:
                logger.info("claimed %d pending entries of other consumers", len(claimed))
            if start in (b"0-0", "0-0"):
                return

    def _drain(self, start: str) -> int:
        """Read and ingest one batch from ``start`` ('0' pending, '>' new); return its size."""
        block = None if start == "0" else self.options.block_ms
        reply = self.server.xreadgroup(
            INGEST_GROUP,
            self.options.consumer,
            {self.keys.pages: start},
            count=self.options.batch,
            block=block,
        )
        entries = reply[0][1] if reply else []
        done = []
        for entry_id, fields in entries:
            if fields:  # a pending entry trimmed away has no fields: nothing to do
                try:
                    self.ingest_entry(fields)
                except Exception as exc:
                    # ingest_page records a poison page itself; what reaches here could not
                    # even be recorded. Retried on restart, then parked, never forever.
                    if not self._dead_letter(entry_id, fields, exc):
                        raise
            done.append(entry_id)
            self.stats.entries += 1
        if done:
            # Acknowledge only now: every entry above is committed to SQLite.
            self.server.xack(self.keys.pages, INGEST_GROUP, *done)
            self.trim()
        if start == "0" and len(entries) == self.options.batch:
            return len(entries) + self._drain("0")
        return len(entries)

    def _dead_letter(self, entry_id: bytes, fields: dict[bytes, bytes], exc: Exception) -> bool:
        """Park an entry whose processing has failed ``max_deliveries`` times.

        Failures are counted per entry in Redis (``<prefix>:failed``), across restarts. Returns
        True when the entry went to the dead-letter stream (it is then acknowledged with its
        batch); False while it has tries left, so the ingester stops and a restart retries it.
        """
        failures = int(self.server.hincrby(self.keys.failed_entries, entry_id, 1))
        reason = f"{type(exc).__name__}: {exc}"[:2000]
        if failures < self.options.max_deliveries:
            logger.error(
                "entry %s failed (try %d of %d): %s",
                entry_id,
                failures,
                self.options.max_deliveries,
                reason,
            )
            return False
        pipe = self.server.pipeline(transaction=True)
        pipe.xadd(
            self.keys.dead_letters,
            {**fields, b"failed_entry": entry_id, b"reason": reason, b"tries": failures},
        )
        pipe.hdel(self.keys.failed_entries, entry_id)
        pipe.execute()
        self.stats.outcomes["dead-letter"] += 1
        logger.error(
            "entry %s moved to %s after %d tries: %s",
            entry_id,
            self.keys.dead_letters,
            failures,
            reason,
        )
        return True

    def ingest_entry(self, fields: dict[bytes, bytes]) -> None:
        """Store one stream entry; each kind in its own SQLite transaction."""
        kind = message_type(fields)
        if kind == "run":
            run_id, sites = decode_run(fields)
            self.crawl_run(run_id).begin(sites)
            self.stats.outcomes["run"] += 1
        elif kind == "failure":
            f = decode_failure(fields)
            if f["stage"] == BLOCKED_STAGE:
                self.crawl_run(f["run_id"]).record_block(f["site_id"], f["reason"], f["url"])
                self.stats.outcomes["blocked"] += 1
                return
            if runs.failure_stored(self.store.db, f["url"], f["run_id"], "fetch", f["reason"]):
                self.stats.redelivered += 1
                return
            with self.store.db.atomic():
                self.store.save_failure(
                    url=f["url"],
                    stage="fetch",
                    reason=f["reason"],
                    site_id=f["site_id"],
                    run_id=f["run_id"],
                )
            self.stats.outcomes["failure"] += 1
        elif kind == "page":
            page = decode_page(fields)
            if self.crawl_run(page.run_id).page_stored(page.url, page.body):
                self.stats.redelivered += 1
                return
            outcome = ingest_page(self.store, page)
            self.stats.outcomes[outcome.kind] += 1
            if outcome.kind == "failure":
                logger.warning("failed %s: %s", page.url, outcome.reason)
        else:
            logger.error("ignoring a stream entry of unknown type %r", kind)

    def crawl_run(self, run_id: str) -> CrawlRun:
        """The lifecycle of one run (the same as a single-machine crawl's)."""
        return CrawlRun(self.store, run_id, self.options.health)

    def trim(self) -> None:
        """Delete acknowledged entries: everything before the oldest entry not yet acked."""
        pending = self.server.xpending(self.keys.pages, INGEST_GROUP)
        if pending["pending"]:
            min_id = pending["min"]
        else:
            groups = self.server.xinfo_groups(self.keys.pages)
            group = next(g for g in groups if g["name"] in (INGEST_GROUP, INGEST_GROUP.encode()))
            min_id = group["last-delivered-id"]
        self.server.xtrim(self.keys.pages, minid=min_id)

    def cluster_idle(self) -> bool:
        """Return True when no worker is alive, nothing is queued and the stream is drained."""
        k = self.keys
        if self.server.zcard(k.requests) or self.server.llen(k.start_urls):
            return False
        for raw in self.server.smembers(k.workers):
            worker = raw.decode()
            if self.server.exists(k.worker(worker)) or self.server.hlen(k.processing(worker)):
                return False
        if self.server.xpending(k.pages, INGEST_GROUP)["pending"]:
            return False
        # Entries not yet delivered to the group also mean work.
        return not self._undelivered()

    def _undelivered(self) -> bool:
        groups = self.server.xinfo_groups(self.keys.pages)
        group = next(g for g in groups if g["name"] in (INGEST_GROUP, INGEST_GROUP.encode()))
        lag = group.get("lag")
        if lag is not None:
            return bool(lag)
        info = self.server.xinfo_stream(self.keys.pages)
        return info["last-generated-id"] != group["last-delivered-id"]

    def finish_runs(self) -> None:
        """Close every open run: counts, status, alerts and webhook, as on a single machine.

        Article links seen on list pages are counted by the workers, not sent here, so the
        ``layout`` alert is not raised for distributed runs (the other alerts are).
        """
        for raw in self.server.smembers(self.keys.runs):
            run_id = raw.decode()
            run = self.crawl_run(run_id)
            for site_id in run.site_ids():
                run.finish(site_id)
            self.server.srem(self.keys.runs, run_id)
            self.stats.runs_finished.append(run_id)
            logger.info("run %s finished", run_id)


def run_ingester(
    redis_url: str, db_path: str, *, prefix: str = "dangjian", options: IngestOptions | None = None
) -> IngestStats:
    """Run the ingester until SIGINT/SIGTERM (or until done); return what it did."""
    server = redis.Redis.from_url(redis_url, socket_connect_timeout=10)
    store = Store(db_path)
    ingester = StreamIngester(server, store, RedisKeys(prefix), options or IngestOptions())

    def stop(signum: int, frame: Any) -> None:
        # Finish the batch in hand (and acknowledge it) before leaving.
        ingester.stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return ingester.run()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        store.close()
