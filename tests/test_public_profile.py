"""`dangjian serve --public`: canned queries and tables only, inert article text, security headers.

A real `dangjian serve --public` on a copy of the crawl, with one hostile article added (script
tags, a ``javascript:`` link, event attributes); a headless Chromium opens its page and proves
nothing in it runs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.ingest import ingest_page
from pipeline.model import RawPage
from pipeline.store import Store

from .conftest import dangjian, free_port, stop, wait_for_http
from .test_browser import ARTIFACTS, browser, wait_for  # noqa: F401 - the Chromium fixture

pytestmark = pytest.mark.e2e

HOSTILE_URL = "http://127.0.0.1:1/col/202401/t20240102_666.html"
# Markup written as text on the page (entities in its source): the stored article text then
# holds real "<script>" characters, which every page must show, never run.
HOSTILE_TEXT = (
    "&lt;script&gt;window.__pwned = 1&lt;/script&gt;"
    '&lt;img src="x" onerror="window.__pwned = 2"&gt;'
    '&lt;a href="javascript:window.__pwned = 3"&gt;点此&lt;/a&gt;'
)
HOSTILE = (
    "<html><head><title>机关党建工作推进会召开</title></head><body>"
    "<h1>机关党建工作推进会召开</h1><div>发布时间：2024-01-02 09:00</div><div id='zoom'>"
    + "".join(
        f"<p>第{i}段：会议强调，要坚持党建引领，推动机关党建高质量发展。{HOSTILE_TEXT if i == 3 else ''}</p>"
        for i in range(10)
    )
    + "</div></body></html>"
)


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


@pytest.fixture(scope="module")
def public(crawled, tmp_path_factory) -> Iterator[tuple[str, int]]:
    """`dangjian serve --public` on a copy of the crawl plus a hostile article; (url, its id)."""
    db = tmp_path_factory.mktemp("public") / "news.db"
    shutil.copy(crawled.db, db)
    store = Store(db)
    try:
        site = next(iter(store.db.query("select id from sites order by id limit 1")))["id"]
        page = RawPage(
            url=HOSTILE_URL,
            final_url=HOSTILE_URL,
            status=200,
            headers={"content-type": "text/html; charset=utf-8"},
            body=HOSTILE.encode("utf-8"),
            fetched_at="2024-01-02T01:00:00Z",
            site_id=site,
            run_id="hostile",
            kind="article",
        )
        outcome = ingest_page(store, page)
        text = store.db["articles"].get(outcome.article_id)["text"]
        assert "<script>window.__pwned = 1</script>" in text  # the test is not vacuous
    finally:
        store.close()
    assert outcome.article_id, outcome
    port = free_port()
    proc = subprocess.Popen(
        dangjian("serve", "--public", "--db", str(db), "--port", str(port)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/-/versions.json")
        yield url, outcome.article_id
    finally:
        stop(proc)


def test_arbitrary_sql_is_off_but_canned_queries_and_tables_answer(public):
    url, _ = public
    status, _, _ = fetch(url + "/news.json?sql=select+count(*)+from+articles")
    assert status == 403
    status, _, body = fetch(url + "/news/site_health.json?_shape=array")
    assert status == 200 and json.loads(body)
    status, _, body = fetch(url + "/news/articles.json?_shape=array&_size=max")
    assert status == 200 and 0 < len(json.loads(body)) <= 500


def test_no_download_and_tight_limits(public):
    url, _ = public
    assert fetch(url + "/news.db")[0] == 403
    settings = json.loads(fetch(url + "/-/settings.json")[2])
    assert settings["default_allow_sql"] is False
    assert settings["allow_download"] is False and settings["allow_csv_stream"] is False
    assert settings["max_returned_rows"] == 500 and settings["sql_time_limit_ms"] <= 1500


def test_every_page_carries_the_security_headers(public, datasette_url):
    for base in (public[0], datasette_url):  # the headers are on in every profile
        status, headers, _ = fetch(base + "/news/articles")
        assert status == 200
        policy = headers["content-security-policy"]
        assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"


def test_hostile_article_text_is_inert_in_a_browser(public, browser):  # noqa: F811
    url, article_id = public
    status, _, html = fetch(f"{url}/news/articles/{article_id}")
    assert status == 200
    page = html.decode("utf-8")
    assert "<script>window.__pwned" not in page and 'onerror="' not in page
    assert 'href="javascript:' not in page
    browser.get(f"{url}/news/articles/{article_id}")
    wait_for(lambda: browser.execute_script("return document.readyState") == "complete")
    # The hostile markup is shown as text, and none of it ran.
    assert browser.execute_script("return window.__pwned === undefined")
    assert "window.__pwned = 1" in browser.execute_script("return document.body.innerText")
    assert not browser.execute_script(
        "return [...document.querySelectorAll('a')].some(a => a.href.startsWith('javascript:'))"
        " || document.querySelectorAll('[onerror]').length > 0"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "hostile-article-public.png"))


def test_documented_plain_datasette_flags_match_the_profile():
    """docs/operations.md's `datasette ... --setting` line is the profile, value for value."""
    import re

    import yaml

    root = Path(__file__).resolve().parents[1]
    doc = (root / "docs" / "operations.md").read_text(encoding="utf-8")
    block = doc[doc.index("## A public Datasette") :]
    flags = dict(re.findall(r"--setting (\w+) (\w+)", block))
    profile = {
        **yaml.safe_load((root / "datasette.yaml").read_text(encoding="utf-8"))["settings"],
        **yaml.safe_load((root / "datasette-public.yaml").read_text(encoding="utf-8"))["settings"],
    }
    as_flag = {
        k: ("on" if v else "off") if isinstance(v, bool) else str(v) for k, v in profile.items()
    }
    assert flags == as_flag
