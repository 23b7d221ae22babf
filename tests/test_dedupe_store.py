"""URL identity over time: re-crawls add nothing, changes become revisions, 404s takedowns."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import yaml

from pipeline.ingest import ingest_page
from pipeline.store import Store
from pipeline.store.clusters import rebuild_clusters
from tests.conftest import run_crawl

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("articles", "article_revisions", "clusters", "article_minhash", "article_bands")


def counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}


def test_crawling_again_adds_nothing(crawled, sample_sites, tmp_path):
    db = tmp_path / "news.db"
    shutil.copy(crawled.db, db)
    # The session crawl may have stopped short of a few pages; crawl once to catch up, then
    # once more: that second run must add nothing.
    first = run_crawl(sample_sites.registry, db, timeout=120)
    before = counts(db)
    assert before["articles"] == before["article_minhash"] > 0
    # One revision per article, except an attachment-only notice stored before its file
    # arrived: the file's text is its second revision (pipeline.ingest.ingest_attachment).
    assert before["articles"] <= before["article_revisions"] <= before["articles"] + 1
    result = run_crawl(sample_sites.registry, db, timeout=120)
    assert counts(db) == before, first.output + result.output


def test_changed_page_adds_one_revision_and_404_marks_takedown(crawled, tmp_path):
    db = tmp_path / "news.db"
    shutil.copy(crawled.db, db)
    store = Store(db)
    page = next(
        p for p in store.raw_pages("outcome in ('new', 'duplicate') and site_id = ?", ["wuhan-tzb"])
    )
    article = next(
        store.db.query(
            "select * from articles where page_id = (select max(id) from pages where url = ?)",
            [page.url],
        ),
        None,
    ) or next(store.db.query("select * from articles where url like ?", [f"%{page.url[-25:]}"]))
    before = counts(db)
    paragraph = article["text"].splitlines()[-1]
    changed = replace(
        page,
        body=page.body.replace(
            paragraph[:12].encode(), "（本文已更新）".encode() + paragraph[:12].encode(), 1
        ),
        fetched_at="2026-11-24T08:00:00Z",
    )
    assert changed.body != page.body
    assert ingest_page(store, changed).kind == "updated"
    assert ingest_page(store, changed).kind == "unchanged"  # the same change: nothing more
    after = counts(db)
    assert after["articles"] == before["articles"]
    assert after["article_revisions"] == before["article_revisions"] + 1
    revisions = list(
        store.db.query(
            "select * from article_revisions where article_id = ? order by revision",
            [article["id"]],
        )
    )
    assert [r["revision"] for r in revisions] == [1, 2]
    assert json.loads(revisions[1]["changed"]) == ["text"]
    assert "本文已更新" in revisions[1]["diff"] and revisions[1]["seen_at"].startswith("2026-11-24")
    assert revisions[0]["text"] == article["text"]  # the old version is kept
    # The edited article is still in its story's cluster.
    row = next(store.db.query("select * from articles where id = ?", [article["id"]]))
    assert row["cluster_id"] == article["cluster_id"] and row["revision"] == 2
    gone = replace(page, status=404, body=b"not found", fetched_at="2026-11-25T08:00:00Z")
    assert ingest_page(store, gone).kind == "failure"
    row = next(store.db.query("select * from articles where id = ?", [article["id"]]))
    assert row["taken_down_at"] == "2026-11-25T08:00:00Z" and row["text"]
    assert counts(db)["articles"] == before["articles"]
    store.close()


def test_rebuild_gives_the_same_clusters_as_adding_one_by_one(crawled, tmp_path):
    db = tmp_path / "news.db"
    shutil.copy(crawled.db, db)
    store = Store(db)
    query = "select id, cluster_id, duplicate_of from articles order by id"
    incremental = [tuple(r.values()) for r in store.db.query(query)]
    with store.db.atomic():
        rebuild_clusters(store.db, workers=2)
    rebuilt = [tuple(r.values()) for r in store.db.query(query)]
    store.close()

    def partition(rows):
        groups: dict[int, set[int]] = {}
        for article_id, cluster_id, _ in rows:
            groups.setdefault(cluster_id, set()).add(article_id)
        return sorted(sorted(g) for g in groups.values())

    assert partition(rebuilt) == partition(incremental)
    assert [r[2] for r in rebuilt] == [r[2] for r in incremental]


def test_metadata_describes_the_dedupe_tables_and_view(tmp_path):
    store = Store(tmp_path / "news.db")
    tables = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))["databases"][
        "news"
    ]["tables"]
    for name in (
        "articles",
        "clusters",
        "article_revisions",
        "article_minhash",
        "article_bands",
        "reprints",
    ):
        columns = [c.name for c in store.db[name].columns]
        missing = [c for c in columns if c not in tables[name]["columns"] and c != "id"]
        assert not missing, f"metadata.yml: describe {name}.{missing}"
    store.close()
