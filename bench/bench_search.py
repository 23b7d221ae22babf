"""Search benchmark: ``_search`` latency through Datasette's JSON API, index build rate and size.

Generates articles straight into a fresh database (schema from ``Store``), builds the bigram
index with ``pipeline.store.search`` exactly as the store does, starts ``dangjian serve`` on it and
asks for the first page of 20, newest first, for common and rare 2- and 4-character queries.

    python -m bench.bench_search --quick       # ~10,000 articles
    python -m bench.bench_search --sizes 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from pipeline.store import Store, search

ROOT = Path(__file__).resolve().parents[1]
# Frequent characters of news Chinese; random filler over them makes most bigrams rare, as in
# real text, while the planted words below give known frequencies.
FILLER = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工"
    "也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小"
    "物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形"
    "相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建"
    "月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长"
    "求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先"
)
PLANTED = {  # word: share of articles that contain it
    "党建": 0.60,
    "主题教育": 0.30,
    "三会一课": 0.05,
    "巡察": 0.003,
    "模范机关": 0.002,
    "鲲鹏": 0.0005,
    "两个维护": 0.0005,
}
QUERIES = {
    "2-char common": "党建",
    "4-char common": "主题教育",
    "2-char rare": "鲲鹏",
    "4-char rare": "两个维护",
    "2 terms": "党建 三会一课",
    "1-char": "党",
}
SITES = [(f"s{i:02d}", f"站点{i}", "浙江省" if i % 2 else "江苏省") for i in range(20)]


def _article(rng: random.Random, i: int) -> tuple:
    body = "".join(rng.choices(FILLER, k=400))
    title = "".join(rng.choices(FILLER, k=14))
    for word, share in PLANTED.items():
        if rng.random() < share:
            at = rng.randrange(len(body))
            body = body[:at] + word + body[at:]
    day = rng.randrange(365 * 7)
    published = time.strftime("%Y-%m-%d", time.gmtime(1546300800 + day * 86400))
    site = SITES[i % len(SITES)]
    return (
        i,
        f"http://{site[0]}.example/{i}.html",
        site[0],
        title,
        published,
        published[:7],
        published[:4],
        body,
        "hans",
        f"h{i}",
        site[2],
        "city",
    )


def generate(path: Path, n: int, seed: int = 5) -> dict[str, float]:
    """Create ``path`` with ``n`` articles and their search index; return build figures."""
    for old in path.parent.glob(path.name + "*"):
        old.unlink()  # a kept database from an earlier run
    store = Store(path)
    store.save_sites(
        [
            {
                "id": s,
                "name": name,
                "level": "city",
                "province": prov,
                "start_urls": [f"http://{s}.example/"],
            }
            for s, name, prov in SITES
        ]
    )
    db = store.db.conn
    rng = random.Random(seed)
    t0 = time.perf_counter()
    batch: list[tuple] = []
    for i in range(1, n + 1):
        batch.append(_article(rng, i))
        if len(batch) == 20000 or i == n:
            db.executemany(
                "insert into articles (id, url, site_id, title, published, published_month, "
                "published_year, text, script, content_hash, province, level) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch,
            )
            batch = []
    db.commit()
    generated = time.perf_counter() - t0
    size_before = _db_size(path)
    t0 = time.perf_counter()
    # The shipped bulk path of Store.rebuild_search_index, without the term counts (which
    # search does not use): one transaction, bulk settings, one merge at the end.
    with search.bulk_mode(db):
        search.bulk_index(db, db.execute("select id, title, text from articles order by id"))
    search.optimize(db)
    built = time.perf_counter() - t0
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return {
        "generate_s": generated,
        "build_s": built,
        "rate": n / built,
        "index_mb": (_db_size(path) - size_before) / 2**20,
        "db_mb": _db_size(path) / 2**20,
    }


def _db_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(db: Path) -> tuple[subprocess.Popen, str]:
    """Start ``dangjian serve`` (the settings we ship) on ``db``; return it and its URL."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dangjian", "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/-/versions.json", timeout=5).read()
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("dangjian serve did not start")


def measure(url: str, query: str, repeat: int, extra: str = "") -> dict[str, float]:
    """Time ``repeat`` JSON requests for the first page of 20, newest first."""
    target = f"{url}/news/articles.json?_search={urllib.parse.quote(query)}&_size=20{extra}"
    times: list[float] = []
    status = 200
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        with urllib.request.urlopen(target, timeout=60) as response:
            data = json.loads(response.read())
            status = response.status
        times.append((time.perf_counter() - t0) * 1000)
    times = times[1:]  # the first request warms the page cache
    times.sort()
    rows = data if isinstance(data, list) else data["rows"]
    return {
        "p50": statistics.median(times),
        "p95": times[max(0, int(len(times) * 0.95) - 1)],
        "rows": len(rows),
        "status": status,
        "count": None if isinstance(data, list) else data.get("filtered_table_rows_count"),
    }


def run(quick: bool = False, sizes: list[int] | None = None, keep: Path | None = None) -> str:
    """Run the benchmark; return a Markdown section.

    Args:
        quick: one small size (``make bench`` quick mode).
        sizes: numbers of articles to generate (default 100,000 and 1,000,000).
        keep: a folder to keep the generated databases in (``news-<n>.db``), to time
            searches again with ``--db`` without generating them again.
    """
    sizes = sizes or ([10_000] if quick else [100_000, 1_000_000])
    repeat = 10 if quick else 20
    lines = [
        "## Search (`_search` through the JSON API)\n",
        "First page of 20, newest first (`sort_desc: published`), with the shipped "
        "settings: *API* is `articles.json?_search=…&_size=20&_shape=array` (Datasette "
        "skips the count and facets for this shape); *page* is `_shape=objects`, which "
        "also counts the matches and computes the default facets, as the HTML page does "
        "(both stop at their time limits). Generated articles of ~420 characters; "
        f"{repeat} timed requests per query after one warm-up.\n",
    ]
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            db = (keep or Path(tmp)) / (f"news-{n}.db" if keep else "news.db")
            built = generate(db, n)
            lines.append(f"### {n:,} articles\n")
            lines.append(
                f"Index build: {built['rate']:,.0f} articles/s "
                f"({built['build_s']:.1f} s); index size {built['index_mb']:.0f} MiB "
                f"of a {built['db_mb']:.0f} MiB database.\n"
            )
            lines += latency_table(db, repeat)
    return "\n".join(lines) + "\n"


def latency_table(db: Path, repeat: int) -> list[str]:
    """Serve ``db`` and return the Markdown rows of the latency table."""
    lines = [
        "| query | matches | API p50 ms | API p95 ms | page p50 ms | page p95 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    proc, url = _serve(db)
    try:
        for label, query in QUERIES.items():
            api = measure(url, query, repeat, "&_shape=array")
            page = measure(url, query, repeat, "&_shape=objects")
            count = "> 1%, not counted" if page["count"] is None else f"{page['count']:,}"
            lines.append(
                f"| {label} `{query}` | {count} | {api['p50']:.0f} | "
                f"{api['p95']:.0f} | {page['p50']:.0f} | {page['p95']:.0f} |"
            )
            print(lines[-1], file=sys.stderr, flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return lines + [""]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="*")
    parser.add_argument("--db", type=Path, help="only time searches on this generated database")
    parser.add_argument("--keep", type=Path, help="keep the generated databases in this folder")
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.db:
        print("\n".join(latency_table(args.db, 20)))
    else:
        print(run(args.quick, args.sizes, args.keep))
