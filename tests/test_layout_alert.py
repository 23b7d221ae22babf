"""A site whose start page shows no article link: the layout alert names the URL and its links."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from .conftest import run_crawl

HOST = "127.0.0.34"
# The site changed its article scheme: /news/2024/0101/1.html no longer matches the entry.
START_PAGE = """<html><body><a href="/">首页</a> <a href="/news/2024/0101/1.html">党建要闻</a>
<a href="/files/notice.pdf">通知附件</a> <a href="http://elsewhere.example.cn/">友情链接</a></body></html>"""


@pytest.fixture
def server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == "/news/index.html"
            body = START_PAGE.encode("utf-8") if found else b""
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer((HOST, 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://{HOST}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_layout_alert_names_start_url_and_links_seen(server, tmp_path):
    registry = tmp_path / "sites.yml"
    entry = {
        "id": "changed-site",
        "name": "改版的党建网",
        "level": "city",
        "start_urls": [server + "/news/index.html", server + "/gone/index.html"],
        "article_patterns": [r"/news/\d{6}/t\d{8}_\d+\.html$"],
        "sample": True,
        "delay": 0,
    }
    registry.write_text(yaml.safe_dump({"sites": [entry]}, allow_unicode=True), encoding="utf-8")
    result = run_crawl(registry, tmp_path / "news.db", timeout=120)
    assert result.returncode == 0, result.output
    row = sqlite3.connect(tmp_path / "news.db").execute("select alerts from crawl_runs").fetchone()
    alerts = {a["kind"]: a["message"] for a in json.loads(row[0])}
    message = alerts["layout"]
    assert f"start URL {server}/news/index.html (HTTP 200) gave no article link" in message
    assert f"{server}/news/2024/0101/1.html" in message and "(1 off-site)" in message
    assert f"start URL {server}/gone/index.html (HTTP 404)" in message
