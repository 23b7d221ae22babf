"""`dangjian discover` end to end over loopback: every sample site from its home URL alone.

The sample sites' home pages (sample_sites/home.py) mix their party-building columns with
distractors; ``PARTY_COLUMNS`` says which columns a discovery must find. Targets (issue #16):
at least 95 % of those columns found, at most one wrong column per site, article and list
patterns right for every CMS family, and a crawl of the proposed entries stores the articles
the hand-written entries store for those columns.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from crawler.registry import parse_site
from pipeline.dedupe import canonical_url
from sample_sites import SAMPLE_SITE_IDS, build_sites, registry_entries, start_sample_sites
from sample_sites.catalog import ARTICLE
from sample_sites.home import PARTY_COLUMNS

from .conftest import dangjian

pytestmark = pytest.mark.e2e

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "--log-level", "WARNING"]


@pytest.fixture(scope="module")
def served():
    handle = start_sample_sites(port=0)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def sites():
    return build_sites(30)


@pytest.fixture(scope="module")
def proposed(served, tmp_path_factory) -> dict:
    """One `dangjian discover` of every sample site's home URL; proposals by sample site id."""
    out = tmp_path_factory.mktemp("discover") / "proposed.yml"
    homes = [served.addresses[s] + "/" for s in SAMPLE_SITE_IDS]
    ids = [a for s in SAMPLE_SITE_IDS for a in ("--id", s)]
    result = subprocess.run(
        dangjian("discover", *homes, *ids, "--out", str(out), *FAST),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    entries = yaml.safe_load(out.read_text(encoding="utf-8"))["sites"]
    return {e["id"]: e for e in entries} | {"_path": out}


def column_url(site, base: str, key: str) -> str:
    return base + site.list_path(key, 1)


def found_columns(entry: dict, site, base: str) -> tuple[set[str], set[str]]:
    """The proposed start URLs that are the site's columns (by key), and the others."""
    keys = {
        canonical_url(column_url(site, base, c.key)).rstrip("/"): c.key for c in site.spec.columns
    }
    folders = {
        canonical_url(column_url(site, base, c.key)).rsplit("/", 1)[0]: c.key
        for c in site.spec.columns
    }
    found, wrong = set(), set()
    for url in entry["start_urls"]:
        key = keys.get(canonical_url(url).rstrip("/")) or folders.get(
            canonical_url(url).rstrip("/")
        )
        (found.add(key) if key in PARTY_COLUMNS[site.id] else wrong.add(key or url))
    return found, wrong


def test_party_columns_found_on_every_site(proposed, served, sites):
    total = hit = 0
    report = []
    for site_id in SAMPLE_SITE_IDS:
        found, wrong = found_columns(proposed[site_id], sites[site_id], served.addresses[site_id])
        want = set(PARTY_COLUMNS[site_id])
        total += len(want)
        hit += len(found & want)
        report.append(
            f"{site_id}: {len(found & want)}/{len(want)} found, {len(wrong)} wrong {sorted(wrong)}"
        )
        assert len(wrong) <= 1, report[-1]
    print("\n".join(report))
    assert hit / total >= 0.95, "\n".join(report)


def test_entries_are_valid_and_name_the_site(proposed, served):
    hand = {e["id"]: e for e in registry_entries(served.addresses)}
    for site_id in SAMPLE_SITE_IDS:
        entry = proposed[site_id]
        parse_site(entry)  # a valid registry entry
        assert entry["discovery"]["confidence"] > 0.5, site_id
        assert entry["discovery"]["requests"] <= 30, site_id
        for key in ("level", "province", "city", "district"):
            assert entry[key] == hand[site_id][key], (site_id, key, entry[key])
        for column in entry["discovery"]["columns"]:
            assert column["evidence"], (site_id, column)


def test_robots_txt_is_obeyed(proposed):
    rejected = " ".join(proposed["wuhan-tzb"]["discovery"]["rejected"])
    assert "/xwzx/nbzl/" in rejected and "robots.txt disallows it" in rejected


def test_home_page_redirect_is_followed(proposed, served):
    entry = proposed["jiangcheng-epaper"]
    assert entry["home_url"].endswith("/pc/html/2024-12/31/index.htm")
    assert entry["discovery"]["redirects"]


CMS = {
    "wuchang-museum": "phpcms",
    "wuhan-tzb": "trs-wcm",
    "gzdaily-dangjian": "founder",
    "xuzhou-jgdj": "hanweb",
    "jiangcheng-epaper": "founder-epaper",
    "oujiang-jgdj": "hanweb-zj",
}
PAGINATION = {
    "wuchang-museum": "query",
    "wuhan-tzb": "index_N",
    "qikan-aggregator": "path_N",
    "gzdaily-dangjian": "path_N",
    "xuzhou-jgdj": "query",
    "old-district": "query",
    "mirror-hant": "path_N",
    "renmin-dangjian": "indexN",
    "xianfeng-dangyuan": "none",
    "jiangcheng-epaper": "none",
    "zhongyuan-jgdj": "index_N",
    "oujiang-jgdj": "query",
    "hongse-museum": "index_N",
}


@pytest.mark.parametrize("site_id", SAMPLE_SITE_IDS)
def test_cms_pagination_and_patterns_per_family(site_id, proposed, served, sites):
    entry, site, base = proposed[site_id], sites[site_id], served.addresses[site_id]
    assert entry["cms"] == CMS.get(site_id, "unknown")
    evidence = " ".join(" ".join(c["evidence"]) for c in entry["discovery"]["columns"])
    assert f"pagination {PAGINATION[site_id]}" in evidence, evidence
    articles = [re.compile(p) for p in entry["article_patterns"]]
    lists = [re.compile(p) for p in entry["list_patterns"]]
    for key in PARTY_COLUMNS[site_id]:
        for entry_ in site.catalog.columns[key]:
            if entry_.kind == ARTICLE:
                url = base + entry_.link
                assert any(p.search(url) for p in articles), (url, entry["article_patterns"])
        for page in range(1, site.pages(key) + 1):
            url = base + site.list_path(key, page)
            assert any(p.search(url) for p in lists), (url, entry["list_patterns"])
            assert not any(p.search(url) for p in articles), url


def expected_urls(site, base: str, keys) -> set[str]:
    return {
        canonical_url(base + e.path)
        for key in keys
        for e in site.catalog.columns[key]
        if e.kind == ARTICLE
    }


def crawl(entries: list[dict], tmp_path: Path, name: str) -> dict[str, set[str]]:
    """Crawl registry entries into a fresh database; stored article URLs by site."""
    registry = tmp_path / f"{name}.yml"
    registry.write_text(yaml.safe_dump({"sites": entries}, allow_unicode=True), encoding="utf-8")
    db = tmp_path / f"{name}.db"
    result = subprocess.run(
        dangjian("crawl", "--sample", "--sites", str(registry), "--db", str(db), "--no-progress"),
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert db.exists(), result.stdout + result.stderr
    conn = sqlite3.connect(db)
    stored: dict[str, set[str]] = {}
    for site_id, url in conn.execute("select site_id, url from articles"):
        stored.setdefault(site_id, set()).add(url)
    conn.close()
    return stored


def test_crawling_the_proposals_stores_the_hand_written_articles(proposed, served, sites, tmp_path):
    """Crawl the proposed entries and the hand-written ones: every site stores the same
    articles when the proposal has the hand-written columns, and otherwise all the articles
    of its party columns and nothing the hand-written crawl does not store."""
    entries = []
    for site_id in SAMPLE_SITE_IDS:
        entry = {k: v for k, v in proposed[site_id].items() if k != "discovery"}
        entries.append(entry | {"enabled": True, "sample": True, "delay": 0})
    got = crawl(entries, tmp_path, "proposed")
    hand = crawl(registry_entries(served.addresses), tmp_path, "hand-written")
    starts = {s.id: {c.key for c in s.spec.columns if c.crawlable} for s in sites.values()}
    same = []
    for site_id in SAMPLE_SITE_IDS:
        site, base = sites[site_id], served.addresses[site_id]
        mine, theirs = got.get(site_id, set()), hand.get(site_id, set())
        party = expected_urls(site, base, PARTY_COLUMNS[site_id])
        assert party <= mine, f"{site_id}: missing {sorted(party - mine)[:3]}"
        assert mine <= theirs, (
            f"{site_id}: not in the hand-written crawl {sorted(mine - theirs)[:3]}"
        )
        if set(PARTY_COLUMNS[site_id]) == starts[site_id]:
            assert mine == theirs, f"{site_id}: {sorted(theirs - mine)[:3]}"
        if mine == theirs:
            same.append(site_id)
    print(f"same articles as the hand-written entry: {len(same)}/{len(SAMPLE_SITE_IDS)} {same}")


def test_crawl_try_prints_a_list_page_and_three_articles(proposed, tmp_path):
    registry = tmp_path / "one.yml"
    entry = {k: v for k, v in proposed["wuhan-tzb"].items() if k != "discovery"}
    registry.write_text(
        yaml.safe_dump({"sites": [entry | {"delay": 0}]}, allow_unicode=True), encoding="utf-8"
    )
    result = subprocess.run(
        dangjian("crawl", "wuhan-tzb", "--sites", str(registry), "--try", *FAST),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert out.count("list page: HTTP 200") == 2, out
    assert len(re.findall(r"^  article .*\n    \d{4}-\d{2}-\d{2}", out, re.M)) == 6, out
    assert "nothing stored" in out


def test_a_site_takes_under_a_minute_at_default_politeness(served, tmp_path):
    """Robots.txt, a 1 s download delay and AutoThrottle, as for a real site."""
    url = served.addresses["wuhan-tzb"] + "/"
    started = time.monotonic()
    result = subprocess.run(
        dangjian("discover", url, "--log-level", "WARNING"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-2000:]
    seconds = yaml.safe_load(result.stdout)["sites"][0]["discovery"]["seconds"]
    print(f"wuhan-tzb at default politeness: {seconds} s in the spider, {elapsed:.1f} s in all")
    assert seconds >= 1.0  # the delay was honoured
    assert elapsed < 60


def test_host_guard_keeps_discovery_on_site(proposed, served):
    for site_id in SAMPLE_SITE_IDS:
        host = urlsplit(served.addresses[site_id]).hostname
        for url in proposed[site_id]["start_urls"]:
            assert urlsplit(url).hostname == host
