"""Reads and writes of ``crawl_runs``: the SQL half of the run lifecycle (``pipeline.runs``).

Operations (``dangjian status``, the scheduler, crash recovery) and the health checks ask
these named functions instead of writing their own SQL, so the table has one owner.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import sqlite_utils

# The outcomes of ingest_page and the crawl_runs column each one counts in.
OUTCOME_COUNTERS = {
    "new": "articles_new",
    "updated": "articles_updated",
    "duplicate": "duplicates",
}
# A failure row of this stage records an anti-bot challenge: it sets the run's status to
# ``blocked`` rather than counting as a failed page.
BLOCKED_STAGE = "blocked"


def started_sites(db: sqlite_utils.Database, run_id: str) -> set[str]:
    """Return the sites that already have a ``crawl_runs`` row in ``run_id``."""
    return {
        r["site_id"] for r in db.query("select site_id from crawl_runs where run_id = ?", [run_id])
    }


def run_rows(db: sqlite_utils.Database, run_id: str) -> list[dict[str, Any]]:
    """Return a run's ``crawl_runs`` rows, one per site, ordered by site."""
    if "crawl_runs" not in db.table_names():
        return []
    return [
        dict(r)
        for r in db.query("select * from crawl_runs where run_id = ? order by site_id", [run_id])
    ]


def run_counts(db: sqlite_utils.Database, run_id: str, site_id: str) -> dict[str, int]:
    """Count a site's pages, articles and failures in a run from what the database holds.

    Counting from the tables (never from a process's memory) is what lets a resumed crawl,
    a restarted ingester and an import report the same numbers for the same work.
    """
    outcomes = dict(
        db.execute(
            "select outcome, count(*) from pages where run_id = ? and site_id = ? group by outcome",
            [run_id, site_id],
        ).fetchall()
    )
    # Every failed fetch or page has exactly one failures row; a block is not a failed page.
    failures = db.execute(
        "select count(*) from failures where run_id = ? and site_id = ? and stage != ?",
        [run_id, site_id, BLOCKED_STAGE],
    ).fetchone()[0]
    counts = {column: int(outcomes.get(outcome, 0)) for outcome, column in OUTCOME_COUNTERS.items()}
    counts["pages"] = int(sum(outcomes.values()))
    counts["failures"] = int(failures)
    return counts


def blocked_reason(db: sqlite_utils.Database, run_id: str, site_id: str) -> str | None:
    """Return why a site was blocked in a run (its first anti-bot challenge), or None."""
    row = db.execute(
        "select reason from failures where run_id = ? and site_id = ? and stage = ? "
        "order by id limit 1",
        [run_id, site_id, BLOCKED_STAGE],
    ).fetchone()
    return row[0] if row else None


def list_pages_in_run(db: sqlite_utils.Database, run_id: str, site_id: str) -> int:
    """Count the list pages a site's run fetched successfully."""
    return db.execute(
        "select count(*) from pages where run_id = ? and site_id = ? and kind = 'list' "
        "and status < 400",
        [run_id, site_id],
    ).fetchone()[0]


def earlier_runs(
    db: sqlite_utils.Database, site_id: str, run_id: str, limit: int
) -> list[dict[str, Any]]:
    """Return a site's finished ``ok``/``partial`` runs before ``run_id``, newest first."""
    return [
        dict(r)
        for r in db.query(
            "select * from crawl_runs where site_id = ? and run_id != ? and finished_at is not null "
            "and status in ('ok', 'partial') order by started_at desc limit ?",
            [site_id, run_id, limit],
        )
    ]


def page_stored(
    db: sqlite_utils.Database, url: str, body: bytes, run_id: str | None = None
) -> bool:
    """True when this very body was stored for ``url`` (within ``run_id`` when given).

    The one answer to "already stored?": a resumed crawl and a restarted ingester ask it
    within their run, ``dangjian import`` across all runs.
    """
    sql = "select 1 from pages where url = ? and body_sha1 = ?"
    params: list[Any] = [url, hashlib.sha1(body).hexdigest()]
    if run_id is not None:
        sql += " and run_id = ?"
        params.append(run_id)
    return db.execute(sql + " limit 1", params).fetchone() is not None


def failure_stored(
    db: sqlite_utils.Database, url: str, run_id: str, stage: str, reason: str
) -> bool:
    """True when this failure of ``url`` was already recorded in ``run_id`` (a redelivery)."""
    return (
        db.execute(
            "select 1 from failures where url = ? and run_id = ? and stage = ? and reason = ? "
            "limit 1",
            [url, run_id, stage, reason],
        ).fetchone()
        is not None
    )


def running_runs(db: sqlite_utils.Database, site_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Return the ``running`` rows of these sites, oldest first (a crashed crawl leaves them)."""
    ids = list(site_ids)
    if not ids or "crawl_runs" not in db.table_names():
        return []
    marks = ", ".join("?" * len(ids))
    return [
        dict(r)
        for r in db.query(
            f"select run_id, site_id from crawl_runs where status = 'running' "
            f"and site_id in ({marks}) order by started_at",
            ids,
        )
    ]


def last_starts(db: sqlite_utils.Database, site_ids: Iterable[str]) -> dict[str, str]:
    """Return when each site's latest run started (ISO 8601 UTC), for sites that have one."""
    ids = list(site_ids)
    if not ids or "crawl_runs" not in db.table_names():
        return {}
    marks = ", ".join("?" * len(ids))
    rows = db.query(
        f"select site_id, max(started_at) as started from crawl_runs "
        f"where site_id in ({marks}) group by site_id",
        ids,
    )
    return {r["site_id"]: r["started"] for r in rows if r["started"]}


# The per-site health view: `dangjian status` and the `site_health` canned query in
# metadata.yml run this same SQL (tests/test_health.py checks they agree).
STATUS_SQL = """select s.id as site_id, s.name, r.started_at as last_run, r.status,
  coalesce(w.new_7d, 0) as new_7d, coalesce(w.runs_7d, 0) as runs_7d,
  round(1.0 * coalesce(w.failures_7d, 0)
        / max(coalesce(w.pages_7d, 0), coalesce(w.failures_7d, 0), 1), 3) as failure_rate,
  r.alerts, r.reason
from sites s
left join crawl_runs r on r.site_id = s.id and r.started_at = (
  select max(started_at) from crawl_runs where site_id = s.id)
left join (
  select site_id, sum(articles_new) as new_7d, count(*) as runs_7d,
         sum(failures) as failures_7d, sum(pages) as pages_7d
  from crawl_runs
  where started_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-7 days')
  group by site_id) w on w.site_id = s.id
where r.run_id is not null
order by s.id"""


def site_status(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Return one row per crawled site: last run, status, new articles and failure rate (7 days)."""
    if "crawl_runs" not in db.table_names():
        return []
    return [dict(r) for r in db.query(STATUS_SQL)]
