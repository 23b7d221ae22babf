"""Plain ``datasette`` (package installed) on a database named ``party.db``, not ``news``.

The server is started with the exact command docs/api.md documents ("Plain Datasette"), only
the database path replaced, and compared with ``dangjian serve`` on the same crawl: the same
search rows, canned queries, rendering and settings. Real processes on loopback only.
"""

from __future__ import annotations

import html
import os
import re
import shlex
import sqlite3
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import free_port, stop, wait_for_http
from tests.test_datasette_search import get, get_json, like_scan

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
DATASETTE = Path(sys.executable).with_name("datasette")
QUERIES = ["党", "党建", "主题教育", "党建 -会议", "主题教育 OR 党史学习教育", "不存在的词语组合"]


def documented_command(path: Path) -> list[str]:
    """The plain-datasette command in a ```bash block of ``path``."""
    text = path.read_text(encoding="utf-8")
    found = re.findall(r"```bash\n(datasette data/news\.db [^`]*?)\n```", text)
    assert len(found) == 1, f"{path.name} should show the plain datasette command once"
    return shlex.split(found[0].replace("\\\n", " "))  # as the shell joins continued lines


def shipped_settings() -> dict:
    return yaml.safe_load((ROOT / "datasette.yaml").read_text(encoding="utf-8"))["settings"]


def setting_flags(command: list[str]) -> dict[str, str]:
    return {command[i + 1]: command[i + 2] for i, a in enumerate(command) if a == "--setting"}


def start_datasette(command: list[str], log: Path) -> tuple[subprocess.Popen, str]:
    """Run ``command`` (a ``datasette ...`` line) from the checkout's root on a free port."""
    port = free_port()
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [str(DATASETTE), *command[1:], "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/-/versions.json")
    except RuntimeError:
        stop(proc)
        pytest.fail(f"datasette did not start: {command}\n{log.read_text(errors='replace')}")
    return proc, url


def copy_database(source: Path, target: Path) -> Path:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return target


@pytest.fixture(scope="module")
def party_db(crawled, tmp_path_factory) -> Path:
    return copy_database(crawled.db, tmp_path_factory.mktemp("plain") / "party.db")


@pytest.fixture(scope="module")
def plain_url(party_db) -> Iterator[str]:
    """The documented command, as written, on party.db."""
    command = documented_command(ROOT / "docs" / "api.md")
    command[command.index("data/news.db")] = str(party_db)
    proc, url = start_datasette(command, party_db.with_name("datasette.log"))
    try:
        yield url
    finally:
        stop(proc)


def ids(base: str, database: str, **params: str) -> set[int]:
    query = urllib.parse.urlencode({**params, "_shape": "array", "_col": "title", "_size": "max"})
    rows = get_json(f"{base}/{database}/articles.json?{query}")
    assert len(rows) < 1000
    return {r["id"] for r in rows}


def test_readme_and_docs_show_the_same_command_with_the_shipped_settings():
    command = documented_command(ROOT / "docs" / "api.md")
    assert documented_command(ROOT / "README.md") == command
    assert command[:4] == ["datasette", "data/news.db", "-m", "metadata.yml"]
    flags = setting_flags(command)
    settings = shipped_settings()
    assert set(flags) == set(settings)
    for name, value in settings.items():
        if isinstance(value, bool):
            assert flags[name] == ("on" if value else "off"), name
        else:
            assert flags[name] == str(value), name


def test_settings_are_in_force_and_the_same_as_dangjian_serve(plain_url, datasette_url):
    plain = get_json(plain_url + "/-/settings.json")
    for name, value in shipped_settings().items():
        assert plain[name] == value, name
    assert plain == get_json(datasette_url + "/-/settings.json")


@pytest.mark.parametrize("query", QUERIES)
def test_search_returns_the_rows_dangjian_serve_and_like_return(
    plain_url, datasette_url, party_db, query
):
    expected = like_scan(party_db, query)
    assert ids(plain_url, "party", _search=query) == expected
    assert ids(datasette_url, "news", _search=query) == expected


def test_one_column_search_and_html_search_page(plain_url, party_db):
    assert ids(plain_url, "party", _search_title="党建") == like_scan(party_db, "党建", ("title",))
    status, body = get(
        f"{plain_url}/party/articles?_size=max&_search=" + urllib.parse.quote("党建")
    )
    assert status == 200
    assert 'name="_search"' in body and "/-/dangjian/articles.js" in body
    found = re.findall(r'<td class="col-id[^"]*"[^>]*><a href="/party/articles/(\d+)"', body)
    assert {int(i) for i in found} == like_scan(party_db, "党建")


def test_table_metadata_and_default_facets_apply(plain_url, datasette_url):
    plain = get_json(f"{plain_url}/party/articles.json?_size=20&_col=published&_shape=objects")
    served = get_json(f"{datasette_url}/news/articles.json?_size=20&_col=published&_shape=objects")
    assert set(plain["facet_results"]) == set(served["facet_results"])
    assert {"site_id", "province", "published_month", "reprint"} <= set(plain["facet_results"])
    published = [r["published"] or "" for r in plain["rows"]]  # sort_desc: published
    assert (
        published
        == sorted(published, reverse=True)
        == [r["published"] or "" for r in served["rows"]]
    )
    status, body = get(f"{plain_url}/party/articles")
    assert status == 200 and "One row per article" in body


@pytest.mark.parametrize(
    "path",
    [
        "site_health.json?_shape=array",
        "term_trend.json?_shape=array&term=" + urllib.parse.quote("主题教育"),
        "reprint_network.json?_shape=array",
    ],
)
def test_canned_queries_answer_as_json_like_dangjian_serve(plain_url, datasette_url, path):
    rows = get_json(f"{plain_url}/party/{path}")
    assert rows == get_json(f"{datasette_url}/news/{path}")
    if path.startswith(("site_health", "term_trend")):
        assert rows, path


def test_ranked_search_snippets_and_feed(plain_url):
    rows = get_json(
        f"{plain_url}/party/search_ranked.json?_shape=array&q=" + urllib.parse.quote("党建")
    )
    assert rows and any("<mark>党建</mark>" in (r["snippet"] or "") for r in rows)
    status, body = get(f"{plain_url}/party/feed.atom")
    assert status == 200 and body.count("<entry>") >= 10


def test_article_body_renders_as_paragraphs_and_title_links(plain_url, party_db):
    article_id, url = (
        sqlite3.connect(party_db)
        .execute("select id, url from articles where text like '%' || char(10) || '%' limit 1")
        .fetchone()
    )
    status, body = get(f"{plain_url}/party/articles/{article_id}")
    assert status == 200
    assert 'class="dangjian-body"' in body and body.count("<p>") >= 2
    assert f'href="{html.escape(url)}"' in body


@pytest.fixture(scope="module")
def tiny_and_other_url(party_db, tmp_path_factory) -> Iterator[str]:
    """party.db with tiny search thresholds (from a user's own -m file), beside other.db.

    other.db has an ``articles`` table but not our index: the plugin leaves it alone.
    """
    tmp = tmp_path_factory.mktemp("plain-tiny")
    other = sqlite3.connect(tmp / "other.db")
    with other:
        other.execute("create table articles (id integer primary key, title text, text text)")
        other.execute("insert into articles values (1, '党建', '党建\n工作')")
    other.close()
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    metadata.pop("databases")  # the plugin supplies our block; this file only adds to it
    metadata["plugins"] = {"dangjian": {"search_few_matches": 3, "search_many_matches": 15}}
    (tmp / "metadata.yml").write_text(yaml.safe_dump(metadata, allow_unicode=True), "utf-8")
    command = ["datasette", str(party_db), str(tmp / "other.db"), "-m", str(tmp / "metadata.yml")]
    proc, url = start_datasette(command, tmp / "datasette.log")
    try:
        yield url
    finally:
        stop(proc)


def test_huge_search_guard_works_under_any_name(tiny_and_other_url, party_db):
    query = next(q for q in ("党", "的", "党建") if len(like_scan(party_db, q)) > 15)
    q = urllib.parse.quote(query)
    page = get_json(f"{tiny_and_other_url}/party/articles.json?_search={q}&_size=7")
    assert page["filtered_table_rows_count"] is None and not page["facet_results"]
    status, body = get(f"{tiny_and_other_url}/party/articles?_search={q}")
    assert status == 200 and "more than 15 rows" in body
    assert ids(tiny_and_other_url, "party", _search=query) == like_scan(party_db, query)


def test_a_database_without_our_schema_is_left_alone(tiny_and_other_url):
    status, _ = get(f"{tiny_and_other_url}/other/site_health.json")
    assert status == 404
    status, body = get(f"{tiny_and_other_url}/other/articles/1")
    assert status == 200 and "dangjian-body" not in body
    assert "/-/dangjian/articles.js" not in get(f"{tiny_and_other_url}/other/articles")[1]
    metadata = get_json(f"{tiny_and_other_url}/-/metadata.json")
    assert set(metadata["databases"]) == {"party"}


def test_dangjian_serve_applies_an_own_metadata_file_over_the_packaged_block(tmp_path):
    """``dangjian serve`` gives Datasette the news block once (the plugin's) when its metadata
    file is the packaged one; a user's file that changes the block still wins."""
    import asyncio

    from dangjian.serve import make_datasette
    from pipeline.store import Store

    db = tmp_path / "news.db"
    Store(db).close()
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    metadata["databases"]["news"]["tables"]["articles"]["description"] = "Our own words."
    own = tmp_path / "own.yml"
    own.write_text(yaml.safe_dump(metadata, allow_unicode=True), encoding="utf-8")

    async def description_and_queries(metadata_path: Path | None) -> tuple[str, list[str]]:
        ds = make_datasette(db, metadata_path)
        await ds.invoke_startup()
        page = (await ds.client.get("/news/articles?_size=1")).text
        description = "Our own words." if "Our own words." in page else "One row per article"
        assert description in page
        queries = (await ds.client.get("/news.json")).json()["queries"]
        return description, sorted(q["name"] for q in queries)

    packaged = asyncio.run(description_and_queries(None))
    assert packaged[0] == "One row per article"
    assert "site_health" in packaged[1]
    assert asyncio.run(description_and_queries(own)) == ("Our own words.", packaged[1])


def test_served_connections_get_the_configured_page_cache(tmp_path):
    import asyncio

    from dangjian.serve import make_datasette
    from pipeline.store import Store
    from pipeline.web.plugin import PAGE_CACHE_MB

    db = tmp_path / "news.db"
    Store(db).close()
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    own = tmp_path / "own.yml"

    async def cache_size(metadata_path: Path | None) -> int:
        ds = make_datasette(db, metadata_path)
        await ds.invoke_startup()
        news = ds.get_database("news")
        return await news.execute_fn(lambda conn: conn.execute("pragma cache_size").fetchone()[0])

    assert asyncio.run(cache_size(None)) == -PAGE_CACHE_MB * 1024
    metadata["plugins"] = {"dangjian": {"page_cache_mb": 8}}
    own.write_text(yaml.safe_dump(metadata, allow_unicode=True), encoding="utf-8")
    assert asyncio.run(cache_size(own)) == -8 * 1024
