"""The Redis contract between crawl workers and the one ingester: key names and messages.

Workers (``distributed/worker.py``) write raw pages to a Redis stream; the ingester
(``distributed/ingester.py``) reads them with a consumer group. Both sides build their key
names and messages here, so they can never drift apart. No Scrapy here: ``pipeline/`` never
imports it.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.model import RawPage

DEFAULT_PREFIX = "dangjian"
INGEST_GROUP = "ingest"


@dataclass(frozen=True)
class RedisKeys:
    """Every Redis key of one deployment, all under ``prefix`` (``DANGJIAN_REDIS_PREFIX``)."""

    prefix: str = DEFAULT_PREFIX

    @property
    def requests(self) -> str:
        """Sorted set: the shared request queue (scrapy-redis PriorityQueue layout)."""
        return f"{self.prefix}:requests"

    @property
    def start_urls(self) -> str:
        """List: start URLs pushed by ``dangjian enqueue``, as JSON, read by idle workers."""
        return f"{self.prefix}:start_urls"

    @property
    def pages(self) -> str:
        """Stream: raw pages and run announcements, consumed by the ``ingest`` group."""
        return f"{self.prefix}:pages"

    @property
    def dead_letters(self) -> str:
        """Stream: entries the ingester could not process after several tries, with why."""
        return f"{self.prefix}:dead"

    @property
    def failed_entries(self) -> str:
        """Hash: stream entry id → how many times processing it raised (until parked)."""
        return f"{self.prefix}:failed"

    @property
    def workers(self) -> str:
        """Set: ids of workers that registered (alive or not; liveness is ``worker(id)``)."""
        return f"{self.prefix}:workers"

    @property
    def runs(self) -> str:
        """Set: run ids enqueued and not yet finished by the ingester."""
        return f"{self.prefix}:runs"

    def worker(self, worker_id: str) -> str:
        """String with a TTL: present while the worker is alive (its heartbeat)."""
        return f"{self.prefix}:worker:{worker_id}"

    def processing(self, worker_id: str) -> str:
        """Hash: requests a worker has taken off the queue and not yet handed on."""
        return f"{self.prefix}:processing:{worker_id}"

    def dupefilter(self, run_id: str) -> str:
        """Set: request fingerprints seen in one run; expires after the run goes quiet."""
        return f"{self.prefix}:dupefilter:{run_id or 'none'}"

    @property
    def queue_turns(self) -> str:
        """Hash: host → the turn of its last queued request (the queue takes hosts in turn)."""
        return f"{self.prefix}:queue:turns"

    @property
    def queue_served(self) -> str:
        """String: the highest turn popped so far; a host new to the queue starts there."""
        return f"{self.prefix}:queue:served"

    def blocked(self, run_id: str) -> str:
        """Hash: site id → reason, the sites of a run stopped by an anti-bot challenge."""
        return f"{self.prefix}:blocked:{run_id or 'none'}"

    @property
    def budget_hosts(self) -> str:
        """Sorted set: hosts of the per-host budget → their last request start (ms)."""
        return f"{self.prefix}:budget:hosts"

    def budget_host(self, host: str) -> str:
        """Hash: a host's budget: delay, fixed (registry delay), limit, last start, latency."""
        return f"{self.prefix}:budget:host:{host}"

    def budget_leases(self, host: str) -> str:
        """Sorted set: leases on a host (``worker:token``) → expiry (ms): its requests in flight."""
        return f"{self.prefix}:budget:leases:{host}"


def page_message(page: RawPage) -> dict[str, Any]:
    """Return the stream fields for a fetched page (body zlib-compressed to save memory)."""
    return {
        "type": "page",
        "url": page.url,
        "final_url": page.final_url,
        "status": str(page.status),
        "headers": json.dumps(page.headers, ensure_ascii=False),
        "body": zlib.compress(page.body, 1),
        "fetched_at": page.fetched_at,
        "site_id": page.site_id,
        "run_id": page.run_id,
        "kind": page.kind,
        # An attachment's article and link text: what ties the file to its notice.
        "referrer": page.referrer,
        "link_text": page.link_text,
    }


def failure_message(
    *, url: str, site_id: str, run_id: str, reason: str, stage: str = "fetch"
) -> dict[str, Any]:
    """Return the stream fields for a request that got no response.

    ``stage`` is ``fetch`` for a failed request, ``blocked`` for a site's first anti-bot
    challenge (its run then finishes ``blocked``, as on a single machine).
    """
    return {
        "type": "failure",
        "url": url,
        "site_id": site_id,
        "run_id": run_id,
        "reason": reason,
        "stage": stage,
    }


def run_message(run_id: str, sites: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Return the stream fields announcing a run: its id and the registry entries of its sites."""
    return {
        "type": "run",
        "run_id": run_id,
        "sites": json.dumps(list(sites), ensure_ascii=False, default=str),
    }


def _text(fields: Mapping[bytes, bytes], name: str) -> str:
    return fields.get(name.encode(), b"").decode("utf-8")


def message_type(fields: Mapping[bytes, bytes]) -> str:
    """Return ``page``, ``failure`` or ``run`` for raw stream fields (bytes keys)."""
    return _text(fields, "type")


def decode_page(fields: Mapping[bytes, bytes]) -> RawPage:
    """Rebuild the ``RawPage`` of a ``page`` message."""
    return RawPage(
        url=_text(fields, "url"),
        final_url=_text(fields, "final_url"),
        status=int(_text(fields, "status") or 0),
        headers=json.loads(_text(fields, "headers") or "{}"),
        body=zlib.decompress(fields.get(b"body", b"")) if fields.get(b"body") else b"",
        fetched_at=_text(fields, "fetched_at"),
        site_id=_text(fields, "site_id"),
        run_id=_text(fields, "run_id"),
        kind=_text(fields, "kind") or "article",
        referrer=_text(fields, "referrer"),
        link_text=_text(fields, "link_text"),
    )


def decode_failure(fields: Mapping[bytes, bytes]) -> dict[str, str]:
    """Return url, site_id, run_id, reason and stage of a ``failure`` message."""
    decoded = {k: _text(fields, k) for k in ("url", "site_id", "run_id", "reason", "stage")}
    decoded["stage"] = decoded["stage"] or "fetch"  # entries written before stages existed
    return decoded


def decode_run(fields: Mapping[bytes, bytes]) -> tuple[str, list[dict[str, Any]]]:
    """Return the run id and site entries of a ``run`` message."""
    return _text(fields, "run_id"), json.loads(_text(fields, "sites") or "[]")
