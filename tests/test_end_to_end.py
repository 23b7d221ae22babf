"""A real Scrapy crawl over HTTP of every sample site, then Datasette on the result."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
import urllib.request

import pytest

from crawler.registry import load_registry
from pipeline.dedupe import canonical_url
from sample_sites import build_sites
from sample_sites.catalog import PDF

from .conftest import SIZE, dangjian, stop

pytestmark = pytest.mark.e2e

# What the seeds' README says must never stay in a cleaned body: breadcrumbs, banners,
# footers, copyright, keyword and recommended lines (in either script).
SEED_BOILERPLATE = [
    "您当前位置",
    "首页 >",
    "关于革博",
    "联系我们",
    "ICP备",
    "技术支持",
    "APP下载",
    "关键词",
    "猜你喜欢",
    "为你推荐",
    "為你推薦",
    "公益播报",
    "热点推荐",
    "即时新闻",
    "版权声明",
    "版權聲明",
    "编辑:张成付",
    "校对",
    "发布时间",
    "来源:",
]


@pytest.fixture(scope="module")
def db(crawled):
    conn = sqlite3.connect(crawled.db)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def expected():
    return build_sites(SIZE)


def article_url(sample_sites, site_id, path):
    return sample_sites.addresses[site_id] + path


def test_crawl_reports_every_site(crawled, sample_sites):
    for site_id in sample_sites.addresses:
        assert site_id in crawled.output, crawled.output


def attachment_only_notices(site) -> set[str]:
    """Paths of the site's notices that are only a link to a PDF (xuzhou-jgdj has one)."""
    return {e.path for e in site.catalog.entries if e.kind == PDF}


def test_every_expected_article_is_stored_once_per_site(db, expected, sample_sites):
    for site_id, site in expected.items():
        # An attachment-only notice is an article too (issue 15): its body is its PDF's text.
        want = {
            canonical_url(article_url(sample_sites, site_id, path))
            for path in [a.path for a in site.expected_articles()]
            + sorted(attachment_only_notices(site))
        }
        got = {
            r["url"] for r in db.execute("select url from articles where site_id = ?", [site_id])
        }
        assert not want - got, f"{site_id}: missing {sorted(want - got)[:5]}"
        assert not got - want, f"{site_id}: unexpected {sorted(got - want)[:5]}"


def test_seed_articles_stored_with_titles_and_no_boilerplate(db, expected, sample_sites):
    seeds = [a for site in expected.values() for a in site.expected_articles() if a.seed]
    assert {a.seed[:3] for a in seeds} >= {"000", "001", "002", "003", "004"}
    for a in seeds:
        row = db.execute(
            "select title, text from articles where url = ?",
            [canonical_url(article_url(sample_sites, a.site_id, a.path))],
        ).fetchone()
        assert row is not None, f"seed {a.seed} on {a.site_id} not stored"
        assert row["title"] == a.title_simplified
        leaks = [b for b in SEED_BOILERPLATE if b in row["text"]]
        assert not leaks, f"seed {a.seed} on {a.site_id} keeps {leaks}"


def test_an_attachment_only_notice_is_an_article_with_its_pdfs_text(db, expected, sample_sites):
    (path,) = attachment_only_notices(expected["xuzhou-jgdj"])
    url = canonical_url(article_url(sample_sites, "xuzhou-jgdj", path))
    row = db.execute("select id, title, text, flags from articles where url = ?", [url]).fetchone()
    assert row["title"] == "关于印发《2023年市级机关党建工作要点》的通知"
    assert json.loads(row["flags"]) == ["attachment-only"]
    assert row["text"] == "Xuzhou 2023 party-building work points"  # the PDF's only line
    file = db.execute("select article_id, format, text_status from attachments").fetchone()
    assert tuple(file) == (row["id"], "pdf", "ok")


def test_failures_are_recorded_with_reasons(db, expected, sample_sites):
    failures = list(db.execute("select url, stage, reason, http_status from failures"))
    by_url = {f["url"]: f for f in failures}
    for site_id, site in expected.items():
        for path, kind in site.expected_failures():
            url = article_url(sample_sites, site_id, path)
            assert url in by_url, f"{kind} {url} not recorded; failures: {list(by_url)[:10]}"
            f = by_url[url]
            if kind == "dead-link":
                assert f["stage"] == "http" and f["http_status"] == 404
            else:
                assert f["stage"] == "extract" and f["reason"]


def test_crawl_stays_on_allowed_hosts_and_obeys_robots(db, expected, sample_sites):
    sites = {s.id: s for s in load_registry(sample_sites.registry)}
    for row in db.execute("select url, final_url, site_id from pages"):
        site = sites[row["site_id"]]
        assert site.allows(row["url"]) and site.allows(row["final_url"]), row["url"]
    fetched = {r["url"] for r in db.execute("select url from pages")}
    disallowed = [
        article_url(sample_sites, sid, p)
        for sid, s in expected.items()
        for p in s.disallowed_paths()
    ]
    assert disallowed, "the sample sites must disallow something in robots.txt"
    assert not fetched & set(disallowed)


def test_crawl_runs_have_counts(db, sample_sites):
    rows = list(db.execute("select * from crawl_runs"))
    assert {r["site_id"] for r in rows} == set(sample_sites.addresses)
    for r in rows:
        assert r["status"] in ("ok", "partial"), dict(r)
        assert r["pages"] > 0 and r["articles_new"] + r["duplicates"] > 0


def test_raw_pages_are_kept_compressed(db):
    import zlib

    row = db.execute("select body, body_size from pages where outcome = 'new' limit 1").fetchone()
    assert len(zlib.decompress(row["body"])) == row["body_size"]


def test_datasette_answers_json(datasette_url, db):
    total = db.execute("select count(*) from articles").fetchone()[0]
    with urllib.request.urlopen(
        datasette_url + "/news/articles.json?_shape=objects&_size=5&_col=title"
    ) as r:
        data = json.load(r)
    assert data["filtered_table_rows_count"] == total
    assert len(data["rows"]) == 5 and all(row["title"] for row in data["rows"])
    with urllib.request.urlopen(datasette_url + "/news/articles") as r:
        html = r.read().decode("utf-8")
    assert "published_month" in html  # the default facet from metadata.yml


def test_second_crawl_adds_no_articles(crawled, sample_sites, tmp_path):
    from .conftest import run_crawl

    before = sqlite3.connect(crawled.db).execute("select count(*) from articles").fetchone()[0]
    copy = tmp_path / "news.db"
    src = sqlite3.connect(crawled.db)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()
    result = run_crawl(sample_sites.registry, copy)
    conn = sqlite3.connect(copy)
    assert conn.execute("select count(*) from articles").fetchone()[0] == before
    runs = conn.execute("select count(distinct run_id) from crawl_runs").fetchone()[0]
    assert runs == 2, result.output


def interrupt_crawl(sample_sites, db, sig):
    """Start a crawl, wait until it has stored 20 pages, then send ``sig``."""
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
        deadline = time.monotonic() + 120
        pages = 0
        while time.monotonic() < deadline and pages < 20:
            time.sleep(0.1)
            if db.exists():
                try:
                    pages = (
                        sqlite3.connect(db, timeout=1)
                        .execute("select count(*) from pages")
                        .fetchone()[0]
                    )
                except sqlite3.OperationalError:
                    pages = 0
        assert proc.poll() is None, "crawl finished before it could be interrupted"
        proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        stop(proc)


def test_killed_crawl_leaves_a_sound_database(sample_sites, tmp_path):
    db = tmp_path / "killed.db"
    interrupt_crawl(sample_sites, db, signal.SIGKILL)
    conn = sqlite3.connect(db)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert conn.execute("select count(*) from pages").fetchone()[0] >= 20


def test_interrupted_crawl_is_recorded_as_cut_short(sample_sites, tmp_path):
    db = tmp_path / "interrupted.db"
    interrupt_crawl(sample_sites, db, signal.SIGINT)
    conn = sqlite3.connect(db)
    statuses = {r[0] for r in conn.execute("select status from crawl_runs")}
    reasons = {r[0] for r in conn.execute("select reason from crawl_runs")}
    assert statuses <= {"partial", "failed"} and statuses
    assert reasons == {"crawl stopped early: shutdown"}
