"""Schema migrations of the news database, in the order they apply (sqlite-utils Migrations).

Each step is named and applied once; ``Store`` applies pending ones when it opens a database.
Never edit a step that has shipped: add a new one.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

from pipeline.store import search

migrations = Migrations("dangjian")


@migrations(name="0001_initial")
def _initial(db: sqlite_utils.Database) -> None:
    db["sites"].create(
        {
            "id": str,
            "name": str,
            "level": str,
            "province": str,
            "city": str,
            "district": str,
            "home_url": str,
            "start_urls": str,
            "enabled": int,
            "sample": int,
        },
        pk="id",
        not_null={"name"},
    )
    db["crawl_runs"].create(
        {
            "run_id": str,
            "site_id": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "pages": int,
            "articles_new": int,
            "articles_updated": int,
            "duplicates": int,
            "failures": int,
            "reason": str,
        },
        pk=("run_id", "site_id"),
        foreign_keys=[("site_id", "sites", "id")],
    )
    db["pages"].create(
        {
            "id": int,
            "url": str,
            "final_url": str,
            "site_id": str,
            "run_id": str,
            "kind": str,
            "status": int,
            "content_type": str,
            "headers": str,
            "body": bytes,
            "body_size": int,
            "body_sha1": str,
            "fetched_at": str,
            "outcome": str,
            "reason": str,
        },
        pk="id",
        not_null={"url", "fetched_at"},
        foreign_keys=[("site_id", "sites", "id")],
    )
    db["pages"].create_index(["url"])
    db["pages"].create_index(["site_id", "run_id"])
    db["articles"].create(
        {
            "id": int,
            "url": str,
            "site_id": str,
            "title": str,
            "published": str,
            "published_month": str,
            "published_year": str,
            "source": str,
            "author": str,
            "editor": str,
            "column_name": str,
            "keywords": str,
            "script": str,
            "text": str,
            "title_original": str,
            "text_original": str,
            "encoding": str,
            "site_name": str,
            "flags": str,
            "content_hash": str,
            "duplicate_of": int,
            "page_id": int,
            "run_id": str,
            "first_seen": str,
            "last_seen": str,
        },
        pk="id",
        not_null={"url", "site_id"},
        foreign_keys=[
            ("site_id", "sites", "id"),
            ("page_id", "pages", "id"),
            ("duplicate_of", "articles", "id"),
        ],
    )
    db["articles"].create_index(["url"], unique=True)
    db["articles"].create_index(["content_hash"])
    db["articles"].create_index(["published"])
    db["articles"].create_index(["site_id", "published"])
    db["failures"].create(
        {
            "id": int,
            "run_id": str,
            "site_id": str,
            "url": str,
            "stage": str,
            "reason": str,
            "http_status": int,
            "at": str,
        },
        pk="id",
        not_null={"url", "stage", "reason"},
    )
    db["failures"].create_index(["run_id", "site_id"])


@migrations(name="0003_clusters")
def _clusters(db: sqlite_utils.Database) -> None:
    """Add revisions, takedowns, MinHash/LSH tables, clusters and the reprints view (issue 4)."""
    articles = db["articles"]
    for column, kind in (("cluster_id", int), ("revision", int), ("taken_down_at", str)):
        if column not in articles.columns_dict:
            articles.add_column(column, kind)
    articles.create_index(["cluster_id"], if_not_exists=True)
    db["clusters"].create(
        {
            "id": int,
            "original_id": int,
            "size": int,
            "sites": int,
            "first_published": str,
            "last_published": str,
            "updated_at": str,
        },
        pk="id",
        foreign_keys=[("original_id", "articles", "id")],
        if_not_exists=True,
    )
    db["article_revisions"].create(
        {
            "id": int,
            "article_id": int,
            "revision": int,
            "seen_at": str,
            "page_id": int,
            "run_id": str,
            "content_hash": str,
            "title": str,
            "text": str,
            "changed": str,
            "diff": str,
            "chars_added": int,
            "chars_removed": int,
        },
        pk="id",
        not_null={"article_id", "revision"},
        foreign_keys=[("article_id", "articles", "id")],
        if_not_exists=True,
    )
    db["article_revisions"].create_index(
        ["article_id", "revision"], unique=True, if_not_exists=True
    )
    # What LSH needs, so adding an article is a few index look-ups: its MinHash signature and
    # one row per band. WITHOUT ROWID keeps the (band_hash, article_id) B-tree the only copy.
    db.execute(
        "CREATE TABLE IF NOT EXISTS article_minhash ("
        "article_id INTEGER PRIMARY KEY REFERENCES articles(id), signature BLOB NOT NULL)"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS article_bands (band_hash INTEGER NOT NULL, "
        "article_id INTEGER NOT NULL, PRIMARY KEY (band_hash, article_id)) WITHOUT ROWID"
    )
    db.execute(REPRINTS_VIEW)
    db.execute(
        "INSERT INTO article_revisions (article_id, revision, seen_at, page_id, run_id, "
        "content_hash, title, text, changed) SELECT id, 1, first_seen, page_id, run_id, "
        "content_hash, title, text, '[\"new\"]' FROM articles"
    )
    db.execute("UPDATE articles SET revision = 1")
    from pipeline.store.clusters import rebuild_clusters  # lazy: clusters imports this module

    rebuild_clusters(db)


REPRINTS_VIEW = """CREATE VIEW IF NOT EXISTS reprints AS
SELECT r.cluster_id, o.id AS original_id, o.site_id AS original_site, o.url AS original_url,
       o.title AS original_title, o.published AS original_published,
       r.id AS reprint_id, r.site_id AS reprint_site, r.url AS reprint_url,
       r.published AS reprint_published,
       -- A date without a time could be any hour: then the lag is counted in whole days.
       round(CASE WHEN length(r.published) <= 10 OR length(o.published) <= 10
             THEN julianday(substr(r.published, 1, 10)) - julianday(substr(o.published, 1, 10))
             ELSE julianday(r.published) - julianday(o.published) END * 24, 1) AS lag_hours
FROM articles r JOIN clusters c ON c.id = r.cluster_id JOIN articles o ON o.id = c.original_id
WHERE r.id != o.id"""


@migrations(name="0004_search")
def _search(db: sqlite_utils.Database) -> None:
    """Add the bigram search index (issue 5) and per-article term counts, filled from rows."""
    # Contentless: the token strings are only needed to build the index, not to read back.
    # prefix='1' indexes every token under its first character too, so a one-character
    # query ("党"*) reads one list instead of merging every bigram that starts with it.
    db.execute(
        f"CREATE VIRTUAL TABLE {search.FTS_TABLE} USING fts5("
        "title, text, content='', tokenize='unicode61', prefix='1')"
    )
    db["article_terms"].create(
        {"article_id": int, "term": str, "count": int},
        pk=("article_id", "term"),
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["article_terms"].create_index(["term", "article_id"])
    # Region facets; copied from the site so analysts filter without a join.
    for column in ("level", "province", "city", "site_code"):
        db["articles"].add_column(column, str)
    db["articles"].create_index(["province", "published"])
    # Reprint-or-original facet, derived so it can never disagree with duplicate_of (issue 4).
    db.execute(
        "ALTER TABLE articles ADD COLUMN reprint INTEGER "
        "GENERATED ALWAYS AS (duplicate_of IS NOT NULL) VIRTUAL"
    )
    from pipeline.store import index_article  # lazy: store imports this module

    for row in list(db.query("select id, title, text, site_id, site_code from articles")):
        index_article(db, row["id"], None, row)


@migrations(name="0005_crawl_ops")
def _crawl_ops(db: sqlite_utils.Database) -> None:
    """Add 304 counts and health alerts to crawl_runs (issue 6), indexed for per-site history."""
    runs = db["crawl_runs"]
    for column, kind in (("not_modified", int), ("alerts", str)):
        if column not in runs.columns_dict:
            runs.add_column(column, kind)
    runs.create_index(["site_id", "started_at"], if_not_exists=True)
