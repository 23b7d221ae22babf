"""Search and page benchmark: the pages analysts open, at realistic article lengths (issue 14).

Generates articles of realistic length (``bench.corpus``: 500-6,000 characters, median 2,000,
with the source of that distribution) straight into a fresh database created by ``Store``,
builds the search index, term counts, regions and summaries with the shipped
``Store.rebuild_search_index`` (what ``dangjian reindex`` runs), starts ``dangjian serve`` on
it and times, one client at a time:

* every search query shape (common, mid-frequency, rare, AND, OR, NOT, phrase, one
  character) through the JSON API (first page of 20) and as the HTML search page;
* the database page, the articles table with its default facets, filtered tables, the
  facet JSON of the README, an article page;
* every canned query in ``metadata.yml``, with realistic parameters.

    python -m bench.bench_search --quick                     # ~10,000 articles
    python -m bench.bench_search --sizes 200000 --keep /tmp/bench
    python -m bench.bench_search --db /tmp/bench/news-200000.db   # time pages again

The load benchmark (``bench.bench_load``) serves the same generated databases.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.corpus import DAYS, FIRST_DAY, Corpus, sites
from pipeline.store import Store

ROOT = Path(__file__).resolve().parents[1]
REPRINT_SHARE = 0.15  # articles that republish an earlier one (same text, another site)
QUERIES = {
    "common `党建`": "党建",
    "common 4-char `主题教育`": "主题教育",
    "mid `国家安全`": "国家安全",
    "rare `鲲鹏`": "鲲鹏",
    "rare 4-char `红色基因`": "红色基因",
    "AND `主题教育 三会一课`": "主题教育 三会一课",
    "OR `巡察 OR 模范机关`": "巡察 OR 模范机关",
    "NOT `三会一课 -党建`": "三会一课 -党建",
    'phrase `"国家安全 党建"`': '"国家安全 党建"',
    "1-char `党`": "党",
}


def generate(path: Path, n: int, seed: int = 14) -> dict[str, float]:
    """Create ``path`` with ``n`` realistic articles, indexed; return build figures."""
    for old in path.parent.glob(path.name + "*"):
        old.unlink()  # a kept database from an earlier run
    path.parent.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(seed)
    store = Store(path)
    registry = sites(seed)
    store.save_sites(registry)
    db = store.db.conn
    rng = random.Random(seed)
    # Sites publish unevenly (a few big portals, many small district sites). Regions are
    # stored with each article, as the pipeline does (Store.save_article).
    weights = [1 / (i + 5) for i in range(len(registry))]
    t0 = time.perf_counter()
    batch: list[tuple] = []
    recent: list[tuple[str, str]] = []  # (title, text) of recent articles, for reprints
    text_chars = 0
    for i in range(1, n + 1):
        entry = rng.choices(registry, weights)[0]
        site = entry["id"]
        day = FIRST_DAY + (i * DAYS) // n  # ids grow with the publish date, as in a crawl
        published = time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
        if rng.random() < 0.5:
            published += f"T{rng.randrange(7, 22):02d}:{rng.randrange(60):02d}"
        duplicate_of = None
        if recent and rng.random() < REPRINT_SHARE:
            back = rng.randrange(1, min(len(recent), 200) + 1)
            duplicate_of = i - back
            title, text = recent[-back]
        else:
            title, text = corpus.title(rng), corpus.body(rng)
        recent.append((title, text))
        if len(recent) > 400:
            del recent[:200]
        text_chars += len(title) + len(text)
        batch.append(
            (
                i,
                f"http://{site}.example/art/{i}.html",
                site,
                title,
                published,
                published[:7],
                published[:4],
                "hans",
                text,
                title,
                text,
                f"h{i}" if duplicate_of is None else f"h{duplicate_of}",
                duplicate_of,
                1,
                entry["level"],
                entry["province"],
                entry["city"],
            )
        )
        if len(batch) == 5000 or i == n:
            with store.db.atomic():
                db.executemany(
                    "insert into articles (id, url, site_id, title, published, published_month,"
                    " published_year, script, text, title_original, text_original,"
                    " content_hash, duplicate_of, revision, level, province, city) "
                    "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    batch,
                )
            batch = []
    # One cluster per reprinted original (what pipeline.store.clusters would find).
    with store.db.atomic():
        db.execute(
            "insert into clusters (original_id, size, sites, first_published, last_published) "
            "select duplicate_of, count(*) + 1, count(distinct site_id) + 1, min(published), "
            "max(published) from articles where duplicate_of is not null group by duplicate_of"
        )
        db.execute(
            "update articles set cluster_id = (select id from clusters c "
            "where c.original_id = coalesce(articles.duplicate_of, articles.id))"
        )
    generated = time.perf_counter() - t0
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    text_mb = _text_bytes(db) / 2**20
    size_before = _index_bytes(db)
    t0 = time.perf_counter()
    count = store.rebuild_search_index()
    built = time.perf_counter() - t0
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    figures = {
        "articles": n,
        "generate_s": generated,
        "build_s": built,
        "rate": count / built,
        "index_mb": (_index_bytes(db) - size_before) / 2**20,
        "text_mb": text_mb,
        "mean_chars": text_chars / n,
        "db_mb": _db_size(path) / 2**20,
    }
    store.close()
    return figures


def _text_bytes(conn: sqlite3.Connection) -> int:
    """UTF-8 bytes of the text the index covers (title and body of every article)."""
    return conn.execute(
        "select sum(length(cast(coalesce(title, '') as blob)) "
        "+ length(cast(coalesce(text, '') as blob))) from articles"
    ).fetchone()[0]


def _index_bytes(conn: sqlite3.Connection) -> int:
    """Bytes of the search index's tables (dbstat: pages they use)."""
    try:
        return conn.execute(
            "select coalesce(sum(pgsize), 0) from dbstat where name like 'articles_fts%'"
        ).fetchone()[0]
    except sqlite3.OperationalError:  # SQLite without dbstat
        return 0


def _db_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(db: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    """Start ``dangjian serve`` (the settings we ship) on ``db``; return it and its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dangjian", "serve", "--db", str(db), "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/-/versions.json", timeout=5).read()
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("dangjian serve did not start")


@dataclass
class Timing:
    p50: float
    p95: float
    status: int
    body: bytes
    first: float  # the first request: nothing about it kept yet (search ids, pages)


def fetch(url: str, timeout: float = 60) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def measure(url: str, repeat: int) -> Timing:
    """Time ``repeat`` GETs of ``url`` after one warm-up; milliseconds."""
    times: list[float] = []
    status, body = 0, b""
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        status, body = fetch(url)
        times.append((time.perf_counter() - t0) * 1000)
    first, times = times[0], sorted(times[1:])  # the first also warms SQLite's page cache
    return Timing(
        statistics.median(times),
        times[max(0, -(-len(times) * 95 // 100) - 1)],
        status,
        body,
        first,
    )


def pages(db: Path) -> dict[str, str]:
    """The pages to time on ``db``: label -> path (with realistic parameters from the data)."""
    conn = sqlite3.connect(db)
    article_id = conn.execute("select max(id) / 2 from articles").fetchone()[0]
    reprinted = conn.execute("select original_id from clusters order by size desc limit 1")
    reprinted_id = (reprinted.fetchone() or [article_id])[0]
    site = conn.execute(
        "select site_id from articles group by site_id order by count(*) desc limit 1"
    ).fetchone()[0]
    month = conn.execute(
        "select published_month from articles where id = ?", [article_id]
    ).fetchone()[0]
    conn.close()
    q = urllib.parse.quote
    out = {
        "database page `/news`": "/news",
        "articles, default facets": "/news/articles",
        "filtered: `?province=浙江省`": "/news/articles?province=" + q("浙江省"),
        f"filtered: `?published_month={month}`": f"/news/articles?published_month={month}",
        "filtered: province + level + reprint": (
            "/news/articles?province=" + q("浙江省") + "&level=city&reprint=1"
        ),
        "facet JSON (README)": (
            "/news/articles.json?_facet=province&_facet=published_month&_size=0"
        ),
        "article page": f"/news/articles/{article_id}",
        "article page (a reprinted original)": f"/news/articles/{reprinted_id}",
        "article_terms table": "/news/article_terms",
    }
    for label, query in QUERIES.items():
        out[f"search page: {label}"] = "/news/articles?_search=" + q(query)
    params = {
        "search_ranked": {"q": "红色基因"},
        "term_trend": {"term": "主题教育"},
        "term_trend_by_province": {"term": "党建"},
        "top_terms_for_site": {"site_id": site},
        "top_terms_for_month": {"month": month},
        "terms_together": {"term1": "党建", "term2": "主题教育"},
        "most_republished": {"month": month},
        "site_feed": {"site_id": site},
    }
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    for name in metadata["databases"]["news"]["queries"]:
        query = urllib.parse.urlencode(params.get(name, {}))
        out[f"canned: `{name}`"] = f"/news/{name}" + (f"?{query}" if query else "")
    out["canned: `search_ranked` common `党建`"] = "/news/search_ranked?q=" + q("党建")
    return out


def search_table(url: str, repeat: int) -> list[str]:
    lines = [
        "| query | matches | API first ms | API p50 ms | API p95 ms | page p50 ms | page p95 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, query in QUERIES.items():
        path = "/news/articles.json?_size=20&_search=" + urllib.parse.quote(query)
        api = measure(url + path + "&_shape=array", repeat)
        page = measure(url + path + "&_shape=objects", repeat)
        data = json.loads(page.body)
        count = data.get("filtered_table_rows_count")
        described = data.get("human_description_en") or ""
        shown = f"{count:,}" if count is not None else _estimate(described)
        lines.append(
            f"| {label} | {shown} | {api.first:.0f} | {api.p50:.0f} | {api.p95:.0f} | "
            f"{page.p50:.0f} | {page.p95:.0f} |"
        )
        print(lines[-1], file=sys.stderr, flush=True)
    return lines + [""]


def _estimate(described: str) -> str:
    if m := re.search(r"about ([0-9][0-9,]*[0-9])", described):
        return f"≈ {m[1]} (estimated)"
    if m := re.search(r"more than ([0-9][0-9,]*[0-9])", described):
        return f"> {m[1]}"
    return "not counted"


def page_table(url: str, db: Path, repeat: int) -> list[str]:
    lines = ["| page | status | first ms | p50 ms | p95 ms |", "|---|---:|---:|---:|---:|"]
    for label, path in pages(db).items():
        timing = measure(url + path, repeat)
        lines.append(
            f"| {label} | {timing.status} | {timing.first:.0f} | {timing.p50:.0f} | "
            f"{timing.p95:.0f} |"
        )
        print(lines[-1], file=sys.stderr, flush=True)
    return lines + [""]


def latency_tables(db: Path, repeat: int) -> list[str]:
    """Serve ``db`` and return the Markdown of the search and page tables.

    The server keeps no rendered page (``cache_memory_mb: 0``), so every timed request is
    rendered: these are the times of a page nobody asked for since the last crawl.
    """
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    metadata.setdefault("plugins", {}).setdefault("dangjian", {})["cache_memory_mb"] = 0
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False, encoding="utf-8") as f:
        yaml.safe_dump(metadata, f, allow_unicode=True)
    proc, url = serve(db, "--metadata", f.name)
    try:
        return [
            "Every request rendered (the server keeps no page: `cache_memory_mb: 0`); *first* is "
            "the first request of a URL (SQLite's page cache and the search's kept ids not warm "
            "yet), p50/p95 over the next ones. Search: "
            "*API* is `articles.json?_search=…&_size=20&_shape=array`; *page* is "
            "`_shape=objects` (what the HTML page computes: count and default facets).\n",
            *search_table(url, repeat),
            "Pages (HTML unless `.json`) and canned queries:\n",
            *page_table(url, db, repeat),
        ]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        os.unlink(f.name)


def build_line(built: dict[str, float]) -> str:
    return (
        f"{built['articles']:,} articles, mean {built['mean_chars']:,.0f} characters "
        f"(title + body). Index build (`Store.rebuild_search_index`, what `dangjian reindex` "
        f"runs: search index, term counts, regions, summaries): **{built['rate']:,.0f} "
        f"articles/s** ({built['build_s']:,.0f} s). Search index {built['index_mb']:,.0f} MiB "
        f"for {built['text_mb']:,.0f} MiB of indexed text (UTF-8): "
        f"{built['index_mb'] / built['text_mb']:.2f}× the text. Database "
        f"{built['db_mb']:,.0f} MiB.\n"
    )


def run(quick: bool = False, sizes: list[int] | None = None, keep: Path | None = None) -> str:
    """Run the benchmark; return a Markdown section.

    Args:
        quick: one small size (``make bench`` quick mode).
        sizes: numbers of articles to generate (default 100,000).
        keep: a folder to keep the generated databases in (``news-<n>.db``), for ``--db``
            and for ``bench.bench_load``.
    """
    sizes = sizes or ([10_000] if quick else [100_000])
    repeat = 10 if quick else 20
    lines = [
        "## Search and pages (one client)\n",
        "Generated articles of realistic length (`bench/corpus.py`: 500-6,000 characters, "
        "median 2,000, title and body stored twice as in a crawl); the shipped settings "
        f"(`dangjian serve`). {repeat} timed requests each after one warm-up.\n",
    ]
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            db = (keep or Path(tmp)) / (f"news-{n}.db" if keep else "news.db")
            built = generate(db, n)
            lines.append(f"### {n:,} articles\n")
            lines.append(build_line(built))
            lines += latency_tables(db, repeat)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="*")
    parser.add_argument("--db", type=Path, help="only time pages on this generated database")
    parser.add_argument("--keep", type=Path, help="keep the generated databases in this folder")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.db:
        print("\n".join(latency_tables(args.db, args.repeat)))
    else:
        print(run(args.quick, args.sizes, args.keep))
