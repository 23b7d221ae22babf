"""A real headless Chromium renders the search page and the trend chart.

Chromium and its WebDriver come from the system's packages, installed by
``scripts/install-test-deps.sh`` (``make test`` runs it first). Screenshots are kept in
``artifacts/`` (git-ignored) as evidence of what the browser showed.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.test_datasette_search import get_json, like_scan

from .system_tools import require

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1400",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    chromium = require("chromium", "chromium", "chromium-browser")
    driver_path = require("chromium", "chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(check: Callable[[], object], timeout: float = 20) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("the page did not render in time")


def test_search_page_for_dangjian(browser, datasette_url, crawled):
    query = "党建"
    browser.get(f"{datasette_url}/news/articles?_size=max&_search={urllib.parse.quote(query)}")
    wait_for(lambda: browser.execute_script("return document.readyState") == "complete")
    ids = browser.execute_script(
        "return [...document.querySelectorAll('table.rows-and-columns td.col-id a')]"
        ".map(a => parseInt(a.textContent, 10))"
    )
    assert set(ids) == like_scan(crawled.db, query) and ids
    assert (
        browser.execute_script("return document.querySelector('input[name=_search]').value")
        == query
    )
    marks = wait_for(
        lambda: browser.execute_script(
            "return [...document.querySelectorAll('td mark')].map(m => m.textContent)"
        )
    )
    assert set(marks) == {query}
    # Every row shows the term in a highlighted title or body.
    rows_with_mark = browser.execute_script(
        "return [...document.querySelectorAll('table.rows-and-columns tbody tr')]"
        ".filter(tr => tr.querySelector('mark')).length"
    )
    assert rows_with_mark == len(ids)
    hidden = browser.execute_script(
        "var th = document.querySelector('th.col-content_hash');"
        "return th ? getComputedStyle(th).display : 'absent'"
    )
    assert hidden in ("none", "absent")
    browser.execute_script("document.querySelector('table.rows-and-columns').scrollIntoView()")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "search-dangjian.png"))


def test_trend_chart_for_zhuti_jiaoyu(browser, datasette_url, crawled):
    term = "主题教育"
    rows = get_json(
        f"{datasette_url}/news/term_trend.json?_shape=array&term=" + urllib.parse.quote(term)
    )
    assert len(rows) >= 2, "the sample sites should mention 主题教育 in several months"
    chart = (
        "#g.mark=line&g.x_column=month&g.x_type=ordinal&g.y_column=articles&g.y_type=quantitative"
    )
    browser.get(f"{datasette_url}/news/term_trend?term={urllib.parse.quote(term)}{chart}")
    size = wait_for(
        lambda: browser.execute_script(
            "var c = document.querySelector('canvas');"
            "return c && c.width > 200 && c.height > 100 ? [c.width, c.height] : null"
        )
    )
    assert size
    # The chart has been drawn: count the canvas pixels that are not background.
    drawn = wait_for(
        lambda: browser.execute_script(
            "var c = document.querySelector('canvas'), ctx = c.getContext('2d');"
            "var d = ctx.getImageData(0, 0, c.width, c.height).data, n = 0;"
            "for (var i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; }"
            "return n > 500 ? n : 0"
        )
    )
    assert drawn
    table_rows = browser.execute_script(
        "return document.querySelectorAll('table.rows-and-columns tbody tr').length"
    )
    assert table_rows == len(rows)
    total = (
        sqlite3.connect(crawled.db)
        .execute("select count(distinct article_id) from article_terms where term = ?", [term])
        .fetchone()[0]
    )
    assert sum(r["articles"] for r in rows) <= total
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "trend-zhuti-jiaoyu.png"))
