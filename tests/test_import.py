"""`dangjian import`: saved HTML files, folders and WARC archives go through the crawl's pipeline."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from dangjian.cli import cli
from pipeline.dedupe import canonical_url
from sample_sites import build_sites


@pytest.fixture(scope="module")
def sites():
    return build_sites(30)


def pick_reprint(sites, copier: str, original_site: str):
    """Return (reprint, original) ExpectedArticles: ``copier`` republishing ``original_site``."""
    for e in sites[copier].expected_articles():
        if e.republished_from and e.republished_from[0] == original_site:
            original = next(
                o
                for o in sites[original_site].expected_articles()
                if o.path == e.republished_from[1]
            )
            return e, original
    raise AssertionError(f"{copier} republishes nothing of {original_site}")


def write_warc(path: Path, records: list[tuple[str, int, bytes, str]]) -> None:
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url, status, body, content_type in records:
            headers = StatusAndHeaders(
                f"{status} {'OK' if status == 200 else 'Not Found'}",
                [("Content-Type", content_type)],
                protocol="HTTP/1.1",
            )
            writer.write_record(
                writer.create_warc_record(
                    url, "response", payload=io.BytesIO(body), http_headers=headers
                )
            )


def table_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {
            t: conn.execute(f"select count(*) from {t}").fetchone()[0]
            for t in ("articles", "article_revisions", "clusters", "pages")
        }


def test_warc_import_keeps_urls_clusters_reprints_and_is_idempotent(sites, tmp_path):
    copy, original = pick_reprint(sites, "mirror-hant", "wuhan-tzb")
    records = []
    for article in (original, copy):
        site = sites[article.site_id]
        status, headers, body = site.respond(article.path)
        records.append((site.base_url + article.path, status, body, headers["Content-Type"]))
    records.append(
        (sites["wuhan-tzb"].base_url + "/xwzx/tzyw/gone.html", 404, b"gone", "text/html")
    )
    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc, records)
    db = tmp_path / "news.db"
    runner = CliRunner()
    result = runner.invoke(cli, ["import", str(warc), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "new 1" in result.output and "duplicate 1" in result.output, result.output
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select url, cluster_id, duplicate_of, script from articles order by id"
        ).fetchall()
        assert [r[0] for r in rows] == [canonical_url(r[0]) for r in records[:2]]
        assert rows[0][1] == rows[1][1]  # the pinyin mirror copy joins its original
        assert rows[1][3] == "hant" and rows[1][2] is not None
        reprint = conn.execute("select original_url, reprint_url from reprints").fetchall()
        assert reprint == [(rows[0][0], rows[1][0])]
    before = table_counts(db)
    again = runner.invoke(cli, ["import", str(warc), "--db", str(db)])
    assert again.exit_code == 0 and "skipped 3" in again.output, again.output
    assert table_counts(db) == before


def test_html_files_and_folders_keep_the_url_the_page_states(sites, tmp_path):
    folder = tmp_path / "saved"
    (folder / "sub").mkdir(parents=True)
    tzb, museum = (
        next(e for e in sites[s].expected_articles()[3:] if not e.republished_from)
        for s in ("wuhan-tzb", "wuchang-museum")
    )
    (folder / "sub" / "tzb.html").write_bytes(sites["wuhan-tzb"].respond(tzb.path)[2])
    (folder / "museum.htm").write_bytes(sites["wuchang-museum"].respond(museum.path)[2])
    (folder / "notes.txt").write_text("not a page")
    db = tmp_path / "news.db"
    result = CliRunner().invoke(cli, ["import", str(folder), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "new 2" in result.output, result.output
    with sqlite3.connect(db) as conn:
        urls = [r[0] for r in conn.execute("select url from articles order by url")]
        titles = {r[0] for r in conn.execute("select title from articles")}
    # The TRS page names itself in <meta name="Url">; the museum page names nothing.
    assert any(u.startswith("http://www.whtzb.gov.cn/xwzx/") for u in urls), urls
    assert any(u.startswith("file://") and u.endswith("museum.htm") for u in urls), urls
    assert tzb.title_simplified in titles


def test_import_of_a_missing_path_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(
        cli, ["import", str(tmp_path / "nope.warc"), "--db", str(tmp_path / "n.db")]
    )
    assert result.exit_code == 2 and "does not exist" in result.output
