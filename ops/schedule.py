"""Schedules: when each site is due, and ``dangjian schedule``, the long-running scheduler.

A site's ``schedule`` in the registry is an interval (``30m``, ``6h``, ``1d``, ``2w``) or a
five-field cron expression in China time (``0 7 * * *``); sites without one are crawled
daily. *When a site is due* is computed from its ``crawl_runs`` history, never from state
kept in the scheduler: a site is due when its last run started one interval ago (or before
the first cron time after that start), or when it has never been crawled. So a scheduler
that is restarted neither repeats a run (the last start is in the database) nor loses one
(an overdue site starts at once, once, however many times it was missed).

Each due crawl runs as its own ``dangjian crawl SITE`` process (Twisted's reactor cannot be
restarted in one process); APScheduler's ``max_instances=1`` and the per-site lock file
(ops/jobs.py) make sure a site is never crawled twice at once, even by cron beside us.
"""

from __future__ import annotations

import logging
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from crawler.registry import Site
from pipeline.errors import SiteConfigError
from pipeline.store import runs

logger = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")
DEFAULT_SCHEDULE = "1d"
INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_schedule(schedule: str | None) -> timedelta | CronTrigger:
    """Return an interval or a cron trigger for a registry ``schedule`` value.

    Raises:
        SiteConfigError: neither an interval nor a valid cron expression.
    """
    text = (schedule or DEFAULT_SCHEDULE).strip()
    match = INTERVAL.match(text)
    if match:
        return timedelta(**{UNITS[match.group(2)]: float(match.group(1))})
    try:
        return CronTrigger.from_crontab(text, timezone=CHINA)
    except ValueError as exc:
        raise SiteConfigError(
            f"schedule {text!r} is neither an interval like 6h / 1d nor a cron expression "
            f"like '0 7 * * *': {exc}"
        ) from exc


def next_due(schedule: str | None, last_started: datetime | None, now: datetime) -> datetime:
    """Return when a site with ``schedule``, last started at ``last_started``, is next due.

    A time at or before ``now`` means due now.
    """
    if last_started is None:
        return now
    rule = parse_schedule(schedule)
    if isinstance(rule, timedelta):
        return last_started + rule
    fire = rule.get_next_fire_time(None, last_started + timedelta(seconds=1))
    return fire.astimezone(UTC) if fire else now + timedelta(days=3650)


def last_starts(db_path: str | Path, site_ids: Iterable[str]) -> dict[str, datetime]:
    """Return when each site's latest crawl run started (sites never crawled are absent)."""
    if not Path(db_path).exists():
        return {}
    db = sqlite_utils.Database(db_path)
    try:
        return {k: _parse_utc(v) for k, v in runs.last_starts(db, site_ids).items()}
    finally:
        db.close()


def due_sites(db_path: str | Path, sites: list[Site], now: datetime | None = None) -> list[Site]:
    """Return the sites whose schedule makes them due at ``now``."""
    now = now or datetime.now(UTC)
    starts = last_starts(db_path, [s.id for s in sites])
    return [s for s in sites if next_due(s.schedule, starts.get(s.id), now) <= now]


def schedule_table(db_path: str | Path, sites: list[Site], now: datetime | None = None) -> str:
    """Return what ``dangjian schedule`` prints at start: each site, its schedule, next run."""
    now = now or datetime.now(UTC)
    starts = last_starts(db_path, [s.id for s in sites])
    lines = []
    for site in sites:
        when = next_due(site.schedule, starts.get(site.id), now)
        lines.append(
            f"{site.id:<22} every {site.schedule or DEFAULT_SCHEDULE:<14} next "
            f"{'now' if when <= now else when.strftime('%Y-%m-%d %H:%M UTC')}"
        )
    return "\n".join(lines)


def _parse_utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class SiteTrigger(BaseTrigger):
    """An APScheduler trigger that reads a site's last start from the database each time."""

    def __init__(self, site: Site, db_path: str) -> None:
        self.site = site
        self.db_path = db_path
        parse_schedule(site.schedule)  # fail at start-up, not at the first fire time

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        last = last_starts(self.db_path, [self.site.id]).get(self.site.id)
        # The just-fired time counts too: its run may not have written its row yet.
        candidates = [t for t in (last, previous_fire_time) if t is not None]
        return next_due(self.site.schedule, max(candidates) if candidates else None, now)

    def __str__(self) -> str:
        return f"site[{self.site.id} every {self.site.schedule or DEFAULT_SCHEDULE}]"


class Scheduler:
    """Run ``dangjian crawl SITE`` for each site whenever it is due, until stopped.

    Args:
        sites: the sites to keep crawled.
        db_path: the database (history and target).
        crawl_args: extra ``dangjian crawl`` arguments (``--sites``, ``-s NAME=VALUE`` ...).
        workers: most crawls running at once.
    """

    def __init__(
        self, sites: list[Site], db_path: str, crawl_args: list[str], workers: int = 4
    ) -> None:
        self.sites = sites
        self.db_path = db_path
        self.crawl_args = crawl_args
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.lock = threading.Lock()
        self.scheduler = BlockingScheduler(
            executors={"default": ThreadPoolExecutor(max(workers, 1))},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        for site in sites:
            self.scheduler.add_job(
                self.crawl,
                SiteTrigger(site, db_path),
                args=[site.id],
                id=site.id,
                name=f"crawl {site.id}",
            )

    def crawl(self, site_id: str) -> int:
        """Crawl one site in a child process and wait for it; return its exit code."""
        cmd = [
            sys.executable,
            "-m",
            "dangjian",
            "crawl",
            site_id,
            "--db",
            self.db_path,
            "--no-progress",
            *self.crawl_args,
        ]
        logger.info("starting crawl of %s", site_id)
        with self.lock:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
            self.running[site_id] = proc
        code = proc.wait()
        with self.lock:
            self.running.pop(site_id, None)
        log = logger.info if code == 0 else logger.warning
        log("crawl of %s ended with exit code %d", site_id, code)
        return code

    def next_runs(self) -> list[tuple[str, Any]]:
        """Return each job's id and next run time (for the start-up log)."""
        return [(job.id, job.next_run_time) for job in self.scheduler.get_jobs()]

    def stop(self, *_: Any) -> None:
        """Stop scheduling and ask running crawls to finish (SIGINT: they record 'partial')."""
        with self.lock:
            for proc in self.running.values():
                proc.send_signal(signal.SIGINT)
        self.scheduler.shutdown(wait=False)

    def run(self) -> None:
        """Block, crawling due sites, until SIGTERM or SIGINT."""
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        logger.info("scheduling %d site(s) into %s", len(self.sites), self.db_path)
        try:
            self.scheduler.start()
        finally:
            with self.lock:
                procs = list(self.running.values())
            for proc in procs:
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
