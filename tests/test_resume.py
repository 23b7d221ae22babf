"""A crawl killed with SIGKILL and started again carries on the same run (ops/jobs.py)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time

from .conftest import dangjian, run_crawl
from .test_incremental import server_log


def test_sigkilled_crawl_resumes_without_loss_or_duplicates(crawled, sample_sites, tmp_path):
    db = tmp_path / "news.db"
    proc = subprocess.Popen(
        dangjian(
            "crawl",
            "--sample",
            "--sites",
            str(sample_sites.registry),
            "--db",
            str(db),
            "--no-progress",
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline, pages = time.monotonic() + 120, 0
        while time.monotonic() < deadline and pages < 60:
            time.sleep(0.05)
            try:
                pages = (
                    sqlite3.connect(db, timeout=1)
                    .execute("select count(*) from pages")
                    .fetchone()[0]
                )
            except sqlite3.OperationalError:
                pages = 0
        assert proc.poll() is None, "the crawl finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    conn = sqlite3.connect(db)
    assert {s for (s,) in conn.execute("select status from crawl_runs")} == {"running"}
    before = {u for (u,) in conn.execute("select url from pages where kind = 'article'")}
    server_log(sample_sites.addresses, reset=True)

    result = run_crawl(sample_sites.registry, db)
    assert result.returncode == 0, result.output
    refetched = {u for u, _status, _cond in server_log(sample_sites.addresses)}
    assert not before & refetched, "articles stored before the kill were fetched again"
    # One run, finished, with every article a full crawl finds, each stored once.
    assert conn.execute("select count(distinct run_id) from crawl_runs").fetchone()[0] == 1
    assert "running" not in {s for (s,) in conn.execute("select status from crawl_runs")}
    reference = {u for (u,) in sqlite3.connect(crawled.db).execute("select url from articles")}
    assert {u for (u,) in conn.execute("select url from articles")} == reference
    assert (
        conn.execute(
            "select count(*) from (select url from pages group by url, run_id having count(*) > 1)"
        ).fetchone()[0]
        == 0
    )
    full = (
        sqlite3.connect(crawled.db)
        .execute("select sum(articles_new + duplicates) from crawl_runs")
        .fetchone()[0]
    )
    assert (
        conn.execute("select sum(articles_new + duplicates) from crawl_runs").fetchone()[0] == full
    )
