"""The store: schema through migrations, one row per canonical URL, changes and duplicates."""

import sqlite3

import pytest

from pipeline.dedupe import canonical_url, content_hash
from pipeline.errors import StoreError
from pipeline.model import RawPage
from pipeline.store import Store


def article(url, text, **extra):
    return {
        "url": url,
        "site_id": "s",
        "title": "标题",
        "text": text,
        "content_hash": content_hash(text),
        **extra,
    }


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "news.db")
    s.save_sites([{"id": "s", "name": "示例", "level": "city", "start_urls": ["http://a/"]}])
    yield s
    s.close()


def test_new_unchanged_updated(store):
    assert store.save_article(article("http://a/1.html", "正文一。")).change == "new"
    assert store.save_article(article("http://a/1.html", "正文一。")).change == "unchanged"
    assert store.save_article(article("http://a/1.html", "正文一,改了。")).change == "updated"
    rows = list(store.db.query("select text from articles"))
    assert rows == [{"text": "正文一,改了。"}]


def test_same_text_elsewhere_is_marked_duplicate_of_the_first(store):
    # duplicate_of is set by clustering (pipeline.store.clusters, issue 4), which ingest runs next.
    from pipeline.store.clusters import assign_cluster

    text = "市直机关工委召开党建工作推进会，部署下一阶段重点任务。会议强调，要坚持以党的政治建设为统领。"
    first = store.save_article(article("http://a/1.html", text))
    again = store.save_article(article("http://b/9.html", text.replace("，", " ")))
    for written in (first, again):
        assign_cluster(store.db, written.article_id)
    row = next(store.db.query("select duplicate_of from articles where id = ?", [again.article_id]))
    assert row["duplicate_of"] == first.article_id


def test_pages_keep_raw_bytes(store):
    page = RawPage(
        url="http://a/1.html",
        final_url="http://a/1.html",
        status=200,
        headers={"content-type": "text/html; charset=gbk"},
        body="党建".encode("gbk"),
        fetched_at="2026-11-23T00:00:00Z",
        site_id="s",
    )
    store.save_page(page, "list")
    (back,) = store.raw_pages()
    assert back.body == "党建".encode("gbk") and back.headers == page.headers


def test_migrations_are_idempotent(tmp_path):
    Store(tmp_path / "n.db").close()
    Store(tmp_path / "n.db").close()
    names = [
        r[0]
        for r in sqlite3.connect(tmp_path / "n.db").execute("select name from _sqlite_migrations")
    ]
    assert names[0] == "0001_initial" and len(names) == len(set(names))


def test_not_a_database_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="bad.db"):
        Store(bad)


def test_canonical_url_drops_fragments_and_tracking_and_sorts_query():
    assert (
        canonical_url("http://A.gov.cn/x?b=2&a=1&utm_source=wx#top") == "http://a.gov.cn/x?a=1&b=2"
    )
