"""A crawl killed with SIGKILL and started again carries on the same run (ops/jobs.py).

Once at a fixed point on the session's sample sites, and ten times in a row at seeded random
points on small sites (issue 12, item 3): the end result must be the uninterrupted crawl's.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from sample_sites import registry_entries, start_sample_sites

from .conftest import dangjian, run_crawl
from .test_faults import assert_whole, count
from .test_incremental import server_log

SMALL = 10  # articles per site for the ten kills
# Five sites, one republishing the others (duplicates too): about 50 articles, so that the
# eleven crawl processes (each starting in about 2 s) take well under a minute on an idle machine.
SITES = ("wuchang-museum", "wuhan-tzb", "xuzhou-jgdj", "old-district", "mirror-hant")
KILLS = 10
SEED = 20261130


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


@pytest.fixture(scope="module")
def small_sites(tmp_path_factory: pytest.TempPathFactory):
    """The sample sites with SMALL articles, served in this process, and a registry of SITES."""
    handle = start_sample_sites(port=0, size=SMALL)
    registry = tmp_path_factory.mktemp("small-sites") / "sites.yml"
    registry.write_text(
        yaml.safe_dump(
            {"sites": [e for e in registry_entries(handle.addresses, SMALL) if e["id"] in SITES]},
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    try:
        yield registry
    finally:
        handle.stop()


def crawl_command(registry: Path, db: Path) -> list[str]:
    return dangjian("crawl", "--sample", "--sites", str(registry), "--db", str(db), "--no-progress")


def test_ten_sigkills_at_random_points_resume_to_the_uninterrupted_result(small_sites, tmp_path):
    reference = run_crawl(small_sites, tmp_path / "reference.db", timeout=120)
    assert reference.returncode == 0, reference.output[-3000:]
    ref = sqlite3.connect(reference.db)
    expected = {u for (u,) in ref.execute("select url from articles")}
    article_pages = ref.execute("select count(*) from pages where kind = 'article'").fetchone()[0]

    # Kill points: article pages stored so far, then a random few milliseconds more, so that
    # a kill lands anywhere: before, inside or after a page's transaction, or during start-up.
    rng = random.Random(SEED)
    points = sorted(rng.sample(range(1, article_pages - 5), KILLS))
    db, kills, deadline = tmp_path / "news.db", [], time.monotonic() + 240
    for point in points:
        proc = subprocess.Popen(
            crawl_command(small_sites, db), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                if count(db, "select count(*) from pages where kind = 'article'") >= point:
                    break
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.1))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills.append(point)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert_whole(db)
    assert len(kills) == KILLS, f"killed at {kills} only: the crawl finished before the others"

    result = run_crawl(small_sites, db, timeout=120)
    assert result.returncode == 0, result.output[-3000:]
    assert_whole(db)
    conn = sqlite3.connect(db)
    # One run, finished, holding every article of the uninterrupted crawl, each once.
    assert conn.execute("select count(distinct run_id) from crawl_runs").fetchone()[0] == 1
    assert "running" not in {s for (s,) in conn.execute("select status from crawl_runs")}
    assert {u for (u,) in conn.execute("select url from articles")} == expected
    assert (
        conn.execute(
            "select count(*) from (select url from pages group by url, run_id having count(*) > 1)"
        ).fetchone()[0]
        == 0
    )
    totals = "select sum(articles_new + duplicates), sum(failures) from crawl_runs"
    assert conn.execute(totals).fetchone() == ref.execute(totals).fetchone()
