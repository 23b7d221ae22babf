"""The crawl-run lifecycle, in one place: start, resume, record, finish, status, alerts, webhook.

A single-machine crawl (``crawler.pipelines.StorePipeline``), the distributed ingester
(``distributed.ingester``) and ``dangjian import`` all drive a run through ``CrawlRun``, so a
run's counts, its status (``ok``, ``partial``, ``failed``, ``blocked``), its health alerts and
the webhook behave the same whichever way the pages arrived.

Counts are read from the database when a site's run finishes (``pipeline.store.runs``), never
kept in a process's memory, so a resumed crawl or a restarted ingester reports exactly what
was stored.

After each run, ``evaluate_run`` compares it with the site's history and raises alerts:
``blocked``, ``layout`` (list pages without a single article link), ``stale`` (no new
articles for N runs in a row) and ``failure-rate`` (a jump). Alerts go to the log and, when a
webhook is configured (``DANGJIAN_ALERT_WEBHOOK``), to that URL as JSON.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import sqlite_utils

from pipeline.store import Store, utc_now
from pipeline.store import runs as run_table

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    """Something an operator must look at."""

    site_id: str
    run_id: str
    kind: str  # blocked | layout | stale | failure-rate
    message: str


@dataclass(frozen=True)
class HealthOptions:
    """Thresholds of ``evaluate_run`` (``DANGJIAN_HEALTH_*`` settings) and the alert webhook."""

    stale_runs: int = 5
    failure_rate: float = 0.3
    failure_jump: float = 0.2
    history: int = 5
    # An incremental run fetches few pages; one dead link must not read as a jump.
    min_failures: int = 3
    webhook: str | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | Any) -> HealthOptions:
        """Read the options from Scrapy settings, environment variables or any mapping."""

        def get(name: str, default: Any, kind: type) -> Any:
            value = settings.get(name)
            return default if value in (None, "") else kind(value)

        return cls(
            stale_runs=get("DANGJIAN_HEALTH_STALE_RUNS", cls.stale_runs, int),
            failure_rate=get("DANGJIAN_HEALTH_FAILURE_RATE", cls.failure_rate, float),
            failure_jump=get("DANGJIAN_HEALTH_FAILURE_JUMP", cls.failure_jump, float),
            webhook=settings.get("DANGJIAN_ALERT_WEBHOOK") or None,
        )


def failure_rate(row: Mapping[str, Any]) -> float:
    """Failures per fetched or failed page of one crawl_runs row."""
    failures = row.get("failures") or 0
    return failures / max(row.get("pages") or 0, failures, 1)


def evaluate_run(
    db: sqlite_utils.Database,
    run_id: str,
    site_id: str,
    article_links: int | None,
    options: HealthOptions,
    layout_detail: str | None = None,
) -> list[Alert]:
    """Compare a finished run with the site's history and return its alerts.

    Args:
        db: the news database.
        run_id: the run, already finished in ``crawl_runs``.
        site_id: the site.
        article_links: article links found on the run's list pages (None: unknown).
        options: thresholds.
        layout_detail: which start URLs gave no article link and the links they showed
            (the spider's ``dangjian/layout/<site>`` stat), quoted in a ``layout`` alert.
    """
    row = db["crawl_runs"].get((run_id, site_id))
    alerts: list[Alert] = []

    def alert(kind: str, message: str) -> None:
        alerts.append(Alert(site_id, run_id, kind, message))

    if row["status"] == "blocked":
        alert("blocked", row["reason"] or "anti-bot challenge")
        return alerts
    if row["status"] == "failed":
        return alerts  # nothing fetched: the failure itself is the news
    list_pages = run_table.list_pages_in_run(db, run_id, site_id)
    if article_links == 0 and list_pages:
        alert(
            "layout",
            f"{list_pages} list page(s) but no article link on any: "
            "has the layout or the URL scheme changed?"
            + (f" {layout_detail}" if layout_detail else ""),
        )
    earlier = run_table.earlier_runs(db, site_id, run_id, max(options.stale_runs, options.history))
    streak = [row, *earlier][: options.stale_runs]
    if len(streak) >= options.stale_runs and not any(
        (r["articles_new"] or 0) + (r["duplicates"] or 0) for r in streak
    ):
        alert(
            "stale",
            f"no new articles in the last {options.stale_runs} runs: has the layout changed?",
        )
    rate = failure_rate(row)
    history = [failure_rate(r) for r in earlier[: options.history]]
    baseline = sum(history) / len(history) if history else 0.0
    if (
        (row["failures"] or 0) >= options.min_failures
        and rate >= options.failure_rate
        and rate - baseline >= options.failure_jump
    ):
        alert("failure-rate", f"failure rate {rate:.0%} (previous runs {baseline:.0%})")
    return alerts


def send_alerts(alerts: list[Alert], webhook: str | None, timeout: float = 5.0) -> None:
    """Log each alert at ERROR and POST it as JSON to ``webhook`` when one is set.

    A webhook that cannot be reached is logged, never raised: alerts must not break a crawl.
    """
    for item in alerts:
        logger.error("ALERT %s %s (run %s): %s", item.site_id, item.kind, item.run_id, item.message)
        if not webhook:
            continue
        data = json.dumps(asdict(item), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(
            webhook, data=data, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                answer.read()
        except (urllib.error.URLError, OSError) as exc:
            logger.error("alert webhook %s failed: %s", webhook, exc)


def run_status(
    counts: Mapping[str, int], blocked: str | None, stopped: str | None
) -> tuple[str, str | None]:
    """Return a site's final status and the reason for it.

    ``blocked`` (an anti-bot challenge) wins; then a crawl cut short (``stopped`` is Scrapy's
    close reason) is ``partial`` or ``failed``; then no page at all is ``failed``; failed pages
    make it ``partial``; otherwise ``ok``.
    """
    if blocked:
        return "blocked", f"anti-bot challenge: {blocked}"
    if stopped:
        return ("partial" if counts.get("pages") else "failed"), f"crawl stopped early: {stopped}"
    if not counts.get("pages"):
        return "failed", "no page could be fetched"
    if counts.get("failures"):
        return "partial", f"{counts['failures']} page(s) failed; see failures"
    return "ok", None


class CrawlRun:
    """One run of one or more sites, from start to finished status and alerts.

    Args:
        store: the open database (the run's rows are written through it).
        run_id: the run's id (``import-...`` for ``dangjian import``).
        options: alert thresholds and webhook.
    """

    def __init__(self, store: Store, run_id: str, options: HealthOptions | None = None) -> None:
        self.store = store
        self.run_id = run_id
        self.options = options or HealthOptions()
        self._opened: set[str] = set()  # sites known to have a row in this run

    def begin(self, sites: Iterable[Mapping[str, Any]]) -> set[str]:
        """Record the sites and open a ``running`` row for each one not yet in the run.

        Returns:
            The ids of the sites the run had already started: a resumed run carries on.
        """
        sites = list(sites)
        self.store.save_sites(sites)
        started = self._open(s["id"] for s in sites)
        if started:
            logger.info("run %s: resuming %d site(s)", self.run_id, len(started))
        return started

    def include(self, site_id: str) -> None:
        """Open a ``running`` row for a site of the registry met during the run (import)."""
        if site_id not in self._opened:  # asked per imported page: no query once opened
            self._open([site_id])

    def _open(self, site_ids: Iterable[str]) -> set[str]:
        """Open ``running`` rows for the sites not yet in the run; return those that were."""
        started = run_table.started_sites(self.store.db, self.run_id)
        new = [sid for sid in site_ids if sid not in started]
        if new:
            self.store.start_run(self.run_id, new)
        self._opened |= started | set(new)
        return started

    def site_ids(self) -> list[str]:
        """The sites this run has rows for."""
        return sorted(run_table.started_sites(self.store.db, self.run_id))

    def page_stored(self, url: str, body: bytes) -> bool:
        """True when this page (same URL and body) was already stored in this run."""
        return run_table.page_stored(self.store.db, url, body, self.run_id)

    def record_block(self, site_id: str, reason: str, url: str) -> None:
        """Record a site's anti-bot challenge (once): the site's run will finish ``blocked``."""
        if run_table.blocked_reason(self.store.db, self.run_id, site_id):
            return
        with self.store.db.atomic():
            self.store.save_failure(
                url=url,
                stage=run_table.BLOCKED_STAGE,
                reason=reason,
                site_id=site_id,
                run_id=self.run_id,
            )

    def finish(
        self,
        site_id: str,
        *,
        stopped: str | None = None,
        article_links: int | None = None,
        not_modified: int = 0,
        layout_detail: str | None = None,
    ) -> list[Alert]:
        """Close a site's run: counts from the database, status, alerts, webhook.

        Args:
            site_id: the site.
            stopped: why the crawl stopped early (Scrapy's close reason), or None.
            article_links: article links seen on the run's list pages (None: unknown).
            not_modified: pages that answered 304 Not Modified.
            layout_detail: start URLs that gave no article link, for the ``layout`` alert.

        Returns:
            The alerts raised (already logged, stored and sent).
        """
        db = self.store.db
        counts = run_table.run_counts(db, self.run_id, site_id)
        blocked = run_table.blocked_reason(db, self.run_id, site_id)
        status, reason = run_status(counts, blocked, stopped)
        self.store.finish_run(self.run_id, site_id, counts, status, reason)
        alerts = evaluate_run(db, self.run_id, site_id, article_links, self.options, layout_detail)
        listed = [{"kind": a.kind, "message": a.message} for a in alerts]
        self.store.update_run(
            self.run_id,
            site_id,
            not_modified=not_modified,
            alerts=json.dumps(listed, ensure_ascii=False) if alerts else None,
        )
        send_alerts(alerts, self.options.webhook)
        return alerts


def close_interrupted_runs(store: Store, site_ids: list[str]) -> str | None:
    """Find the run to resume for ``site_ids`` (locked by the caller) and close the others.

    A crawl process that died leaves ``running`` rows. When the latest such run covers exactly
    these sites it is carried on; every other one is closed as ``partial`` (pages stored) or
    ``failed``, with the reason.

    Returns:
        The run id to carry on, or None to start a new run.
    """
    rows = run_table.running_runs(store.db, site_ids)
    last = rows[-1]["run_id"] if rows else None
    resume = None
    if last and {r["site_id"] for r in rows if r["run_id"] == last} == set(site_ids):
        resume = last
    for row in rows:
        if row["run_id"] == resume:
            continue
        counts = run_table.run_counts(store.db, row["run_id"], row["site_id"])
        store.update_run(
            row["run_id"],
            row["site_id"],
            finished_at=utc_now(),
            status="partial" if counts["pages"] else "failed",
            pages=counts["pages"],
            reason="interrupted: the crawl process died",
        )
    if resume:
        logger.info("resuming run %s, interrupted before it finished", resume)
    elif rows:
        logger.info("closed %d interrupted run row(s)", len(rows))
    return resume
