"""Migrations are frozen, and a database of the first release opens migrated (issue 10).

The first release's database is written here with literal SQL (its schema, sqlite-utils'
record of ``0001_initial``, and rows as that release's pipeline stored them), so neither this
test nor the migrations depend on code that may change later.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import sqlite3
import unicodedata
import zlib
from pathlib import Path

import pytest
import sqlite_utils

from pipeline.store import Store, clusters, migrations, search

# The schema 0001_initial created, statement by statement.
FIRST_RELEASE_SCHEMA = (
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
)""",
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
)""",
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
)""",
    """CREATE INDEX "idx_pages_url"
    ON "pages" ("url")""",
    """CREATE INDEX "idx_pages_site_id_run_id"
    ON "pages" ("site_id", "run_id")""",
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
)""",
    """CREATE UNIQUE INDEX "idx_articles_url"
    ON "articles" ("url")""",
    """CREATE INDEX "idx_articles_content_hash"
    ON "articles" ("content_hash")""",
    """CREATE INDEX "idx_articles_published"
    ON "articles" ("published")""",
    """CREATE INDEX "idx_articles_site_id_published"
    ON "articles" ("site_id", "published")""",
    """CREATE TABLE "failures" (
   "id" INTEGER PRIMARY KEY,
   "run_id" TEXT,
   "site_id" TEXT,
   "url" TEXT NOT NULL,
   "stage" TEXT NOT NULL,
   "reason" TEXT NOT NULL,
   "http_status" INTEGER,
   "at" TEXT
)""",
    """CREATE INDEX "idx_failures_run_id_site_id"
    ON "failures" ("run_id", "site_id")""",
)
# sqlite-utils' record of applied steps, as it created it then.
MIGRATIONS_TABLE = (
    """CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
)""",
    """CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name")""",
)

# A story on a city party-building site and its republication on the site's Traditional
# channel (big5), whose original text carries injected pinyin readings. The first release
# stored the normalised (simplified) text in ``text`` and the page's own in ``text_original``.
TEXT = (
    "3月5日，市直机关工委召开党建工作推进会，深入学习贯彻党的二十大精神，"
    "部署下一阶段重点任务。会议强调，要深刻领悟“两个确立”的决定性意义，"
    "坚持以党的政治建设为统领，严格落实“三会一课”制度，推动基层党组织全面进步、全面过硬，"
    "以高质量党建引领机关工作高质量发展。"
)
TEXT_HANT = (
    "3月5日，市直機關工委召開黨(dǎng)建工作推進會，深入學習貫徹黨的二十大精神，"
    "部署下一階段重點任務。會議強調，要深刻領悟“兩個確立”的決定性意義，"
    "堅持以黨的政治建設為統(tǒng)領，嚴格落實“三會一課”制度，推動基層黨組織全面進步、全面過硬，"
    "以高質量黨建引領機關工作高質量發展。"
)
TITLE = "市直机关工委召开党建工作推进会"
TITLE_HANT = "市直機關工委召開黨(dǎng)建工作推進會"


def first_release_hash(text: str) -> str:
    """The first release's ``content_hash``: SHA-1 of the text without spaces or punctuation."""
    folded = unicodedata.normalize("NFKC", text)
    kept = "".join(
        c for c in folded if not (c.isspace() or unicodedata.category(c).startswith(("P", "S")))
    )
    return hashlib.sha1(kept.encode("utf-8")).hexdigest()


def write_first_release(path: Path) -> None:
    """Write a database as the first release left it: 0001 schema, 0001 recorded, its rows."""
    conn = sqlite3.connect(path)
    with conn:
        for sql in FIRST_RELEASE_SCHEMA + MIGRATIONS_TABLE:
            conn.execute(sql)
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('dangjian', '0001_initial', '2026-11-23 19:30:00.000000+00:00')"
        )
        conn.execute(
            "INSERT INTO sites VALUES ('hz_dangjian', '杭州党建网', 'city', '浙江省', '杭州市', "
            "NULL, 'http://www.hzdj.gov.cn/', ?, 1, 0)",
            [json.dumps(["http://www.hzdj.gov.cn/", "http://www.hzdj.gov.cn/big5/"])],
        )
        conn.execute(
            "INSERT INTO crawl_runs (run_id, site_id, started_at, finished_at, status, pages, "
            "articles_new, articles_updated, duplicates, failures, reason) VALUES "
            "('20261123T193000', 'hz_dangjian', '2026-11-23T19:30:00Z', "
            "'2026-11-23T19:31:10Z', 'ok', 2, 1, 0, 1, 0, NULL)"
        )
        body = (
            f"<html><head><meta charset='utf-8'><title>{TITLE}</title></head>"
            f"<body><h1>{TITLE}</h1><p>{TEXT}</p></body></html>"
        ).encode()
        conn.execute(
            "INSERT INTO pages VALUES (1, ?, ?, 'hz_dangjian', '20261123T193000', 'article', "
            "200, 'text/html; charset=utf-8', ?, ?, ?, ?, '2026-11-23T19:30:05Z', 'new', NULL)",
            [
                "http://www.hzdj.gov.cn/art/2024/3/5/art_1_1.html",
                "http://www.hzdj.gov.cn/art/2024/3/5/art_1_1.html",
                json.dumps({"content-type": "text/html; charset=utf-8"}),
                zlib.compress(body, 6),
                len(body),
                hashlib.sha1(body).hexdigest(),
            ],
        )
        article = (
            "INSERT INTO articles (id, url, site_id, title, published, published_month, "
            "published_year, source, script, text, title_original, text_original, encoding, "
            "site_name, content_hash, duplicate_of, page_id, run_id, first_seen, last_seen) "
            "VALUES (?, ?, 'hz_dangjian', ?, ?, '2024-03', '2024', '杭州党建网', ?, ?, ?, ?, "
            "'utf-8', '杭州党建网', ?, ?, ?, '20261123T193000', ?, ?)"
        )
        conn.execute(
            article,
            [1, "http://www.hzdj.gov.cn/art/2024/3/5/art_1_1.html", TITLE, "2024-03-05 09:30"]
            + ["hans", TEXT, TITLE, TEXT, first_release_hash(TEXT), None, 1]
            + ["2026-11-23T19:30:05Z"] * 2,
        )
        # The big5 page's normalised text differs in punctuation only: the same hash.
        reprint_text = TEXT.replace("，", ",").replace("。", ". ")
        conn.execute(
            article,
            [2, "http://www.hzdj.gov.cn/big5/art/2024/3/6/art_1_2.html", TITLE, "2024-03-06"]
            + ["hant", reprint_text, TITLE_HANT, TEXT_HANT, first_release_hash(reprint_text)]
            + [1, None]
            + ["2026-11-23T19:30:07Z"] * 2,
        )
    conn.close()


def schema(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    ).fetchall()


def hits(conn: sqlite3.Connection, query: str) -> list[int]:
    """Article ids the bigram search finds for ``query``, as the plugin asks for them."""
    return search.search_ids(conn, query)


def refuse_backfills(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any backfill work (clustering, search index) fail the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a backfill ran")

    monkeypatch.setattr(clusters, "rebuild_clusters", refuse)
    monkeypatch.setattr(Store, "_fill_search_index", refuse)


def test_the_first_release_schema_is_what_0001_initial_creates(tmp_path):
    written = sqlite3.connect(tmp_path / "written.db")
    for sql in FIRST_RELEASE_SCHEMA:
        written.execute(sql)
    db = sqlite_utils.Database(tmp_path / "migrated.db")
    migrations.migrations.apply(db, stop_before="0002_pending_backfills")
    migrated = [r for r in schema(db.conn) if not r[2].startswith("_sqlite_migrations")]
    assert migrated == schema(written)


def test_a_first_release_database_opens_migrated_and_backfilled(tmp_path):
    path = tmp_path / "news.db"
    write_first_release(path)
    Store(path).close()

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    fts = search.FTS_TABLE
    conn.execute(f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 0)")
    applied = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert applied == [m.name for m in migrations.migrations._migrations]
    assert conn.execute("SELECT count(*) FROM pending_backfills").fetchone() == (0,)
    # A migrated database has the same schema as a new one.
    new = tmp_path / "new.db"
    Store(new).close()
    assert schema(conn) == schema(sqlite3.connect(new))

    # Searchable through the bigram index: two-character and longer terms, title and body.
    assert hits(conn, "党建") == [1, 2]
    assert hits(conn, "两个确立") == [1, 2]
    assert hits(conn, "推进会 -会议") == []
    assert hits(conn, "二十大 OR 巡察") == [1, 2]
    # Term counts and region facets, filled by today's code.
    terms = {
        (a, t): n for a, t, n in conn.execute("SELECT article_id, term, count FROM article_terms")
    }
    assert terms[(1, "两个确立")] == 1 and terms[(1, "三会一课")] == 1
    assert {t for a, t in terms if a == 1} == {t for a, t in terms if a == 2}
    assert conn.execute("SELECT DISTINCT level, province, city FROM articles").fetchall() == [
        ("city", "浙江省", "杭州市")
    ]
    # One story: the simplified original, the Traditional page its reprint.
    rows = conn.execute(
        "SELECT id, cluster_id, duplicate_of, reprint, revision FROM articles ORDER BY id"
    ).fetchall()
    (cluster,) = {r[1] for r in rows}
    assert cluster is not None
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [(1, None, 0, 1), (2, 1, 1, 1)]
    assert conn.execute(
        "SELECT original_id, size, sites, first_published, last_published FROM clusters"
    ).fetchall() == [(1, 2, 1, "2024-03-05 09:30", "2024-03-06")]
    assert conn.execute(
        "SELECT original_id, reprint_id, original_title, lag_hours FROM reprints"
    ).fetchall() == [(1, 2, TITLE, 24.0)]
    assert conn.execute("SELECT count(*) FROM article_bands").fetchone()[0] > 0
    # Every article has its first revision; runs have the later columns; pages keep bytes.
    assert conn.execute(
        "SELECT article_id, revision, changed FROM article_revisions ORDER BY article_id"
    ).fetchall() == [(1, 1, '["new"]'), (2, 1, '["new"]')]
    runs = conn.execute("SELECT * FROM crawl_runs").fetchall()
    columns = [d[0] for d in conn.execute("SELECT * FROM crawl_runs").description]
    assert {"not_modified", "alerts"} <= set(columns) and len(runs) == 1
    store = Store(path)
    (page,) = store.raw_pages()
    assert TITLE in page.body.decode()
    store.close()


def test_a_second_open_runs_no_backfill_and_writes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "news.db"
    write_first_release(path)
    Store(path).close()
    before = schema(sqlite3.connect(path))
    refuse_backfills(monkeypatch)
    store = Store(path)
    assert store.db.conn.total_changes == 0
    assert hits(store.db.conn, "党建") == [1, 2]
    store.close()
    assert schema(sqlite3.connect(path)) == before


def test_a_new_database_has_nothing_to_backfill(tmp_path, monkeypatch):
    refuse_backfills(monkeypatch)
    store = Store(tmp_path / "new.db")
    assert store.db.execute("SELECT count(*) FROM pending_backfills").fetchone() == (0,)
    store.close()


def test_a_failed_backfill_is_run_again_on_the_next_open(tmp_path, monkeypatch):
    path = tmp_path / "news.db"
    write_first_release(path)

    def crash(*args, **kwargs):
        raise RuntimeError("killed mid-backfill")

    with monkeypatch.context() as patched:
        patched.setattr(clusters, "rebuild_clusters", crash)
        with pytest.raises(RuntimeError, match="killed"):
            Store(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT name FROM pending_backfills ORDER BY rowid").fetchall() == [
        ("clusters",),
        ("search",),
    ]
    Store(path).close()
    assert conn.execute("SELECT count(*) FROM pending_backfills").fetchone() == (0,)
    assert conn.execute("SELECT original_id, size FROM clusters").fetchall() == [(1, 2)]
    assert hits(conn, "党建") == [1, 2]


@pytest.mark.parametrize("step", migrations.migrations._migrations, ids=lambda m: m.name)
def test_each_migration_holds_its_own_sql(step):
    source = inspect.getsource(step.fn)
    assert "import" not in source, f"{step.name} imports code"
    assert "pipeline" not in source, f"{step.name} names project code"
    # Nothing from the module or elsewhere: every statement is a literal in the function.
    assert inspect.getclosurevars(step.fn).globals == {}


def test_the_migrations_module_imports_only_sqlite_utils():
    tree = ast.parse(inspect.getsource(migrations))
    imported = {
        alias.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported == {"__future__", "sqlite_utils", "sqlite_utils.migrations"}


def test_a_0007_database_gets_the_candidate_index_and_both_indexes_refilled(tmp_path):
    """0008 replaces the positional indexes (phrases, prefix index) with candidate filters;
    the articles and attachments stored before it are found afterwards, exactly."""
    path = tmp_path / "news.db"
    db = sqlite_utils.Database(path)
    migrations.migrations.apply(db, stop_before="0008_candidate_index")
    assert (
        "detail=none"
        not in db.execute("select sql from sqlite_master where name = 'articles_fts'").fetchone()[0]
    )
    db.execute("insert into sites (id, name) values ('s', '示例')")
    db.execute(
        "insert into articles (id, url, site_id, title, text, doc_number) values "
        "(1, 'http://a/1', 's', '关于开展主题教育的通知', '各支部落实三会一课。', '湘组发〔2023〕5号'),"
        "(2, 'http://a/2', 's', '党建工作', '主题 教育。', null)"
    )
    db.execute(
        "insert into attachments (id, url, article_id, name, text) values "
        "(7, 'http://a/1.pdf', 1, '附件.pdf', '第二批主题教育实施方案')"
    )
    db.conn.commit()
    db.close()

    store = Store(path)
    conn = store.db.conn
    for table in ("articles_fts", "attachments_fts"):
        assert (
            "detail=none"
            in conn.execute("select sql from sqlite_master where name = ?", [table]).fetchone()[0]
        )
        conn.execute(f"insert into {table}({table}, rank) values ('integrity-check', 0)")
    assert conn.execute("select count(*) from pending_backfills").fetchone() == (0,)
    assert search.search_ids(conn, "主题教育") == [1]  # 2 holds the bigrams apart only
    assert search.search_ids(conn, "主题") == [1, 2]
    assert search.search_ids(conn, "湘组发[2023]5号", "title") == [1]
    assert search.search_ids(conn, "三会一课", "title") == []
    assert conn.execute(search.attachment_matches("q"), {"q": "实施方案"}).fetchall() == [(1,)]
    store.close()
