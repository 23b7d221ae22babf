"""Charts in view (issue 15): the dashboard and the query charts, in-process and in Chromium.

The browser part opens, on a real crawl of the sample sites served by ``dangjian serve``, the
dashboard, the term trend, an article page and the attachment-only notice of xuzhou-jgdj,
checks that every chart is drawn without a click, and keeps screenshots in ``artifacts/``.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import urllib.parse

import pytest
from datasette.app import Datasette

from pipeline.web.dashboard import DASHBOARD, QUERY_CHARTS

from .test_article_page import db_path  # noqa: F401 - the fixture: a small database of ours
from .test_browser import ARTIFACTS, browser, wait_for  # noqa: F401 - the Chromium fixture
from .test_datasette_search import get_json


def fetch(path_db, *paths: str) -> list:
    async def run():
        ds = Datasette([str(path_db)])
        await ds.invoke_startup()
        return [await ds.client.get(p) for p in paths]

    return asyncio.run(run())


def test_the_dashboard_has_a_chart_per_canned_query(db_path):  # noqa: F811
    dashboard, named = fetch(db_path, "/-/dashboard", "/party/-/dashboard")
    assert dashboard.status_code == named.status_code == 200
    html = dashboard.text
    assert len(re.findall(r"<canvas data-chart=", html)) == len(DASHBOARD)
    assert "/-/dangjian/chart.umd.min.js" in html and "/-/dangjian/dangjian-charts.js" in html
    assert "cdn" not in html.lower() and "vega" not in html.lower()
    for query, _, _ in DASHBOARD:
        assert f"/party/{query}.json" in html


@pytest.mark.parametrize("query", [q for q, _, _ in DASHBOARD])
def test_each_chart_is_a_canned_query_answering_json(db_path, query):  # noqa: F811
    (response,) = fetch(db_path, f"/party/{query}.json?_shape=array")
    assert response.status_code == 200, response.text
    rows = response.json()
    spec = QUERY_CHARTS[query]
    for row in rows:
        assert spec["x"] in row and all(y in row for y in spec["y"])


def test_the_charts_read_the_summaries(db_path):  # noqa: F811
    conn = sqlite3.connect(db_path)
    (per_month,) = fetch(db_path, "/party/articles_per_month.json?_shape=array")
    assert {r["month"]: r["articles"] for r in per_month.json()} == dict(
        conn.execute("select published_month, count(*) from articles group by 1").fetchall()
    )
    (stories,) = fetch(db_path, "/party/most_republished_stories.json?_shape=array")
    assert [(r["sites"], r["articles"]) for r in stories.json()] == [(2, 2)]


def test_the_trend_page_draws_its_chart_without_datasette_vega(db_path):  # noqa: F811
    (response,) = fetch(db_path, "/party/term_trend?term=" + urllib.parse.quote("三会一课"))
    html = response.text
    assert "window.dangjianQueryChart" in html and "/-/dangjian/chart.umd.min.js" in html
    assert "Show charting options" not in html
    (plain,) = fetch(db_path, "/party/site_health")
    assert "dangjianQueryChart" not in plain.text


# --- in a real browser ---------------------------------------------------------------------


def drawn_pixels(driver, selector: str) -> int:
    return driver.execute_script(
        "var c = document.querySelector(arguments[0]); if (!c || !c.width) return 0;"
        "var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, n = 0;"
        "for (var i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; } return n;",
        selector,
    )


@pytest.mark.e2e
def test_the_dashboard_draws_every_chart(browser, datasette_url, crawled):  # noqa: F811
    browser.get(f"{datasette_url}/-/dashboard")
    for index in range(len(DASHBOARD)):
        selector = f"canvas[data-chart='{index}']"
        wait_for(
            lambda s=selector: browser.execute_script(
                "var c = document.querySelector(arguments[0]);"
                "return c && (c.getAttribute('data-drawn') || c.getAttribute('data-error'))",
                s,
            )
        )
        assert (
            browser.execute_script(
                "return document.querySelector(arguments[0]).getAttribute('data-error')", selector
            )
            is None
        )
        if (
            browser.execute_script(
                "return document.querySelector(arguments[0]).getAttribute('data-drawn')", selector
            )
            != "0"
        ):
            assert wait_for(lambda s=selector: drawn_pixels(browser, s) > 500)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "dashboard.png"))


@pytest.mark.e2e
def test_the_article_page_in_a_browser(browser, datasette_url, crawled):  # noqa: F811
    conn = sqlite3.connect(crawled.db)
    (article_id,) = conn.execute(
        "select c.original_id from clusters c where c.sites > 1 order by c.size desc limit 1"
    ).fetchone()
    browser.get(f"{datasette_url}/news/articles/{article_id}")
    wait_for(lambda: browser.execute_script("return document.readyState") == "complete")
    width = browser.execute_script(
        "return document.querySelector('.dangjian-text').getBoundingClientRect().width"
    )
    paragraphs = browser.execute_script(
        "return document.querySelectorAll('.dangjian-text p').length"
    )
    text = conn.execute("select text from articles where id = ?", [article_id]).fetchone()[0]
    assert paragraphs == len([p for p in text.splitlines() if p.strip()])
    assert 300 < width < 900, "the body is set at a readable width"
    carried = browser.execute_script(
        "return document.querySelectorAll('.dangjian-carried tbody tr').length"
    )
    assert (
        carried
        == conn.execute(
            "select count(*) from articles where cluster_id = (select cluster_id from articles "
            "where id = ?) and id != ?",
            [article_id, article_id],
        ).fetchone()[0]
        > 0
    )
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "article-page.png"))


@pytest.mark.e2e
def test_the_attachment_only_notice_in_a_browser(browser, datasette_url, crawled):  # noqa: F811
    (article_id,) = (
        sqlite3.connect(crawled.db)
        .execute("select id from articles where flags like '%attachment-only%'")
        .fetchone()
    )
    browser.get(f"{datasette_url}/news/articles/{article_id}")
    wait_for(lambda: browser.execute_script("return document.readyState") == "complete")
    flag = browser.execute_script("return document.querySelector('.dangjian-flag').textContent")
    assert "Attachment-only" in flag
    assert (
        browser.execute_script(
            "return document.querySelector('.dangjian-text').textContent"
        ).strip()
        == "Xuzhou 2023 party-building work points"
    )
    files = browser.execute_script(
        "return [...document.querySelectorAll('.dangjian-attachments li a')].map(a => a.textContent)"
    )
    assert files == ["2023年市级机关党建工作要点.pdf"]
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "attachment-only-notice.png"))


@pytest.mark.e2e
def test_the_trend_chart_is_drawn_on_load(browser, datasette_url):  # noqa: F811
    term = "主题教育"
    rows = get_json(
        f"{datasette_url}/news/term_trend.json?_shape=array&term={urllib.parse.quote(term)}"
    )
    assert rows
    browser.get(f"{datasette_url}/news/term_trend?term={urllib.parse.quote(term)}")
    wait_for(
        lambda: browser.execute_script(
            "var c = document.querySelector('.dangjian-query-chart canvas');"
            "return c && c.getAttribute('data-drawn')"
        )
    )
    assert wait_for(lambda: drawn_pixels(browser, ".dangjian-query-chart canvas") > 500)
