"""`scrapy list` and `scrapy crawl` keep working inside crawler/ (Scrapyd runs them the same way)."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

CRAWLER = Path(__file__).resolve().parents[1] / "crawler"
SCRAPY = [sys.executable, "-m", "scrapy.cmdline"]


def test_scrapy_list_inside_crawler():
    result = subprocess.run(
        [*SCRAPY, "list"], cwd=CRAWLER, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["news"]


@pytest.mark.e2e
def test_scrapy_crawl_one_site_inside_crawler(sample_sites, tmp_path):
    db = tmp_path / "scrapy.db"
    result = subprocess.run(
        [
            *SCRAPY,
            "crawl",
            "news",
            "-a",
            "sites=wuhan-tzb",
            "-s",
            f"DANGJIAN_DB={db}",
            "-s",
            f"DANGJIAN_SITES={sample_sites.registry}",
            "-s",
            "DANGJIAN_PROGRESS=off",
        ],
        cwd=CRAWLER,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    conn = sqlite3.connect(db)
    sites = {r[0] for r in conn.execute("select distinct site_id from articles")}
    assert sites == {"wuhan-tzb"}
    assert conn.execute("select count(*) from articles").fetchone()[0] == 30
