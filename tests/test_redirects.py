"""Redirects across hosts, crawled for real over loopback.

A site moved to a known successor domain (fx361.com -> fx361.cc) must still be crawled: the
redirect is followed and logged. A redirect to any other host is still refused.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from .conftest import run_crawl

OLD, SUCCESSOR, ELSEWHERE = "127.0.0.31", "127.0.0.32", "127.0.0.33"
ARTICLE = "/col/202401/t20240101_1.html"
BODY = "<p>" + "机关党建工作稳步推进，党员干部扎实开展学习教育。" * 12 + "</p>"


class Hosts:
    """Three loopback servers: the old host, its successor and an unrelated host."""

    def __init__(self) -> None:
        self.servers: dict[str, ThreadingHTTPServer] = {}
        self.requests: dict[str, list[str]] = {OLD: [], SUCCESSOR: [], ELSEWHERE: []}

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.servers[host].server_address[1]}{path}"

    def answer(self, host: str, path: str) -> tuple[int, dict[str, str], str]:
        if path == "/robots.txt":
            return 404, {}, ""
        if host == OLD:
            # The column moved to the successor host; the other start URL points elsewhere.
            target = SUCCESSOR if path.startswith("/col/") else ELSEWHERE
            return 301, {"Location": self.url(target, path)}, ""
        if host == SUCCESSOR and path == "/col/index.html":
            return (
                200,
                {},
                f'<html><body><ul><li><a href="{ARTICLE}">党建要闻</a></li></ul></body></html>',
            )
        if host == SUCCESSOR and path == ARTICLE:
            page = (
                "<html><head><title>党建要闻</title></head><body><h1>党建要闻</h1>"
                f"<div>发布时间：2024-01-01 10:00</div><div id='zoom'>{BODY}</div></body></html>"
            )
            return 200, {}, page
        return 200, {}, "<html><body><a href='/away/202401/t20240101_2.html'>x</a></body></html>"


@pytest.fixture
def hosts() -> Iterator[Hosts]:
    state = Hosts()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host = self.server.server_address[0]
            state.requests[host].append(self.path)
            status, headers, text = state.answer(host, self.path)
            body = text.encode("utf-8")
            self.send_response(status)
            for key, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    for host in (OLD, SUCCESSOR, ELSEWHERE):
        state.servers[host] = ThreadingHTTPServer((host, 0), Handler)
        threading.Thread(target=state.servers[host].serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        for server in state.servers.values():
            server.shutdown()
            server.server_close()


def test_redirect_to_successor_is_followed_and_elsewhere_refused(hosts, tmp_path):
    registry = tmp_path / "sites.yml"
    entry = {
        "id": "moved-site",
        "name": "迁址的党建网",
        "level": "city",
        "start_urls": [hosts.url(OLD, "/col/index.html"), hosts.url(OLD, "/away/index.html")],
        # The old domain and its known successor; ELSEWHERE is not listed.
        "allowed_hosts": [OLD, SUCCESSOR],
        "article_patterns": [r"/\w+/\d{6}/t\d{8}_\d+\.html$"],
        "sample": True,
        "delay": 0,
    }
    registry.write_text(yaml.safe_dump({"sites": [entry]}, allow_unicode=True), encoding="utf-8")
    result = run_crawl(registry, tmp_path / "news.db", timeout=120)
    assert result.returncode == 0, result.output
    conn = sqlite3.connect(tmp_path / "news.db")
    pages = {r[0]: r[1] for r in conn.execute("select final_url, kind from pages")}
    assert pages.get(hosts.url(SUCCESSOR, "/col/index.html")) == "list", result.output
    assert pages.get(hosts.url(SUCCESSOR, ARTICLE)) == "article", result.output
    # Nothing of the unrelated host was fetched, not even its robots.txt.
    assert hosts.requests[ELSEWHERE] == []
    assert "followed redirect of site moved-site" in result.output
    assert "refused redirect of site moved-site" in result.output
