"""Bad input over a real crawl (issue 12, item 2): one crawl, one assertion per case.

The hostile sample site (``sample_sites/hostile.py``) links every case from its list column,
next to ordinary articles; two ordinary sample sites are crawled in the same run. Each case
must leave exactly one ``failures`` row with a clear reason, or, where the page decodes fine
after all (a wrong charset, UTF-16 with a BOM, a GBK footer in a UTF-8 page), the article
stored; everything else is stored as in a clean crawl, and the crawl's memory stays bounded.

Limits lowered for the test (the defaults are in crawler/settings.py and docs/settings.md):
``DOWNLOAD_TIMEOUT=3`` (slow-loris gives up after 3 attempts of 3 s), a 0.2 s retry backoff
and ``DANGJIAN_MAX_LIST_PAGES=12``. ``DOWNLOAD_MAXSIZE`` keeps its default of 16 MiB.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from sample_sites import registry_entries, start_sample_sites
from sample_sites.hostile import (
    CALENDAR_START,
    CASES,
    FEEDS,
    HOSTILE_ID,
    TRAP_START,
    TRICKLE_SECONDS,
    articles,
)
from sample_sites.hostile import start_hostile_site as serve_hostile

from .conftest import dangjian

SIZE = 10
ORDINARY = ("wuhan-tzb", "old-district")
LIST_CAP = 12
TIMEOUT = 3.0
RETRY_TIMES = 2
PEAK_RSS_MB = 350  # a clean crawl of these sites peaks near 200 MB; the bomb alone is 256 MiB

# case -> (stage, reason pattern) of its one failures row.
FAILING = {
    "empty": ("extract", r"^decode: empty body"),
    "binary": ("extract", r"^decode: binary body .*not an HTML page"),
    "random-bytes": ("extract", r"^decode: binary body .*not an HTML page"),
    "huge": ("fetch", r"^ResponseTooLarge: body over DOWNLOAD_MAXSIZE \(16777216 B\)"),
    "gzip-bomb": ("fetch", r"^ResponseTooLarge: .* once decompressed .*compression bomb"),
    "redirect-loop": ("fetch", r"^RedirectLoop: redirect loop: .*redirect-loop\.html → "),
    "redirect-other-site": ("fetch", r"^RedirectRefused: redirect from .* to http://127\.0\.0\.12"),
    "redirect-unlisted": ("fetch", r"^RedirectRefused: redirect from .* to http://127\.0\.0\.41"),
    "slow-loris": ("fetch", r"^DownloadTimeoutError: .* took longer than 3\.0 seconds"),
    "reset-mid-body": ("fetch", r"^ResponseCutShort: the connection closed before the end"),
    "5xx-storm": ("http", r"^HTTP 503$"),
}
TRAPS = {"trap": TRAP_START, "calendar": CALENDAR_START}


@dataclass
class Crawl:
    db: Path
    output: str
    returncode: int
    seconds: float
    peak_rss_mb: float
    hostile: object
    sites: object

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        conn = sqlite3.connect(self.db)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def url(self, path: str) -> str:
        return self.hostile.base_url + path

    def failures_of(self, *paths: str) -> list[tuple[str, int | None, str]]:
        urls = [self.url(p) for p in paths]
        marks = ", ".join("?" * len(urls))
        return self.query(
            f"select stage, http_status, reason from failures where url in ({marks})", tuple(urls)
        )

    def article(self, path: str) -> dict | None:
        conn = sqlite3.connect(self.db)
        conn.row_factory = sqlite3.Row
        try:
            row = conn.execute("select * from articles where url = ?", [self.url(path)]).fetchone()
            return dict(row) if row else None
        finally:
            conn.close()

    def requests(self, path: str) -> int:
        return sum(1 for p, _status in self.hostile.requests() if p == path)


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM) so far, in MB; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("bad-input")
    sites = start_sample_sites(port=0, size=SIZE)
    other = sites.sites["wuhan-tzb"].expected_articles()[0].path
    hostile = serve_hostile(other_url=sites.addresses["wuhan-tzb"] + other)
    entries = [e for e in registry_entries(sites.addresses, SIZE) if e["id"] in ORDINARY]
    registry = tmp / "sites.yml"
    registry.write_text(
        yaml.safe_dump({"sites": [*entries, hostile.registry_entry()]}, allow_unicode=True),
        encoding="utf-8",
    )
    db, log = tmp / "news.db", tmp / "crawl.log"
    command = dangjian(
        "crawl", "--sample", "--sites", str(registry), "--db", str(db), "--no-progress",
        "-s", f"DOWNLOAD_TIMEOUT={TIMEOUT}",
        "-s", "DANGJIAN_RETRY_BACKOFF=0.2",
        "-s", f"DANGJIAN_MAX_LIST_PAGES={LIST_CAP}",
    )  # fmt: skip
    started, peak = time.monotonic(), 0.0
    try:
        with log.open("w") as out:
            proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
            try:
                while proc.poll() is None and time.monotonic() - started < 120:
                    peak = max(peak, _peak_rss_mb(proc.pid))
                    time.sleep(0.05)
                if proc.poll() is None:
                    proc.kill()
                proc.wait(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
        yield Crawl(
            db,
            log.read_text(encoding="utf-8", errors="replace"),
            proc.returncode,
            time.monotonic() - started,
            peak,
            hostile,
            sites,
        )
    finally:
        hostile.stop()
        sites.stop()


def test_the_crawl_goes_on_to_the_end(crawl):
    assert crawl.returncode == 0, crawl.output[-3000:]
    assert "Traceback" not in crawl.output, crawl.output
    statuses = dict(crawl.query("select site_id, status from crawl_runs"))
    assert statuses == {"wuhan-tzb": "ok", "old-district": "partial", HOSTILE_ID: "partial"}
    # About 15 s on an idle machine: the slow-loris page's 3 attempts of 3 s are most of it.
    assert crawl.seconds < 90, f"the bad-input crawl took {crawl.seconds:.0f} s"


def test_memory_stays_bounded(crawl):
    """A 50 MB page and a 256 MiB gzip bomb are cut at DOWNLOAD_MAXSIZE (16 MiB)."""
    assert 0 < crawl.peak_rss_mb < PEAK_RSS_MB, f"peak RSS {crawl.peak_rss_mb:.0f} MB"


@pytest.mark.parametrize("case", sorted(FAILING))
def test_case_leaves_exactly_one_failure(crawl, case):
    stage, pattern = FAILING[case]
    paths = [CASES[case]] + (["/a/redirect-loop-2.html"] if case == "redirect-loop" else [])
    rows = crawl.failures_of(*paths)
    assert len(rows) == 1, rows
    ((got_stage, _status, reason),) = rows
    assert got_stage == stage, reason
    assert re.search(pattern, reason), reason
    assert crawl.article(CASES[case]) is None


def test_a_5xx_storm_is_retried_then_recorded_with_its_status(crawl):
    assert crawl.requests(CASES["5xx-storm"]) == RETRY_TIMES + 1
    assert crawl.failures_of(CASES["5xx-storm"])[0][1] == 503


def test_a_slow_loris_is_cut_at_the_download_timeout(crawl):
    # Three attempts of DOWNLOAD_TIMEOUT each, then the crawl moved on; uncut, the server
    # would trickle for a minute per attempt.
    assert crawl.requests(CASES["slow-loris"]) == RETRY_TIMES + 1
    assert crawl.seconds < (RETRY_TIMES + 1) * TRICKLE_SECONDS


def test_a_reset_mid_body_is_retried_then_recorded(crawl):
    assert crawl.requests(CASES["reset-mid-body"]) == RETRY_TIMES + 1


def test_redirects_off_the_site_are_never_followed(crawl):
    # The unlisted loopback address got nothing, not even a robots.txt request.
    assert crawl.hostile.canary_requests() == []
    # The other registry site's article was stored once, by that site's own crawl.
    target = crawl.sites.sites["wuhan-tzb"].expected_articles()[0].path
    rows = crawl.query(
        "select site_id from articles where url = ?", (crawl.sites.addresses["wuhan-tzb"] + target,)
    )
    assert rows == [("wuhan-tzb",)]


@pytest.mark.parametrize("trap", sorted(TRAPS))
def test_a_trap_column_stops_at_the_list_page_cap(crawl, trap):
    folder = TRAPS[trap].rsplit("/", 1)[0] + "/"
    rows = crawl.query(
        "select stage, reason from failures where url like ?", (crawl.url(folder) + "%",)
    )
    assert len(rows) == 1, rows
    assert rows[0][0] == "fetch"
    assert rows[0][1].startswith(f"ListPageCapReached: column {crawl.url(folder)} of {HOSTILE_ID}")
    fetched = crawl.query("select count(*) from pages where url like ?", (crawl.url(folder) + "%",))
    assert fetched[0][0] <= LIST_CAP


@pytest.mark.parametrize(
    "case", ["charset-gbk-is-utf8", "charset-utf8-is-gbk", "utf16-bom", "5xx-recovers"]
)
def test_case_that_decodes_is_stored_whole(crawl, case):
    expected = articles()[CASES[case]]
    article = crawl.article(CASES[case])
    assert article is not None, crawl.failures_of(CASES[case])
    assert article["title"] == expected.title
    assert expected.paragraphs[0] in article["text"]
    assert expected.paragraphs[-1] in article["text"]
    assert "\ufffd" not in article["text"]
    assert crawl.failures_of(CASES[case]) == []


def test_mixed_encodings_store_the_article_flagged_lossy(crawl):
    """A UTF-8 page with its footer include still in GBK: the text is whole, the decode lossy."""
    expected = articles()[CASES["mixed-encodings"]]
    article = crawl.article(CASES["mixed-encodings"])
    assert article is not None, crawl.failures_of(CASES["mixed-encodings"])
    assert article["title"] == expected.title
    assert all(p in article["text"] for p in expected.paragraphs)
    assert "lossy-decode" in json.loads(article["flags"] or "[]")
    assert crawl.failures_of(CASES["mixed-encodings"]) == []


def test_truncated_html_stores_what_was_sent(crawl):
    """A complete answer whose HTML stops mid-body: the article up to the cut is stored."""
    expected = articles()[CASES["truncated"]]
    article = crawl.article(CASES["truncated"])
    assert article is not None, crawl.failures_of(CASES["truncated"])
    assert article["title"] == expected.title
    assert expected.paragraphs[0] in article["text"]
    assert expected.paragraphs[-1] not in article["text"]


def test_a_robots_txt_that_is_html_allows_everything(crawl):
    assert crawl.requests("/robots.txt") == 1
    assert crawl.failures_of("/robots.txt") == []
    stored = {
        u for (u,) in crawl.query("select url from articles where site_id = ?", (HOSTILE_ID,))
    }
    ordinary = {crawl.url(p) for p in articles() if p.startswith("/a/news-")}
    assert ordinary <= stored


def test_malformed_feed_and_sitemap_are_list_pages_without_links(crawl):
    """The crawler reads column pages, not feeds: as start URLs they are stored as list pages
    (raw bytes kept) that give no article link; linked from every page they are not followed."""
    for path in FEEDS:
        assert crawl.query("select outcome from pages where url = ?", (crawl.url(path),)) == [
            ("list",)
        ]
        assert crawl.failures_of(path) == []
        assert crawl.requests(path) == 1


def test_every_other_article_is_stored_once(crawl):
    for site_id in ORDINARY:
        site = crawl.sites.sites[site_id]
        base = crawl.sites.addresses[site_id]
        stored = {
            u for (u,) in crawl.query("select url from articles where site_id = ?", (site_id,))
        }
        assert stored == {base + a.path for a in site.expected_articles()}, site_id
        failed = {
            u for (u,) in crawl.query("select url from failures where site_id = ?", (site_id,))
        }
        assert failed == {base + path for path, _kind in site.expected_failures()}, site_id
    stored = {
        u for (u,) in crawl.query("select url from articles where site_id = ?", (HOSTILE_ID,))
    }
    assert stored == {crawl.url(p) for p in articles()}
    assert crawl.query("select count(*) from articles")[0][0] == len(
        {u for (u,) in crawl.query("select url from articles")}
    )
    # One failures row per failing case and trap, nothing else.
    hostile_failures = crawl.query("select count(*) from failures where site_id = ?", (HOSTILE_ID,))
    assert hostile_failures[0][0] == len(FAILING) + len(TRAPS)
