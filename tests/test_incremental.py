"""Incremental crawling: known articles are not fetched again, revisits are conditional.

The first two tests reuse the session crawl (``crawled``) of the sample sites, which send
ETag / Last-Modified like the nginx in front of a static-publishing CMS.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import urllib.request
from pathlib import Path

import yaml

from pipeline.dedupe import canonical_url
from sample_sites import registry_entries, start_sample_sites

from .conftest import dangjian, run_crawl

REVISIT_ALL = ("-s", "DANGJIAN_REVISIT_AFTER=0", "-s", "DANGJIAN_REVISIT_DAYS=100000")


def copy_db(src: Path, dst: Path) -> Path:
    source, target = sqlite3.connect(src), sqlite3.connect(dst)
    source.backup(target)
    source.close()
    target.close()
    return dst


def server_log(addresses: dict[str, str], reset: bool = False) -> list[tuple[str, int, bool]]:
    """Every request the sample sites saw: (url, status, conditional)."""
    seen = []
    for base in addresses.values():
        with urllib.request.urlopen(f"{base}/__stats__.json{'?reset=1' if reset else ''}") as r:
            stats = json.load(r)
        seen += [(base + e["path"], e["status"], e["conditional"]) for e in stats["log"]]
    return seen


def stored_article_urls(db: Path) -> set[str]:
    """The request URLs of the pages the stored articles came from."""
    conn = sqlite3.connect(db)
    return {
        r[0] for r in conn.execute("select p.url from articles a join pages p on p.id = a.page_id")
    }


def test_second_crawl_fetches_list_pages_only(crawled, sample_sites, tmp_path):
    db = copy_db(crawled.db, tmp_path / "news.db")
    known = stored_article_urls(db)
    server_log(sample_sites.addresses, reset=True)
    result = run_crawl(sample_sites.registry, db)
    requests = server_log(sample_sites.addresses)
    fetched = {url for url, _status, _cond in requests}
    assert requests and not fetched & known, result.output
    conn = sqlite3.connect(db)
    run_id = conn.execute("select max(run_id) from crawl_runs").fetchone()[0]
    kinds = {
        k
        for (k,) in conn.execute(
            "select distinct kind from pages where run_id = ? and outcome != 'failure'", [run_id]
        )
    }
    assert kinds == {"list"}
    assert (
        conn.execute(
            "select sum(articles_new) from crawl_runs where run_id = ?", [run_id]
        ).fetchone()[0]
        == 0
    )
    # Paging stopped at the first page of each column: only the start URLs were listed.
    registry = yaml.safe_load(sample_sites.registry.read_text(encoding="utf-8"))
    starts = {u for site in registry["sites"] for u in site["start_urls"]}
    lists = {
        u
        for (u,) in conn.execute(
            "select url from pages where run_id = ? and kind = 'list'", [run_id]
        )
    }
    assert lists == starts


def test_revisits_are_conditional_and_get_304(crawled, sample_sites, tmp_path):
    db = copy_db(crawled.db, tmp_path / "news.db")
    known = {u for (u,) in sqlite3.connect(db).execute("select url from articles")}
    server_log(sample_sites.addresses, reset=True)
    result = run_crawl(sample_sites.registry, db, *REVISIT_ALL)
    revisited = [
        (canonical_url(u), s, cond)
        for u, s, cond in server_log(sample_sites.addresses)
        if canonical_url(u) in known
    ]
    assert {u for u, _, _ in revisited} == known, result.output
    assert {(s, cond) for _, s, cond in revisited} == {(304, True)}
    conn = sqlite3.connect(db)
    run_id = conn.execute("select max(run_id) from crawl_runs").fetchone()[0]
    assert conn.execute(
        "select sum(not_modified) from crawl_runs where run_id = ?", [run_id]
    ).fetchone()[0] == len(known)
    assert (
        conn.execute(
            "select count(*) from pages where run_id = ? and kind = 'article' "
            "and outcome != 'failure'",
            [run_id],
        ).fetchone()[0]
        == 0
    )
    # A 304 counts as seeing the article: last_seen moved on.
    assert conn.execute("select count(*) from articles where run_id = ?", [run_id]).fetchone()[
        0
    ] == len(known)


def test_revisit_catches_edits_and_takedowns(tmp_path):
    handle = start_sample_sites(port=0, size=10)
    try:
        registry = tmp_path / "sites.yml"
        entries = [e for e in registry_entries(handle.addresses, 10) if e["id"] == "wuhan-tzb"]
        registry.write_text(yaml.safe_dump({"sites": entries}, allow_unicode=True))
        db = tmp_path / "news.db"
        crawl = dangjian(
            "crawl", "wuhan-tzb", "--sites", str(registry), "--db", str(db), "--no-progress"
        )
        subprocess.run(crawl, capture_output=True, timeout=120, check=True)
        conn = sqlite3.connect(db)
        base = handle.addresses["wuhan-tzb"]
        paths = sorted(
            u[len(base) :]
            for (u,) in conn.execute(
                "select p.url from articles a join pages p on p.id = a.page_id "
                "where a.duplicate_of is null"
            )
        )
        behaviour = handle.behaviours["wuhan-tzb"]
        behaviour.changed = set(paths[:2])
        behaviour.removed = {paths[2]}
        out = subprocess.run([*crawl, *REVISIT_ALL], capture_output=True, text=True, timeout=120)
        row = conn.execute(
            "select articles_updated, not_modified from crawl_runs "
            "order by started_at desc, rowid desc limit 1"
        ).fetchone()
        assert row[0] == 2, out.stdout + out.stderr
        assert row[1] >= len(paths) - 3
        revised = conn.execute(
            "select count(*) from article_revisions where revision = 2"
        ).fetchone()[0]
        assert revised == 2
        gone = conn.execute("select url from articles where taken_down_at is not null").fetchall()
        assert len(gone) == 1 and gone[0][0].endswith(paths[2].rsplit("/", 1)[-1])
    finally:
        handle.stop()
