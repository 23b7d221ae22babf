"""HTTP caching: ETags from the data version, Cache-Control, 304s, several processes agree.

Real ``dangjian serve`` processes on loopback over a database written by ``Store``.
"""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.dedupe import content_hash
from pipeline.store import Store
from tests.conftest import dangjian, free_port, stop, wait_for_http

pytestmark = pytest.mark.e2e

TEXT = "市直机关工委召开党建工作推进会，深入开展主题教育。\n严格落实三会一课制度。"
PAGES = [
    "/news",
    "/news.json",
    "/news/articles",
    "/news/articles.json?_shape=array",
    "/news/articles.csv",
    "/news/articles/1",
    "/news/articles?_search=%E5%85%9A%E5%BB%BA",
    "/news/term_trend.json?term=%E4%B8%BB%E9%A2%98%E6%95%99%E8%82%B2",
    "/news/feed.atom",
]


def write_article(store: Store, n: int) -> None:
    text = TEXT + f"第{n}条。"
    store.save_article(
        {
            "url": f"http://hz.example/{n}.html",
            "site_id": "hz",
            "title": f"党建工作推进会{n}",
            "text": text,
            "published": f"2024-03-{n:02d}",
            "published_month": "2024-03",
            "published_year": "2024",
            "content_hash": content_hash(text),
        }
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("caching") / "news.db"
    store = Store(path)
    store.save_sites([{"id": "hz", "name": "杭州", "level": "city", "province": "浙江省"}])
    for n in range(1, 4):
        write_article(store, n)
    store.close()
    return path


def serve(db: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        dangjian("serve", "--db", str(db), "--port", str(port)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/-/versions.json")
    except RuntimeError:
        stop(proc)
        raise
    return proc, url


@pytest.fixture(scope="module")
def two_servers(db) -> Iterator[tuple[str, str]]:
    first, second = serve(db), serve(db)
    try:
        yield first[1], second[1]
    finally:
        stop(first[0])
        stop(second[0])


def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_an_etag_and_answer_304_when_it_matches(two_servers, path):
    url = two_servers[0]
    status, headers, body = get(url + path)
    assert status == 200 and body
    etag = headers["etag"]
    assert etag.startswith('W/"')
    assert headers["cache-control"] == "public, max-age=60, stale-while-revalidate=300"
    status, headers, body = get(url + path, **{"If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert headers["etag"] == etag and headers["cache-control"].startswith("public")
    status, _, body = get(url + path, **{"If-None-Match": 'W/"something-else"'})
    assert status == 200 and body


def test_two_processes_give_the_same_etag(two_servers):
    first, second = two_servers
    assert get(first + "/news/articles")[1]["etag"] == get(second + "/news/articles")[1]["etag"]


def test_a_write_changes_the_etag_and_the_old_one_gets_the_new_page(db, two_servers):
    url = two_servers[0]
    _, headers, _ = get(url + "/news/articles.json?_shape=array")
    before = headers["etag"]
    store = Store(db)
    write_article(store, 9)
    store.close()
    status, headers, body = get(
        url + "/news/articles.json?_shape=array", **{"If-None-Match": before}
    )
    assert status == 200 and b"9.html" in body
    assert headers["etag"] != before
    # The other process sees the same new version.
    assert get(two_servers[1] + "/news/articles.json?_shape=array")[1]["etag"] == headers["etag"]


def test_what_is_left_alone(two_servers):
    url = two_servers[0]
    for path in ("/-/versions.json", "/news/articles/999999", "/news/nonexistent"):
        status, headers, _ = get(url + path)
        assert "etag" not in {k.lower() for k in headers}, path
    # A request with a cookie (a signed-in actor may see more) is not cached.
    _, headers, _ = get(url + "/news/articles", Cookie="ds_actor=x")
    assert "etag" not in {k.lower() for k in headers}
    # ?_ttl= keeps Datasette's own Cache-Control.
    _, headers, _ = get(url + "/news/articles?_ttl=0")
    assert headers["cache-control"] == "no-cache"


def test_a_kept_page_is_never_served_after_a_write(db, two_servers):
    """Each process keeps rendered pages by ETag: a write makes them unreachable at once."""
    url = two_servers[1] + "/news/articles.json?_shape=array&_col=url"
    first = get(url)
    assert get(url)[2] == first[2]  # the second answer is the kept page, the same bytes
    store = Store(db)
    write_article(store, 11)
    store.close()
    status, headers, body = get(url)
    assert status == 200 and b"11.html" in body and headers["etag"] != first[1]["etag"]


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return {int(line) for line in out.stdout.split()}


def test_serve_processes_runs_n_datasettes_on_one_address_and_stops_them(db):
    """``dangjian serve --processes 2``: two processes answer on one port; SIGTERM stops all."""
    import os
    import signal
    import time

    port = free_port()
    proc = subprocess.Popen(
        dangjian("serve", "--db", str(db), "--port", str(port), "--processes", "2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/-/versions.json")
        # The spawn context's resource tracker is a child too: count the spawned servers.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            servers = {
                pid
                for pid in _children(proc.pid)
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
            }
            if len(servers) == 2:
                break
            time.sleep(0.2)
        assert len(servers) == 2
        etags = {get(url + "/news/articles")[1]["etag"] for _ in range(6)}
        assert len(etags) == 1  # every process gives the same page the same ETag
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        for pid in servers:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
                time.sleep(0.1)
            assert (
                not os.path.exists(f"/proc/{pid}")
                or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
            )
    finally:
        stop(proc)
