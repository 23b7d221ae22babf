"""Schedules: when a site is due, `crawl --due`, per-site locks and the scheduler process."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from crawler.registry import parse_site
from ops.jobs import SiteLocks, jobs_dir
from ops.schedule import due_sites, next_due, parse_schedule
from pipeline.errors import SiteConfigError
from pipeline.store import Store

from .conftest import dangjian

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "schedule,last,expected",
    [
        ("6h", NOW - timedelta(hours=5), NOW + timedelta(hours=1)),
        ("6h", NOW - timedelta(hours=7), NOW - timedelta(hours=1)),  # overdue: due now, once
        ("1d", None, NOW),  # never crawled
        (None, NOW - timedelta(hours=1), NOW + timedelta(hours=23)),  # default daily
        ("30m", NOW - timedelta(minutes=10), NOW + timedelta(minutes=20)),
        # Cron in China time: 07:00 CST is 23:00 UTC the day before.
        (
            "0 7 * * *",
            datetime(2026, 11, 22, 23, 0, tzinfo=UTC),
            datetime(2026, 11, 23, 23, 0, tzinfo=UTC),
        ),
        (
            "0 */4 * * *",
            datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
            datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
        ),
    ],
)
def test_next_due(schedule, last, expected):
    assert next_due(schedule, last, NOW) == expected


def test_bad_schedule_is_a_config_error():
    with pytest.raises(SiteConfigError, match="neither an interval"):
        parse_schedule("every tuesday")


def sample_registry(sample_sites, tmp_path, ids, schedule="1d"):
    registry = yaml.safe_load(sample_sites.registry.read_text(encoding="utf-8"))
    sites = [dict(s, schedule=schedule) for s in registry["sites"] if s["id"] in ids]
    path = tmp_path / "sites.yml"
    path.write_text(yaml.safe_dump({"sites": sites}, allow_unicode=True), encoding="utf-8")
    return path, [parse_site(s) for s in sites]


def record_run(db, site_id, started):
    store = Store(db)
    store.save_sites([{"id": site_id, "name": site_id, "start_urls": ["http://x/"]}])
    run_id = started.strftime("%Y%m%dT%H%M%SZ-0000")
    store.start_run(run_id, [site_id])
    store.update_run(run_id, site_id, started_at=started.strftime("%Y-%m-%dT%H:%M:%SZ"))
    store.finish_run(run_id, site_id, {"pages": 1, "articles_new": 1}, "ok")
    store.close()


def runs_per_site(db):
    conn = sqlite3.connect(db)
    return dict(conn.execute("select site_id, count(*) from crawl_runs group by site_id"))


def test_crawl_due_runs_only_due_sites(sample_sites, tmp_path):
    registry, sites = sample_registry(sample_sites, tmp_path, {"wuchang-museum", "wuhan-tzb"})
    db = tmp_path / "news.db"
    record_run(db, "wuchang-museum", datetime.now(UTC) - timedelta(hours=2))
    assert [s.id for s in due_sites(db, sites)] == ["wuhan-tzb"]
    out = subprocess.run(
        dangjian(
            "crawl", "--sample", "--due", "--sites", str(registry), "--db", str(db), "--no-progress"
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert runs_per_site(db) == {"wuchang-museum": 1, "wuhan-tzb": 1}
    # Now nothing is due.
    out = subprocess.run(
        dangjian("crawl", "--sample", "--due", "--sites", str(registry), "--db", str(db)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "nothing to crawl" in out.stdout


def test_a_site_being_crawled_is_not_crawled_again(sample_sites, tmp_path):
    registry, _ = sample_registry(sample_sites, tmp_path, {"wuchang-museum"})
    db = tmp_path / "news.db"
    with SiteLocks(jobs_dir(db)) as locks:
        assert locks.acquire(["wuchang-museum"]) == []
        out = subprocess.run(
            dangjian("crawl", "wuchang-museum", "--sites", str(registry), "--db", str(db)),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert "nothing to crawl" in out.stdout, out.stderr
    assert not db.exists() or runs_per_site(db) == {}


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def finished(db, site_id):
    if not db.exists():
        return False
    try:
        return bool(
            sqlite3.connect(db, timeout=1)
            .execute(
                "select count(*) from crawl_runs where site_id = ? and finished_at is not null",
                [site_id],
            )
            .fetchone()[0]
        )
    except sqlite3.OperationalError:
        return False


def test_scheduler_survives_restart_without_repeating_runs(sample_sites, tmp_path):
    registry, _ = sample_registry(sample_sites, tmp_path, {"wuchang-museum", "gzdaily-dangjian"})
    db = tmp_path / "news.db"
    record_run(db, "wuchang-museum", datetime.now(UTC) - timedelta(hours=1))  # not due
    cmd = dangjian(
        "schedule", "--sites", str(registry), "--db", str(db), "wuchang-museum", "gzdaily-dangjian"
    )
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(lambda: finished(db, "gzdaily-dangjian")), "the due site never ran"
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0]
    assert "gzdaily-dangjian" in output and "next now" in output
    assert runs_per_site(db) == {"wuchang-museum": 1, "gzdaily-dangjian": 1}
    # Restarted: the history says nothing is due, so nothing runs again.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(4)
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0]
    assert "next now" not in output
    assert runs_per_site(db) == {"wuchang-museum": 1, "gzdaily-dangjian": 1}
