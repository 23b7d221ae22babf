"""Schema migrations of the news database, in the order they apply (sqlite-utils Migrations).

Each step is named and applied once; ``Store`` applies pending ones when it opens a database.

Steps are frozen: each holds, as literals, the SQL it shipped with (the statements sqlite-utils
4.2 generated for the ``db[...].create(...)`` calls the first versions made), and calls no
other code of this project, so editing the tokeniser, the term dictionary or the clustering can
never change what an old step does. This module imports only sqlite-utils. Never edit a step
that has shipped: add a new one.

Filling a new table or column from existing rows with today's code (the search index, term
counts, region columns, dedupe clusters) is not a migration: a step asks for it by adding a
row to ``pending_backfills``, and ``Store`` runs it with the current code after migrating,
then clears the row, in one transaction. A step asks only when there are articles, so a new
database has nothing to backfill.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("dangjian")


@migrations(name="0001_initial")
def _initial(db: sqlite_utils.Database) -> None:
    """Sites, crawl runs, raw pages, articles and failures (the first release)."""
    for sql in (
        """CREATE TABLE "sites" (
   "id" TEXT PRIMARY KEY,
   "name" TEXT NOT NULL,
   "level" TEXT,
   "province" TEXT,
   "city" TEXT,
   "district" TEXT,
   "home_url" TEXT,
   "start_urls" TEXT,
   "enabled" INTEGER,
   "sample" INTEGER
);""",
        """CREATE TABLE "crawl_runs" (
   "run_id" TEXT,
   "site_id" TEXT REFERENCES "sites"("id"),
   "started_at" TEXT,
   "finished_at" TEXT,
   "status" TEXT,
   "pages" INTEGER,
   "articles_new" INTEGER,
   "articles_updated" INTEGER,
   "duplicates" INTEGER,
   "failures" INTEGER,
   "reason" TEXT,
   PRIMARY KEY ("run_id", "site_id")
);""",
        """CREATE TABLE "pages" (
   "id" INTEGER PRIMARY KEY,
   "url" TEXT NOT NULL,
   "final_url" TEXT,
   "site_id" TEXT REFERENCES "sites"("id"),
   "run_id" TEXT,
   "kind" TEXT,
   "status" INTEGER,
   "content_type" TEXT,
   "headers" TEXT,
   "body" BLOB,
   "body_size" INTEGER,
   "body_sha1" TEXT,
   "fetched_at" TEXT NOT NULL,
   "outcome" TEXT,
   "reason" TEXT
);""",
        """CREATE INDEX "idx_pages_url"
    ON "pages" ("url");""",
        """CREATE INDEX "idx_pages_site_id_run_id"
    ON "pages" ("site_id", "run_id");""",
        """CREATE TABLE "articles" (
   "id" INTEGER PRIMARY KEY,
   "url" TEXT NOT NULL,
   "site_id" TEXT NOT NULL REFERENCES "sites"("id"),
   "title" TEXT,
   "published" TEXT,
   "published_month" TEXT,
   "published_year" TEXT,
   "source" TEXT,
   "author" TEXT,
   "editor" TEXT,
   "column_name" TEXT,
   "keywords" TEXT,
   "script" TEXT,
   "text" TEXT,
   "title_original" TEXT,
   "text_original" TEXT,
   "encoding" TEXT,
   "site_name" TEXT,
   "flags" TEXT,
   "content_hash" TEXT,
   "duplicate_of" INTEGER REFERENCES "articles"("id"),
   "page_id" INTEGER REFERENCES "pages"("id"),
   "run_id" TEXT,
   "first_seen" TEXT,
   "last_seen" TEXT
);""",
        """CREATE UNIQUE INDEX "idx_articles_url"
    ON "articles" ("url");""",
        """CREATE INDEX "idx_articles_content_hash"
    ON "articles" ("content_hash");""",
        """CREATE INDEX "idx_articles_published"
    ON "articles" ("published");""",
        """CREATE INDEX "idx_articles_site_id_published"
    ON "articles" ("site_id", "published");""",
        """CREATE TABLE "failures" (
   "id" INTEGER PRIMARY KEY,
   "run_id" TEXT,
   "site_id" TEXT,
   "url" TEXT NOT NULL,
   "stage" TEXT NOT NULL,
   "reason" TEXT NOT NULL,
   "http_status" INTEGER,
   "at" TEXT
);""",
        """CREATE INDEX "idx_failures_run_id_site_id"
    ON "failures" ("run_id", "site_id");""",
    ):
        db.execute(sql)


@migrations(name="0002_pending_backfills")
def _pending_backfills(db: sqlite_utils.Database) -> None:
    """Add the list of data backfills that later steps ask ``Store`` to run (issue 10).

    Added after 0003-0005 had shipped: it runs before them on a database that still needs
    them, and last on one that has them (it touches nothing else, so either order gives the
    same schema).
    """
    db.execute(
        "CREATE TABLE IF NOT EXISTS pending_backfills (name TEXT PRIMARY KEY, "
        "requested_by TEXT NOT NULL, requested_at TEXT NOT NULL)"
    )


@migrations(name="0003_clusters")
def _clusters(db: sqlite_utils.Database) -> None:
    """Add revisions, takedowns, MinHash/LSH tables, clusters and the reprints view (issue 4).

    Existing articles become revision 1; their clusters are a backfill (``clusters``).
    """
    have = {row[1] for row in db.execute('PRAGMA table_info("articles")').fetchall()}
    for column, sql in (
        ("cluster_id", 'ALTER TABLE "articles" ADD COLUMN "cluster_id" INTEGER;'),
        ("revision", 'ALTER TABLE "articles" ADD COLUMN "revision" INTEGER;'),
        ("taken_down_at", 'ALTER TABLE "articles" ADD COLUMN "taken_down_at" TEXT;'),
    ):
        if column not in have:
            db.execute(sql)
    for sql in (
        """CREATE INDEX IF NOT EXISTS "idx_articles_cluster_id"
    ON "articles" ("cluster_id");""",
        """CREATE TABLE IF NOT EXISTS "clusters" (
   "id" INTEGER PRIMARY KEY,
   "original_id" INTEGER REFERENCES "articles"("id"),
   "size" INTEGER,
   "sites" INTEGER,
   "first_published" TEXT,
   "last_published" TEXT,
   "updated_at" TEXT
);""",
        """CREATE TABLE IF NOT EXISTS "article_revisions" (
   "id" INTEGER PRIMARY KEY,
   "article_id" INTEGER NOT NULL REFERENCES "articles"("id"),
   "revision" INTEGER NOT NULL,
   "seen_at" TEXT,
   "page_id" INTEGER,
   "run_id" TEXT,
   "content_hash" TEXT,
   "title" TEXT,
   "text" TEXT,
   "changed" TEXT,
   "diff" TEXT,
   "chars_added" INTEGER,
   "chars_removed" INTEGER
);""",
        """CREATE UNIQUE INDEX IF NOT EXISTS "idx_article_revisions_article_id_revision"
    ON "article_revisions" ("article_id", "revision");""",
        # What LSH needs, so adding an article is a few index look-ups: its MinHash signature
        # and one row per band. WITHOUT ROWID keeps the (band_hash, article_id) B-tree the
        # only copy.
        "CREATE TABLE IF NOT EXISTS article_minhash ("
        "article_id INTEGER PRIMARY KEY REFERENCES articles(id), signature BLOB NOT NULL)",
        "CREATE TABLE IF NOT EXISTS article_bands (band_hash INTEGER NOT NULL, "
        "article_id INTEGER NOT NULL, PRIMARY KEY (band_hash, article_id)) WITHOUT ROWID",
        """CREATE VIEW IF NOT EXISTS reprints AS
SELECT r.cluster_id, o.id AS original_id, o.site_id AS original_site, o.url AS original_url,
       o.title AS original_title, o.published AS original_published,
       r.id AS reprint_id, r.site_id AS reprint_site, r.url AS reprint_url,
       r.published AS reprint_published,
       -- A date without a time could be any hour: then the lag is counted in whole days.
       round(CASE WHEN length(r.published) <= 10 OR length(o.published) <= 10
             THEN julianday(substr(r.published, 1, 10)) - julianday(substr(o.published, 1, 10))
             ELSE julianday(r.published) - julianday(o.published) END * 24, 1) AS lag_hours
FROM articles r JOIN clusters c ON c.id = r.cluster_id JOIN articles o ON o.id = c.original_id
WHERE r.id != o.id""",
        "INSERT INTO article_revisions (article_id, revision, seen_at, page_id, run_id, "
        "content_hash, title, text, changed) SELECT id, 1, first_seen, page_id, run_id, "
        "content_hash, title, text, '[\"new\"]' FROM articles",
        "UPDATE articles SET revision = 1",
        # Clustering the existing articles needs today's MinHash code: a backfill.
        "INSERT OR IGNORE INTO pending_backfills (name, requested_by, requested_at) "
        "SELECT 'clusters', '0003_clusters', strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
        "WHERE EXISTS (SELECT 1 FROM articles)",
    ):
        db.execute(sql)


@migrations(name="0004_search")
def _search(db: sqlite_utils.Database) -> None:
    """Add the bigram search index (issue 5), per-article term counts and region facets.

    Filling them from existing articles needs today's tokeniser, term dictionary and region
    table: a backfill (``search``).
    """
    for sql in (
        # Contentless: the token strings are only needed to build the index, not to read
        # back. prefix='1' indexes every token under its first character too, so a
        # one-character query ("党"*) reads one list instead of merging every bigram that
        # starts with it.
        "CREATE VIRTUAL TABLE articles_fts USING fts5("
        "title, text, content='', tokenize='unicode61', prefix='1')",
        """CREATE TABLE "article_terms" (
   "article_id" INTEGER REFERENCES "articles"("id"),
   "term" TEXT,
   "count" INTEGER,
   PRIMARY KEY ("article_id", "term")
);""",
        """CREATE INDEX "idx_article_terms_term_article_id"
    ON "article_terms" ("term", "article_id");""",
        # Region facets; copied from the site so analysts filter without a join.
        'ALTER TABLE "articles" ADD COLUMN "level" TEXT;',
        'ALTER TABLE "articles" ADD COLUMN "province" TEXT;',
        'ALTER TABLE "articles" ADD COLUMN "city" TEXT;',
        'ALTER TABLE "articles" ADD COLUMN "site_code" TEXT;',
        """CREATE INDEX "idx_articles_province_published"
    ON "articles" ("province", "published");""",
        # Reprint-or-original facet, derived so it can never disagree with duplicate_of.
        "ALTER TABLE articles ADD COLUMN reprint INTEGER "
        "GENERATED ALWAYS AS (duplicate_of IS NOT NULL) VIRTUAL",
        "INSERT OR IGNORE INTO pending_backfills (name, requested_by, requested_at) "
        "SELECT 'search', '0004_search', strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
        "WHERE EXISTS (SELECT 1 FROM articles)",
    ):
        db.execute(sql)


@migrations(name="0005_crawl_ops")
def _crawl_ops(db: sqlite_utils.Database) -> None:
    """Add 304 counts and health alerts to crawl_runs (issue 6), indexed for per-site history."""
    have = {row[1] for row in db.execute('PRAGMA table_info("crawl_runs")').fetchall()}
    for column, sql in (
        ("not_modified", 'ALTER TABLE "crawl_runs" ADD COLUMN "not_modified" INTEGER;'),
        ("alerts", 'ALTER TABLE "crawl_runs" ADD COLUMN "alerts" TEXT;'),
    ):
        if column not in have:
            db.execute(sql)
    db.execute(
        """CREATE INDEX IF NOT EXISTS "idx_crawl_runs_site_id_started_at"
    ON "crawl_runs" ("site_id", "started_at");"""
    )


@migrations(name="0006_summaries")
def _summaries(db: sqlite_utils.Database) -> None:
    """Add summaries that triggers keep exact, and the indexes page views need (issue 14).

    - ``_counts``: rows per table (sqlite-utils' cached-counts table), for the database page;
    - ``article_counts``: articles per month, year, site, level, province, city and reprint flag,
      for the articles table's count and facets;
    - ``term_counts``: articles mentioning each term, and its mentions, per month, site and
      province, for the term canned queries (the same numbers as ``article_terms JOIN articles``);
    - ``reprint_pairs``: per pair of sites (original, reprinting), the reprints and the sum and
      number of their delays in days, for ``reprint_network``;
    - ``_data_version``: a number every change moves on (a random start per database), so a
      server can tell a client its copy of a page is still current (HTTP ETag);
    - ``_summaries_paused``: while it has a row (inside a bulk rebuild's transaction) the
      triggers do nothing and the rebuild recomputes the summaries at its end;
    - indexes: ``duplicate_of`` (with site and date: reprints of an article without row reads)
      and ``clusters.original_id`` (an article page counts the rows that refer to it), ``published_month`` (month filters), and a covering index of the facet
      columns and the date by id (facets of a search, or a set of ids in date order: one index
      probe per id, not a row read).

    Everything is filled here from the rows already stored, with plain SQL.
    """
    for sql in (
        """CREATE INDEX "idx_articles_duplicate_of"
    ON "articles" ("duplicate_of", "site_id", "published");""",
        """CREATE INDEX "idx_clusters_original_id"
    ON "clusters" ("original_id");""",
        """CREATE INDEX "idx_articles_published_month_published"
    ON "articles" ("published_month", "published");""",
        """CREATE INDEX "idx_articles_facets"
    ON "articles" ("id", "published_month", "published_year", "site_id", "level", "province",
    "city", "reprint", "published");""",
        """CREATE TABLE IF NOT EXISTS "_counts"(
   "table" TEXT PRIMARY KEY,
   count INTEGER DEFAULT 0
);""",
        """CREATE TABLE "_summaries_paused" (
   "reason" TEXT
);""",
        """CREATE TABLE "_data_version" (
   "id" INTEGER PRIMARY KEY CHECK ("id" = 1),
   "version" INTEGER NOT NULL
);""",
        # A random start, so two databases (or a database and its rebuilt copy) do not
        # share a version number.
        "INSERT INTO _data_version (id, version) VALUES (1, abs(random() % 1000000000000))",
        """CREATE TABLE "article_counts" (
   "published_month" TEXT,
   "published_year" TEXT,
   "site_id" TEXT,
   "level" TEXT,
   "province" TEXT,
   "city" TEXT,
   "reprint" INTEGER,
   "articles" INTEGER NOT NULL
);""",
        """CREATE UNIQUE INDEX "idx_article_counts_key"
    ON "article_counts" ("published_month", "published_year", "site_id", "level", "province",
    "city", "reprint");""",
        """CREATE TABLE "term_counts" (
   "term" TEXT NOT NULL,
   "published_month" TEXT,
   "site_id" TEXT,
   "province" TEXT,
   "articles" INTEGER NOT NULL,
   "mentions" INTEGER NOT NULL
);""",
        """CREATE UNIQUE INDEX "idx_term_counts_key"
    ON "term_counts" ("term", "published_month", "site_id", "province");""",
        """CREATE INDEX "idx_term_counts_published_month"
    ON "term_counts" ("published_month", "term");""",
        """CREATE INDEX "idx_term_counts_site_id"
    ON "term_counts" ("site_id", "term");""",
        """CREATE TABLE "reprint_pairs" (
   "original_site" TEXT NOT NULL,
   "reprinting_site" TEXT NOT NULL,
   "reprints" INTEGER NOT NULL,
   "delay_days" REAL NOT NULL,
   "delays" INTEGER NOT NULL,
   PRIMARY KEY ("original_site", "reprinting_site")
);""",
        # Fill from what is stored.
        """INSERT INTO "_counts" ("table", count)
SELECT 'articles', count(*) FROM articles
UNION ALL SELECT 'article_bands', count(*) FROM article_bands
UNION ALL SELECT 'article_minhash', count(*) FROM article_minhash
UNION ALL SELECT 'article_revisions', count(*) FROM article_revisions
UNION ALL SELECT 'article_terms', count(*) FROM article_terms
UNION ALL SELECT 'clusters', count(*) FROM clusters
UNION ALL SELECT 'crawl_runs', count(*) FROM crawl_runs
UNION ALL SELECT 'failures', count(*) FROM failures
UNION ALL SELECT 'pages', count(*) FROM pages
UNION ALL SELECT 'sites', count(*) FROM sites""",
        """INSERT INTO article_counts (published_month, published_year, site_id, level, province,
    city, reprint, articles)
SELECT published_month, published_year, site_id, level, province, city, reprint, count(*)
FROM articles INDEXED BY idx_articles_facets
GROUP BY published_month, published_year, site_id, level, province, city, reprint""",
        """INSERT INTO term_counts (term, published_month, site_id, province, articles, mentions)
SELECT t.term, a.published_month, a.site_id, a.province, count(*), sum(t.count)
FROM article_terms t JOIN articles a INDEXED BY idx_articles_facets ON a.id = t.article_id
GROUP BY t.term, a.published_month, a.site_id, a.province""",
        """INSERT INTO reprint_pairs (original_site, reprinting_site, reprints, delay_days,
    delays)
SELECT o.site_id, r.site_id, count(*),
  coalesce(sum(julianday(substr(r.published, 1, 10)) - julianday(substr(o.published, 1, 10))), 0),
  count(julianday(substr(r.published, 1, 10)) - julianday(substr(o.published, 1, 10)))
FROM articles r JOIN articles o ON o.id = r.duplicate_of
WHERE r.site_id != o.site_id
GROUP BY o.site_id, r.site_id""",
        # Articles: their count, their cell of article_counts, and their terms' cells.
        """CREATE TRIGGER "summaries_articles_insert" AFTER INSERT ON "articles"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count + 1 WHERE "table" = 'articles';
  UPDATE _data_version SET version = version + 1;
  INSERT INTO article_counts (published_month, published_year, site_id, level, province, city,
      reprint, articles)
    SELECT new.published_month, new.published_year, new.site_id, new.level, new.province,
      new.city, new.duplicate_of IS NOT NULL, 0
    WHERE NOT EXISTS (SELECT 1 FROM article_counts WHERE published_month IS new.published_month
      AND published_year IS new.published_year AND site_id IS new.site_id
      AND level IS new.level AND province IS new.province AND city IS new.city
      AND reprint = (new.duplicate_of IS NOT NULL));
  UPDATE article_counts SET articles = articles + 1
    WHERE published_month IS new.published_month AND published_year IS new.published_year
      AND site_id IS new.site_id AND level IS new.level AND province IS new.province
      AND city IS new.city AND reprint = (new.duplicate_of IS NOT NULL);
  INSERT INTO term_counts (term, published_month, site_id, province, articles, mentions)
    SELECT t.term, new.published_month, new.site_id, new.province, 0, 0
    FROM article_terms t WHERE t.article_id = new.id
      AND NOT EXISTS (SELECT 1 FROM term_counts c WHERE c.term = t.term
        AND c.published_month IS new.published_month AND c.site_id IS new.site_id
        AND c.province IS new.province);
  UPDATE term_counts SET articles = articles + 1, mentions = mentions + t.count
    FROM article_terms t WHERE t.article_id = new.id AND term_counts.term = t.term
      AND term_counts.published_month IS new.published_month
      AND term_counts.site_id IS new.site_id AND term_counts.province IS new.province;
END""",
        """CREATE TRIGGER "summaries_articles_delete" AFTER DELETE ON "articles"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count - 1 WHERE "table" = 'articles';
  UPDATE _data_version SET version = version + 1;
  UPDATE article_counts SET articles = articles - 1
    WHERE published_month IS old.published_month AND published_year IS old.published_year
      AND site_id IS old.site_id AND level IS old.level AND province IS old.province
      AND city IS old.city AND reprint = (old.duplicate_of IS NOT NULL);
  DELETE FROM article_counts
    WHERE published_month IS old.published_month AND published_year IS old.published_year
      AND site_id IS old.site_id AND level IS old.level AND province IS old.province
      AND city IS old.city AND reprint = (old.duplicate_of IS NOT NULL) AND articles <= 0;
  UPDATE term_counts SET articles = articles - 1, mentions = mentions - t.count
    FROM article_terms t WHERE t.article_id = old.id AND term_counts.term = t.term
      AND term_counts.published_month IS old.published_month
      AND term_counts.site_id IS old.site_id AND term_counts.province IS old.province;
  DELETE FROM term_counts
    WHERE term IN (SELECT term FROM article_terms WHERE article_id = old.id)
      AND published_month IS old.published_month AND site_id IS old.site_id
      AND province IS old.province AND articles <= 0;
END""",
        """CREATE TRIGGER "summaries_articles_update" AFTER UPDATE OF published_month,
    published_year, site_id, level, province, city, duplicate_of ON "articles"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
  AND (old.published_month IS NOT new.published_month
    OR old.published_year IS NOT new.published_year OR old.site_id IS NOT new.site_id
    OR old.level IS NOT new.level OR old.province IS NOT new.province
    OR old.city IS NOT new.city
    OR (old.duplicate_of IS NOT NULL) IS NOT (new.duplicate_of IS NOT NULL))
BEGIN
  UPDATE article_counts SET articles = articles - 1
    WHERE published_month IS old.published_month AND published_year IS old.published_year
      AND site_id IS old.site_id AND level IS old.level AND province IS old.province
      AND city IS old.city AND reprint = (old.duplicate_of IS NOT NULL);
  DELETE FROM article_counts
    WHERE published_month IS old.published_month AND published_year IS old.published_year
      AND site_id IS old.site_id AND level IS old.level AND province IS old.province
      AND city IS old.city AND reprint = (old.duplicate_of IS NOT NULL) AND articles <= 0;
  INSERT INTO article_counts (published_month, published_year, site_id, level, province, city,
      reprint, articles)
    SELECT new.published_month, new.published_year, new.site_id, new.level, new.province,
      new.city, new.duplicate_of IS NOT NULL, 0
    WHERE NOT EXISTS (SELECT 1 FROM article_counts WHERE published_month IS new.published_month
      AND published_year IS new.published_year AND site_id IS new.site_id
      AND level IS new.level AND province IS new.province AND city IS new.city
      AND reprint = (new.duplicate_of IS NOT NULL));
  UPDATE article_counts SET articles = articles + 1
    WHERE published_month IS new.published_month AND published_year IS new.published_year
      AND site_id IS new.site_id AND level IS new.level AND province IS new.province
      AND city IS new.city AND reprint = (new.duplicate_of IS NOT NULL);
END""",
        """CREATE TRIGGER "summaries_articles_update_terms" AFTER UPDATE OF published_month,
    site_id, province ON "articles"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
  AND (old.published_month IS NOT new.published_month OR old.site_id IS NOT new.site_id
    OR old.province IS NOT new.province)
BEGIN
  UPDATE term_counts SET articles = articles - 1, mentions = mentions - t.count
    FROM article_terms t WHERE t.article_id = old.id AND term_counts.term = t.term
      AND term_counts.published_month IS old.published_month
      AND term_counts.site_id IS old.site_id AND term_counts.province IS old.province;
  DELETE FROM term_counts
    WHERE term IN (SELECT term FROM article_terms WHERE article_id = old.id)
      AND published_month IS old.published_month AND site_id IS old.site_id
      AND province IS old.province AND articles <= 0;
  INSERT INTO term_counts (term, published_month, site_id, province, articles, mentions)
    SELECT t.term, new.published_month, new.site_id, new.province, 0, 0
    FROM article_terms t WHERE t.article_id = new.id
      AND NOT EXISTS (SELECT 1 FROM term_counts c WHERE c.term = t.term
        AND c.published_month IS new.published_month AND c.site_id IS new.site_id
        AND c.province IS new.province);
  UPDATE term_counts SET articles = articles + 1, mentions = mentions + t.count
    FROM article_terms t WHERE t.article_id = new.id AND term_counts.term = t.term
      AND term_counts.published_month IS new.published_month
      AND term_counts.site_id IS new.site_id AND term_counts.province IS new.province;
END""",
        # Reprint pairs (reprint_network): one reprint row's pair, and an original's reprints.
        """CREATE TRIGGER "summaries_reprints_insert" AFTER INSERT ON "articles"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  INSERT INTO reprint_pairs (original_site, reprinting_site, reprints, delay_days, delays)
    SELECT o.site_id, new.site_id, 0, 0, 0 FROM articles o WHERE o.id = new.duplicate_of AND o.site_id != new.site_id
    ON CONFLICT DO NOTHING;
  UPDATE reprint_pairs SET reprints = reprints + 1,
      delay_days = delay_days + coalesce(julianday(substr(new.published, 1, 10)) - julianday(substr(o.published, 1, 10)), 0),
      delays = delays + (julianday(substr(new.published, 1, 10)) - julianday(substr(o.published, 1, 10)) IS NOT NULL)
    FROM articles o WHERE o.id = new.duplicate_of AND o.site_id != new.site_id
      AND reprint_pairs.original_site = o.site_id AND reprint_pairs.reprinting_site = new.site_id;
  INSERT INTO reprint_pairs (original_site, reprinting_site, reprints, delay_days, delays)
    SELECT DISTINCT new.site_id, r.site_id, 0, 0, 0 FROM articles r
    WHERE r.duplicate_of = new.id AND r.site_id != new.site_id
    ON CONFLICT DO NOTHING;
  UPDATE reprint_pairs SET reprints = reprints + x.n,
      delay_days = delay_days + x.days, delays = delays + x.known
    FROM (SELECT r.site_id AS site, count(*) AS n, coalesce(sum(julianday(substr(r.published, 1, 10)) - julianday(substr(new.published, 1, 10))), 0) AS days,
        count(julianday(substr(r.published, 1, 10)) - julianday(substr(new.published, 1, 10))) AS known FROM articles r
        WHERE r.duplicate_of = new.id AND r.site_id != new.site_id GROUP BY r.site_id) x
    WHERE reprint_pairs.original_site = new.site_id AND reprint_pairs.reprinting_site = x.site;
END""",
        """CREATE TRIGGER "summaries_reprints_delete" AFTER DELETE ON "articles"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE reprint_pairs SET reprints = reprints - 1,
      delay_days = delay_days - coalesce(julianday(substr(old.published, 1, 10)) - julianday(substr(o.published, 1, 10)), 0),
      delays = delays - (julianday(substr(old.published, 1, 10)) - julianday(substr(o.published, 1, 10)) IS NOT NULL)
    FROM articles o WHERE o.id = old.duplicate_of AND o.site_id != old.site_id
      AND reprint_pairs.original_site = o.site_id AND reprint_pairs.reprinting_site = old.site_id;
  DELETE FROM reprint_pairs WHERE reprints <= 0 AND reprinting_site = old.site_id
    AND original_site IN (SELECT o.site_id FROM articles o WHERE o.id = old.duplicate_of);
  UPDATE reprint_pairs SET reprints = reprints - x.n,
      delay_days = delay_days - x.days, delays = delays - x.known
    FROM (SELECT r.site_id AS site, count(*) AS n, coalesce(sum(julianday(substr(r.published, 1, 10)) - julianday(substr(old.published, 1, 10))), 0) AS days,
        count(julianday(substr(r.published, 1, 10)) - julianday(substr(old.published, 1, 10))) AS known FROM articles r
        WHERE r.duplicate_of = old.id AND r.site_id != old.site_id GROUP BY r.site_id) x
    WHERE reprint_pairs.original_site = old.site_id AND reprint_pairs.reprinting_site = x.site;
  DELETE FROM reprint_pairs WHERE original_site = old.site_id AND reprints <= 0;
END""",
        """CREATE TRIGGER "summaries_reprints_update" AFTER UPDATE OF duplicate_of, site_id,
    published ON "articles"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
  AND (old.duplicate_of IS NOT new.duplicate_of OR old.site_id IS NOT new.site_id
    OR old.published IS NOT new.published)
BEGIN
  UPDATE reprint_pairs SET reprints = reprints - 1,
      delay_days = delay_days - coalesce(julianday(substr(old.published, 1, 10)) - julianday(substr(o.published, 1, 10)), 0),
      delays = delays - (julianday(substr(old.published, 1, 10)) - julianday(substr(o.published, 1, 10)) IS NOT NULL)
    FROM articles o WHERE o.id = old.duplicate_of AND o.site_id != old.site_id
      AND reprint_pairs.original_site = o.site_id AND reprint_pairs.reprinting_site = old.site_id;
  DELETE FROM reprint_pairs WHERE reprints <= 0 AND reprinting_site = old.site_id
    AND original_site IN (SELECT o.site_id FROM articles o WHERE o.id = old.duplicate_of);
  INSERT INTO reprint_pairs (original_site, reprinting_site, reprints, delay_days, delays)
    SELECT o.site_id, new.site_id, 0, 0, 0 FROM articles o WHERE o.id = new.duplicate_of AND o.site_id != new.site_id
    ON CONFLICT DO NOTHING;
  UPDATE reprint_pairs SET reprints = reprints + 1,
      delay_days = delay_days + coalesce(julianday(substr(new.published, 1, 10)) - julianday(substr(o.published, 1, 10)), 0),
      delays = delays + (julianday(substr(new.published, 1, 10)) - julianday(substr(o.published, 1, 10)) IS NOT NULL)
    FROM articles o WHERE o.id = new.duplicate_of AND o.site_id != new.site_id
      AND reprint_pairs.original_site = o.site_id AND reprint_pairs.reprinting_site = new.site_id;
  UPDATE reprint_pairs SET reprints = reprints - x.n,
      delay_days = delay_days - x.days, delays = delays - x.known
    FROM (SELECT r.site_id AS site, count(*) AS n, coalesce(sum(julianday(substr(r.published, 1, 10)) - julianday(substr(old.published, 1, 10))), 0) AS days,
        count(julianday(substr(r.published, 1, 10)) - julianday(substr(old.published, 1, 10))) AS known FROM articles r
        WHERE r.duplicate_of = old.id AND r.site_id != old.site_id GROUP BY r.site_id) x
    WHERE reprint_pairs.original_site = old.site_id AND reprint_pairs.reprinting_site = x.site;
  DELETE FROM reprint_pairs WHERE original_site = old.site_id AND reprints <= 0;
  INSERT INTO reprint_pairs (original_site, reprinting_site, reprints, delay_days, delays)
    SELECT DISTINCT new.site_id, r.site_id, 0, 0, 0 FROM articles r
    WHERE r.duplicate_of = new.id AND r.site_id != new.site_id
    ON CONFLICT DO NOTHING;
  UPDATE reprint_pairs SET reprints = reprints + x.n,
      delay_days = delay_days + x.days, delays = delays + x.known
    FROM (SELECT r.site_id AS site, count(*) AS n, coalesce(sum(julianday(substr(r.published, 1, 10)) - julianday(substr(new.published, 1, 10))), 0) AS days,
        count(julianday(substr(r.published, 1, 10)) - julianday(substr(new.published, 1, 10))) AS known FROM articles r
        WHERE r.duplicate_of = new.id AND r.site_id != new.site_id GROUP BY r.site_id) x
    WHERE reprint_pairs.original_site = new.site_id AND reprint_pairs.reprinting_site = x.site;
END""",
        # Term counts of one article: its count, and the cell of its article's month, site
        # and province (nothing while the article itself is not stored).
        """CREATE TRIGGER "summaries_article_terms_insert" AFTER INSERT ON "article_terms"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count + 1 WHERE "table" = 'article_terms';
  UPDATE _data_version SET version = version + 1;
  INSERT INTO term_counts (term, published_month, site_id, province, articles, mentions)
    SELECT new.term, a.published_month, a.site_id, a.province, 0, 0
    FROM articles a WHERE a.id = new.article_id
      AND NOT EXISTS (SELECT 1 FROM term_counts c WHERE c.term = new.term
        AND c.published_month IS a.published_month AND c.site_id IS a.site_id
        AND c.province IS a.province);
  UPDATE term_counts SET articles = articles + 1, mentions = mentions + new.count
    FROM articles a WHERE a.id = new.article_id AND term_counts.term = new.term
      AND term_counts.published_month IS a.published_month
      AND term_counts.site_id IS a.site_id AND term_counts.province IS a.province;
END""",
        """CREATE TRIGGER "summaries_article_terms_delete" AFTER DELETE ON "article_terms"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count - 1 WHERE "table" = 'article_terms';
  UPDATE _data_version SET version = version + 1;
  UPDATE term_counts SET articles = articles - 1, mentions = mentions - old.count
    FROM articles a WHERE a.id = old.article_id AND term_counts.term = old.term
      AND term_counts.published_month IS a.published_month
      AND term_counts.site_id IS a.site_id AND term_counts.province IS a.province;
  DELETE FROM term_counts WHERE term = old.term AND articles <= 0
    AND EXISTS (SELECT 1 FROM articles a WHERE a.id = old.article_id
      AND term_counts.published_month IS a.published_month
      AND term_counts.site_id IS a.site_id AND term_counts.province IS a.province);
END""",
        """CREATE TRIGGER "summaries_article_terms_update" AFTER UPDATE OF article_id, term, count
    ON "article_terms"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE term_counts SET articles = articles - 1, mentions = mentions - old.count
    FROM articles a WHERE a.id = old.article_id AND term_counts.term = old.term
      AND term_counts.published_month IS a.published_month
      AND term_counts.site_id IS a.site_id AND term_counts.province IS a.province;
  DELETE FROM term_counts WHERE term = old.term AND articles <= 0
    AND EXISTS (SELECT 1 FROM articles a WHERE a.id = old.article_id
      AND term_counts.published_month IS a.published_month
      AND term_counts.site_id IS a.site_id AND term_counts.province IS a.province);
  INSERT INTO term_counts (term, published_month, site_id, province, articles, mentions)
    SELECT new.term, a.published_month, a.site_id, a.province, 0, 0
    FROM articles a WHERE a.id = new.article_id
      AND NOT EXISTS (SELECT 1 FROM term_counts c WHERE c.term = new.term
        AND c.published_month IS a.published_month AND c.site_id IS a.site_id
        AND c.province IS a.province);
  UPDATE term_counts SET articles = articles + 1, mentions = mentions + new.count
    FROM articles a WHERE a.id = new.article_id AND term_counts.term = new.term
      AND term_counts.published_month IS a.published_month
      AND term_counts.site_id IS a.site_id AND term_counts.province IS a.province;
END""",
        # Row counts of the other tables the writer fills.
        """CREATE TRIGGER "summaries_article_bands_insert" AFTER INSERT ON "article_bands"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count + 1 WHERE "table" = 'article_bands';
  UPDATE _data_version SET version = version + 1;
END""",
        """CREATE TRIGGER "summaries_article_bands_delete" AFTER DELETE ON "article_bands"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count - 1 WHERE "table" = 'article_bands';
  UPDATE _data_version SET version = version + 1;
END""",
        """CREATE TRIGGER "summaries_article_minhash_insert" AFTER INSERT ON "article_minhash"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count + 1 WHERE "table" = 'article_minhash';
  UPDATE _data_version SET version = version + 1;
END""",
        """CREATE TRIGGER "summaries_article_minhash_delete" AFTER DELETE ON "article_minhash"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count - 1 WHERE "table" = 'article_minhash';
  UPDATE _data_version SET version = version + 1;
END""",
        """CREATE TRIGGER "summaries_article_revisions_insert" AFTER INSERT
    ON "article_revisions"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count + 1 WHERE "table" = 'article_revisions';
  UPDATE _data_version SET version = version + 1;
END""",
        """CREATE TRIGGER "summaries_article_revisions_delete" AFTER DELETE
    ON "article_revisions"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count - 1 WHERE "table" = 'article_revisions';
  UPDATE _data_version SET version = version + 1;
END""",
        """CREATE TRIGGER "summaries_clusters_insert" AFTER INSERT ON "clusters"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count + 1 WHERE "table" = 'clusters';
  UPDATE _data_version SET version = version + 1;
END""",
        """CREATE TRIGGER "summaries_clusters_delete" AFTER DELETE ON "clusters"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count - 1 WHERE "table" = 'clusters';
  UPDATE _data_version SET version = version + 1;
END""",
        """CREATE TRIGGER "summaries_crawl_runs_insert" AFTER INSERT ON "crawl_runs"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count + 1 WHERE "table" = 'crawl_runs';
  UPDATE _data_version SET version = version + 1;
END""",
        """CREATE TRIGGER "summaries_crawl_runs_delete" AFTER DELETE ON "crawl_runs"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count - 1 WHERE "table" = 'crawl_runs';
  UPDATE _data_version SET version = version + 1;
END""",
        """CREATE TRIGGER "summaries_failures_insert" AFTER INSERT ON "failures"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count + 1 WHERE "table" = 'failures';
  UPDATE _data_version SET version = version + 1;
END""",
        """CREATE TRIGGER "summaries_failures_delete" AFTER DELETE ON "failures"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count - 1 WHERE "table" = 'failures';
  UPDATE _data_version SET version = version + 1;
END""",
        """CREATE TRIGGER "summaries_pages_insert" AFTER INSERT ON "pages"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count + 1 WHERE "table" = 'pages';
  UPDATE _data_version SET version = version + 1;
END""",
        """CREATE TRIGGER "summaries_pages_delete" AFTER DELETE ON "pages"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count - 1 WHERE "table" = 'pages';
  UPDATE _data_version SET version = version + 1;
END""",
        """CREATE TRIGGER "summaries_sites_insert" AFTER INSERT ON "sites"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count + 1 WHERE "table" = 'sites';
  UPDATE _data_version SET version = version + 1;
END""",
        """CREATE TRIGGER "summaries_sites_delete" AFTER DELETE ON "sites"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN
  UPDATE _counts SET count = count - 1 WHERE "table" = 'sites';
  UPDATE _data_version SET version = version + 1;
END""",
        # Any other change: the data version (HTTP ETags) moves on.
        """CREATE TRIGGER "summaries_articles_version" AFTER UPDATE ON "articles"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN UPDATE _data_version SET version = version + 1; END""",
        """CREATE TRIGGER "summaries_article_bands_version" AFTER UPDATE ON "article_bands"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN UPDATE _data_version SET version = version + 1; END""",
        """CREATE TRIGGER "summaries_article_minhash_version" AFTER UPDATE ON "article_minhash"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN UPDATE _data_version SET version = version + 1; END""",
        """CREATE TRIGGER "summaries_article_revisions_version" AFTER UPDATE ON "article_revisions"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN UPDATE _data_version SET version = version + 1; END""",
        """CREATE TRIGGER "summaries_article_terms_version" AFTER UPDATE ON "article_terms"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN UPDATE _data_version SET version = version + 1; END""",
        """CREATE TRIGGER "summaries_clusters_version" AFTER UPDATE ON "clusters"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN UPDATE _data_version SET version = version + 1; END""",
        """CREATE TRIGGER "summaries_crawl_runs_version" AFTER UPDATE ON "crawl_runs"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN UPDATE _data_version SET version = version + 1; END""",
        """CREATE TRIGGER "summaries_failures_version" AFTER UPDATE ON "failures"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN UPDATE _data_version SET version = version + 1; END""",
        """CREATE TRIGGER "summaries_pages_version" AFTER UPDATE ON "pages"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN UPDATE _data_version SET version = version + 1; END""",
        """CREATE TRIGGER "summaries_sites_version" AFTER UPDATE ON "sites"
WHEN NOT EXISTS (SELECT 1 FROM _summaries_paused)
BEGIN UPDATE _data_version SET version = version + 1; END""",
    ):
        db.execute(sql)


@migrations(name="0007_documents")
def _documents(db: sqlite_utils.Database) -> None:
    """Add government-document fields, attachments and the changes feed (issue 15).

    - ``articles`` gains the fields of a government document (文号 ``doc_number``, 成文日期
      ``written_date``, 发文机关 ``issuer``, 索引号 ``index_number``, 主题分类 ``subject``,
      有效性 ``validity``, and ``doc_year``), indexed for facets and look-ups by number;
    - ``attachments``: one row per file an article links to (PDF, DOC/DOCX, WPS, XLS/XLSX),
      its raw bytes zlib-compressed like pages, and its extracted text, with the bigram search
      index ``attachments_fts`` (rowid = ``attachments.id``), filled by the writer;
    - ``changes``: one row per article created, changed, taken down, restored or deleted,
      written by triggers in the writer's own transaction, so its ids (AUTOINCREMENT: never
      reused) are a cursor a tool can page by without skipping or repeating a row. Existing
      articles are recorded as created (and taken down), in id order;
    - an index of clusters by reach, for the most republished stories.

    Nothing needs today's code to fill: no backfill.
    """
    have = {row[1] for row in db.execute('PRAGMA table_info("articles")').fetchall()}
    for column, sql in (
        ("doc_number", 'ALTER TABLE "articles" ADD COLUMN "doc_number" TEXT;'),
        ("written_date", 'ALTER TABLE "articles" ADD COLUMN "written_date" TEXT;'),
        ("issuer", 'ALTER TABLE "articles" ADD COLUMN "issuer" TEXT;'),
        ("index_number", 'ALTER TABLE "articles" ADD COLUMN "index_number" TEXT;'),
        ("subject", 'ALTER TABLE "articles" ADD COLUMN "subject" TEXT;'),
        ("validity", 'ALTER TABLE "articles" ADD COLUMN "validity" TEXT;'),
        ("doc_year", 'ALTER TABLE "articles" ADD COLUMN "doc_year" TEXT;'),
    ):
        if column not in have:
            db.execute(sql)
    for sql in (
        # Facets on the issuing organ and the year read these, not the rows (whose later
        # columns sit after the body text).
        """CREATE INDEX IF NOT EXISTS "idx_articles_issuer"
    ON "articles" ("issuer", "doc_year");""",
        """CREATE INDEX IF NOT EXISTS "idx_articles_doc_year"
    ON "articles" ("doc_year", "issuer");""",
        """CREATE INDEX IF NOT EXISTS "idx_articles_doc_number"
    ON "articles" ("doc_number");""",
        """CREATE INDEX IF NOT EXISTS "idx_clusters_sites_size"
    ON "clusters" ("sites", "size");""",
        """CREATE TABLE IF NOT EXISTS "attachments" (
   "id" INTEGER PRIMARY KEY,
   "url" TEXT NOT NULL,
   "article_url" TEXT,
   "article_id" INTEGER REFERENCES "articles"("id"),
   "site_id" TEXT REFERENCES "sites"("id"),
   "run_id" TEXT,
   "name" TEXT,
   "format" TEXT,
   "content_type" TEXT,
   "status" INTEGER,
   "size" INTEGER,
   "sha1" TEXT,
   "body" BLOB,
   "text" TEXT,
   "text_status" TEXT,
   "fetched_at" TEXT,
   "first_seen" TEXT,
   "last_seen" TEXT
);""",
        """CREATE UNIQUE INDEX IF NOT EXISTS "idx_attachments_url"
    ON "attachments" ("url");""",
        """CREATE INDEX IF NOT EXISTS "idx_attachments_article_id"
    ON "attachments" ("article_id");""",
        """CREATE INDEX IF NOT EXISTS "idx_attachments_article_url"
    ON "attachments" ("article_url");""",
        "CREATE VIRTUAL TABLE IF NOT EXISTS attachments_fts USING fts5("
        "name, text, content='', tokenize='unicode61', prefix='1')",
        """CREATE TABLE IF NOT EXISTS "changes" (
   "id" INTEGER PRIMARY KEY AUTOINCREMENT,
   "article_id" INTEGER NOT NULL,
   "change" TEXT NOT NULL,
   "revision" INTEGER,
   "at" TEXT NOT NULL
);""",
        """CREATE INDEX IF NOT EXISTS "idx_changes_article_id"
    ON "changes" ("article_id", "id");""",
        # What is already stored: created (and taken down), in id order.
        """INSERT INTO changes (article_id, change, revision, at)
SELECT id, 'created', revision, coalesce(first_seen, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
FROM articles ORDER BY id""",
        """INSERT INTO changes (article_id, change, revision, at)
SELECT id, 'taken_down', revision, taken_down_at FROM articles
WHERE taken_down_at IS NOT NULL ORDER BY id""",
        """CREATE TRIGGER IF NOT EXISTS "changes_articles_insert" AFTER INSERT ON "articles"
BEGIN
  INSERT INTO changes (article_id, change, revision, at)
    VALUES (new.id, 'created', new.revision, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END""",
        # What a reader of the article sees; not the bookkeeping columns (last_seen, run_id,
        # page_id, regions, clusters).
        """CREATE TRIGGER IF NOT EXISTS "changes_articles_update" AFTER UPDATE OF title, text,
    published, source, author, editor, flags, taken_down_at, doc_number, written_date, issuer,
    index_number, subject, validity ON "articles"
WHEN old.title IS NOT new.title OR old.text IS NOT new.text
  OR old.published IS NOT new.published OR old.source IS NOT new.source
  OR old.author IS NOT new.author OR old.editor IS NOT new.editor
  OR old.flags IS NOT new.flags OR old.doc_number IS NOT new.doc_number
  OR old.written_date IS NOT new.written_date OR old.issuer IS NOT new.issuer
  OR old.index_number IS NOT new.index_number OR old.subject IS NOT new.subject
  OR old.validity IS NOT new.validity
  OR (old.taken_down_at IS NULL) != (new.taken_down_at IS NULL)
BEGIN
  INSERT INTO changes (article_id, change, revision, at)
    VALUES (new.id,
      CASE WHEN old.taken_down_at IS NULL AND new.taken_down_at IS NOT NULL THEN 'taken_down'
           WHEN old.taken_down_at IS NOT NULL AND new.taken_down_at IS NULL THEN 'restored'
           ELSE 'changed' END,
      new.revision, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END""",
        """CREATE TRIGGER IF NOT EXISTS "changes_articles_delete" AFTER DELETE ON "articles"
BEGIN
  INSERT INTO changes (article_id, change, revision, at)
    VALUES (old.id, 'deleted', old.revision, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END""",
    ):
        db.execute(sql)


@migrations(name="0008_candidate_index")
def _candidate_index(db: sqlite_utils.Database) -> None:
    """Make both search indexes candidate filters (issue 14): ``detail=none``, ``ascii``.

    The old indexes kept every token's positions (phrase queries) and a prefix index: 2.5
    times the text they index, and a million articles took over an hour to index. The new
    ones keep only which row holds which token (a third of the text), and the search checks
    the candidates against the text. Their tokens differ (every Han character, marked title
    tokens), so both are refilled by backfills (``search``, ``attachments_search``).
    """
    for sql in (
        "DROP TABLE IF EXISTS articles_fts",
        "CREATE VIRTUAL TABLE articles_fts USING fts5("
        "title, text, content='', tokenize='ascii', detail=none)",
        "DROP TABLE IF EXISTS attachments_fts",
        "CREATE VIRTUAL TABLE attachments_fts USING fts5("
        "name, text, content='', tokenize='ascii', detail=none)",
        "INSERT OR IGNORE INTO pending_backfills (name, requested_by, requested_at) "
        "SELECT 'search', '0008_candidate_index', strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
        "WHERE EXISTS (SELECT 1 FROM articles)",
        "INSERT OR IGNORE INTO pending_backfills (name, requested_by, requested_at) "
        "SELECT 'attachments_search', '0008_candidate_index', "
        "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE EXISTS (SELECT 1 FROM attachments)",
    ):
        db.execute(sql)


@migrations(name="0009_article_counts_by_region_and_site")
def _article_counts_by_region_and_site(db: sqlite_utils.Database) -> None:
    """Index ``article_counts`` by province, city and site, covering the default facets.

    A filtered articles page (``?province=浙江省``) asks for its count and four facets; the
    only index led with the month, so each read all ~50,000 rows of the summary at a million
    articles (~50 ms a page). These answer from the filter's rows alone (issue 14).
    """
    for sql in (
        'CREATE INDEX IF NOT EXISTS "idx_article_counts_province" ON "article_counts" '
        '("province", "site_id", "published_month", "reprint", "articles")',
        'CREATE INDEX IF NOT EXISTS "idx_article_counts_city" ON "article_counts" '
        '("city", "site_id", "province", "published_month", "reprint", "articles")',
        'CREATE INDEX IF NOT EXISTS "idx_article_counts_site_id" ON "article_counts" '
        '("site_id", "province", "published_month", "reprint", "articles")',
    ):
        db.execute(sql)
