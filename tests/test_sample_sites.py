"""The sample sites: determinism, coverage of the seeds, and serving over loopback."""

from __future__ import annotations

import hashlib
import socket
import urllib.error
import urllib.request
import urllib.robotparser
from urllib.parse import urlsplit

import pytest

from sample_sites import (
    SAMPLE_SITE_IDS,
    build_sites,
    registry_entries,
    start_sample_sites,
)
from sample_sites.seeds import SEED_STEMS


@pytest.fixture(scope="module")
def sites():
    return build_sites(30)


@pytest.fixture(scope="module")
def served():
    handle = start_sample_sites(port=0)
    yield handle
    handle.stop()


def _digest(sites, paths_per_site: int = 6) -> str:
    h = hashlib.sha256()
    for site_id in SAMPLE_SITE_IDS:
        site = sites[site_id]
        paths = ["/robots.txt", site.home_path()] + [a.path for a in site.expected_articles()]
        for path in paths[:paths_per_site]:
            status, headers, body = site.respond(path)
            h.update(f"{site_id}{path}{status}{sorted(headers.items())}".encode())
            h.update(body)
    return h.hexdigest()


def test_ids_and_hosts(sites):
    assert len(SAMPLE_SITE_IDS) >= 7
    assert list(sites) == SAMPLE_SITE_IDS
    hosts = [site.default_host for site in sites.values()]
    assert hosts == [f"127.0.0.{11 + i}" for i in range(len(hosts))]


def test_deterministic(sites):
    again = build_sites(30)
    assert _digest(sites) == _digest(again)
    for site_id in SAMPLE_SITE_IDS:
        assert sites[site_id].expected_articles() == again[site_id].expected_articles()


def test_expected_articles_cover_seeds(sites):
    seen = set()
    for site in sites.values():
        articles = site.expected_articles()
        assert len(articles) >= 30, site.id
        assert len({a.path for a in articles}) == len(articles)
        seen.update(a.seed for a in articles if a.seed)
    assert seen == set(SEED_STEMS)


def test_every_expected_article_answers(sites):
    for site in sites.values():
        for article in site.expected_articles():
            status, headers, body = site.respond(article.path)
            assert status == 200, (site.id, article.path)
            assert headers["Content-Type"].startswith("text/html")
            text = body.decode(site.encoding)
            assert article.title.split("(")[0][:8] in text.replace("&#x", "(")


def test_republications_point_at_real_originals(sites):
    copies = 0
    for site in sites.values():
        for article in site.expected_articles():
            if article.republished_from:
                copies += 1
                origin_id, origin_path = article.republished_from
                origin = {a.path: a for a in sites[origin_id].expected_articles()}
                assert origin_path in origin
                assert origin[origin_path].title_simplified == article.title_simplified
    assert copies >= 30


def test_mirror_shows_pinyin_and_seed_text(sites):
    mirror = sites["mirror-hant"]
    seeds = {a.seed: a for a in mirror.expected_articles() if a.seed}
    assert set(seeds) == {SEED_STEMS[1], SEED_STEMS[3], SEED_STEMS[4]}
    body = mirror.respond(seeds[SEED_STEMS[4]].path)[2].decode()
    assert "自豪?!毙熘菔嗅t" in body and "版權(quán)聲明" in body
    assert "&#x" in body
    assert seeds[SEED_STEMS[1]].title_simplified.startswith("2023年市委统战部机关党的工作")


def test_gbk_site_is_not_utf8(sites):
    site = sites["old-district"]
    article = site.expected_articles()[0]
    status, headers, body = site.respond(article.path)
    assert headers["Content-Type"] == "text/html"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("gb18030")
    assert "charset=gb2312" in text and article.title in text


def test_failures_and_specials(sites):
    kinds = {}
    for site in sites.values():
        for path, kind in site.expected_failures():
            kinds.setdefault(kind, []).append((site, path))
    assert set(kinds) == {"dead-link", "malformed"}
    for site, path in kinds["dead-link"]:
        assert site.respond(path)[0] == 404
    for site, path in kinds["malformed"]:
        status, headers, body = site.respond(path)
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert b"<p>" not in body
    gz = sites["gzdaily-dangjian"]
    moved = [e for e in gz.catalog.entries if e.link != e.path]
    assert len(moved) == 1
    status, headers, _ = gz.respond(moved[0].link)
    assert status == 301 and headers["Location"] == moved[0].path
    status, headers, body = sites["xuzhou-jgdj"].respond("/attach/0/2023jgdjgzyd.pdf")
    assert headers["Content-Type"] == "application/pdf" and body.startswith(b"%PDF-1.4")
    assert body.rstrip().endswith(b"%%EOF")
    assert b"<loc>" in gz.respond("/sitemap.xml")[2]
    assert b"<rss" in sites["qikan-aggregator"].respond("/rss/djdt.xml")[2]
    assert sites["wuhan-tzb"].respond("/no/such/page.html")[0] == 404


def test_robots_disallows_linked_paths(sites):
    blocked = {site.id: site.disallowed_paths() for site in sites.values()}
    assert any(blocked.values())
    for site in sites.values():
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(site.respond("/robots.txt")[2].decode().splitlines())
        base = f"http://{site.default_host}"
        for path in blocked[site.id]:
            assert not parser.can_fetch("dangjian-news", base + path), path
        for article in site.expected_articles():
            assert parser.can_fetch("dangjian-news", base + article.path), article.path
    tzb = sites["wuhan-tzb"]
    listed = tzb.respond(tzb.expected_articles()[0].path)[2].decode()
    assert any(path in listed for path in blocked["wuhan-tzb"])


def test_big_sizes_stay_cheap():
    big = build_sites(2000)
    articles = big["old-district"].expected_articles()
    assert len(articles) == 2000
    assert big["old-district"].respond(articles[-1].path)[0] == 200


def test_served_over_loopback(served):
    assert set(served.addresses) == set(SAMPLE_SITE_IDS)
    for base in served.addresses.values():
        with urllib.request.urlopen(base + "/robots.txt", timeout=5) as response:
            assert response.status == 200
        request = urllib.request.Request(base + "/robots.txt", method="HEAD")
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200 and response.read() == b""
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(base + "/definitely-missing.html", timeout=5)
        assert err.value.code == 404


def test_registry_start_urls_answer(served):
    entries = registry_entries(served.addresses)
    assert [e["id"] for e in entries] == SAMPLE_SITE_IDS
    for entry in entries:
        assert entry["level"] in {"province", "city", "district"}
        assert entry["sample"] is True and entry["enabled"] is True
        for url in entry["start_urls"] + [entry["home_url"]]:
            assert urlsplit(url).hostname in {h.split(":")[0] for h in entry["allowed_hosts"]}
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.status == 200, url


def test_shared_host_mode_and_stop():
    handle = start_sample_sites(port=0, size=10, host="127.0.0.1")
    try:
        ports = {urlsplit(url).port for url in handle.addresses.values()}
        assert len(ports) == len(SAMPLE_SITE_IDS)
        entry = registry_entries(handle.addresses, size=10)[0]
        assert entry["allowed_hosts"][0].startswith("127.0.0.1:")
        url = next(iter(handle.addresses.values()))
        with urllib.request.urlopen(url + "/robots.txt", timeout=5) as response:
            assert response.status == 200
    finally:
        handle.stop()
    port = urlsplit(url).port
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
