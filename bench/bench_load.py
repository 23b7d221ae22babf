"""Load benchmark: many clients at once against the pages analysts use (issue 14).

Starts ``python -m dangjian.serve`` (``--processes`` Datasette processes sharing one loopback
port with ``SO_REUSEPORT``) on a generated database (``bench.bench_search``), then runs
``--clients`` concurrent clients for ``--seconds``, each sending its next request as soon as
the last one answered (a closed loop, no think time: harsher than people reading pages).
Requests are drawn from a fixed mix (``MIX``): JSON search API, HTML search pages, article
pages at random ids, the articles table with its default facets, filtered tables, the facet
JSON of the README, canned queries and the database page.

By default every request is a full one (no ``If-None-Match``): the worst case, as if every
request came from a new visitor. ``--revalidate`` makes each client behave like a browser
with a cache, sending the ETag it last saw for a URL, which the server answers with
``304 Not Modified`` while the data has not changed.

Bounded: loopback only, a deadline of ``--seconds`` plus 30 s for the whole run, a 30 s timeout
per request; the servers are stopped at the end whatever happens. An error is listed with the
end of its page's text; ``BENCH_SERVER_LOG=path`` keeps the servers' own log (tracebacks).

    python -m bench.bench_load --db /tmp/bench/news-200000.db
    python -m bench.bench_load --db /tmp/bench/news-200000.db --clients 50 --seconds 60
    python -m bench.bench_load --quick             # generates 10,000 articles, 10 clients, 10 s
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.bench_search import QUERIES, free_port, generate
from bench.run import machine

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only
TERMS = ["党建", "主题教育", "三会一课", "全面从严治党", "党史学习教育", "基层党建", "政治巡察"]
MIX = {  # share of requests
    "search API (JSON)": 0.25,
    "search page (HTML)": 0.15,
    "article page": 0.15,
    "articles, default facets": 0.08,
    "filtered table": 0.10,
    "facet JSON": 0.07,
    "canned query": 0.15,
    "database page": 0.05,
}


@dataclass
class Targets:
    """Values drawn from the database, so requests look like analysts' requests."""

    max_id: int
    sites: list[str]
    months: list[str]
    provinces: list[str]

    @classmethod
    def of(cls, db: Path) -> Targets:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return cls(
                conn.execute("select max(id) from articles").fetchone()[0],
                [r[0] for r in conn.execute("select id from sites")],
                [r[0] for r in conn.execute("select distinct published_month from article_counts")],
                [r[0] for r in conn.execute("select distinct province from article_counts")],
            )
        finally:
            conn.close()


def request_for(kind: str, rng: random.Random, t: Targets) -> str:
    """A path of the given kind."""
    q = urllib.parse.quote
    if kind == "search API (JSON)":
        return f"/news/articles.json?_shape=array&_size=20&_search={q(rng.choice(list(QUERIES.values())))}"
    if kind == "search page (HTML)":
        return f"/news/articles?_search={q(rng.choice(list(QUERIES.values())))}"
    if kind == "article page":
        return f"/news/articles/{rng.randint(1, t.max_id)}"
    if kind == "articles, default facets":
        return "/news/articles"
    if kind == "filtered table":
        return rng.choice(
            [
                f"/news/articles?province={q(rng.choice(t.provinces) or '')}",
                f"/news/articles?site_id={rng.choice(t.sites)}",
                f"/news/articles?published_month={rng.choice(t.months)}",
                f"/news/articles?province={q(rng.choice(t.provinces) or '')}&reprint=1",
            ]
        )
    if kind == "facet JSON":
        return "/news/articles.json?_facet=province&_facet=published_month&_size=0"
    if kind == "database page":
        return "/news"
    term = q(rng.choice(TERMS))
    return rng.choice(
        [
            f"/news/term_trend?term={term}",
            f"/news/term_trend_by_province.json?term={term}",
            f"/news/top_terms_for_site?site_id={rng.choice(t.sites)}",
            f"/news/top_terms_for_month?month={rng.choice(t.months)}",
            f"/news/terms_together?term1={term}&term2={q(rng.choice(TERMS))}",
            "/news/reprint_network",
            f"/news/most_republished?month={rng.choice(t.months)}",
            "/news/feed.atom",
            f"/news/site_feed.atom?site_id={rng.choice(t.sites)}",
            "/news/site_health",
            f"/news/search_ranked?q={q(rng.choice(['红色基因', '鲲鹏', '疫情防控']))}",
        ]
    )


@dataclass
class Results:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    errors: list[str] = field(default_factory=list)
    timeouts_pages: int = 0


async def client(
    n: int, base: str, t: Targets, deadline: float, revalidate: bool, out: Results
) -> None:
    rng = random.Random(n)
    kinds, weights = list(MIX), list(MIX.values())
    etags: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            path = request_for(kind, rng, t)
            headers = {"If-None-Match": etags[path]} if revalidate and path in etags else {}
            started = time.perf_counter()
            try:
                response = await http.get(path, headers=headers)
                body = response.content
            except httpx.HTTPError as exc:
                out.errors.append(f"{path}: {type(exc).__name__}")
                continue
            elapsed = (time.perf_counter() - started) * 1000
            out.statuses[response.status_code] += 1
            if response.status_code not in (200, 304):
                # What the page says, without its markup: the error's cause.
                text = re.sub(r"<[^>]+>|\s+", " ", body.decode("utf-8", "replace"))
                reason = text.strip()[-300:]
                out.errors.append(f"{path}: HTTP {response.status_code} ({reason})")
            if b"took too long" in body:
                out.timeouts_pages += 1
            if "etag" in response.headers:
                etags[path] = response.headers["etag"]
            out.times[kind].append(elapsed)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * int(p * 100) // 100) - 1)] if ordered else 0.0


def start_servers(db: Path, processes: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dangjian.serve", "--db", str(db), "--host", HOST]
        + ["--port", str(port), "--processes", str(processes)],
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "ab"),
        start_new_session=True,
    )
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/news/articles.json?_size=1", timeout=10).read()
            # Every process must be up before the clock starts: ask a few times.
            for _ in range(4 * processes):
                urllib.request.urlopen(base + "/-/versions.json", timeout=10).read()
            return proc, base
        except OSError:
            time.sleep(0.5)
    stop_servers(proc)
    raise RuntimeError("the servers did not start")


def stop_servers(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def load(
    db: Path, clients: int, seconds: float, processes: int, revalidate: bool
) -> tuple[Results, float]:
    """Run the clients against fresh servers on ``db``; return the results and wall time."""
    targets = Targets.of(db)
    proc, base = start_servers(db, processes)
    out = Results()
    try:
        # Warm-up: one pass over the kinds, not timed.
        warm = Results()
        asyncio.run(
            asyncio.wait_for(
                client(-1, base, targets, time.monotonic() + 5, False, warm), seconds + 30
            )
        )
        started = time.monotonic()
        deadline = started + seconds

        async def everyone() -> None:
            await asyncio.gather(
                *(client(i, base, targets, deadline, revalidate, out) for i in range(clients))
            )

        asyncio.run(asyncio.wait_for(everyone(), seconds + 30))
        return out, time.monotonic() - started
    finally:
        stop_servers(proc)


def report(
    out: Results,
    wall: float,
    db: Path,
    clients: int,
    seconds: float,
    processes: int,
    revalidate: bool,
) -> str:
    every = [x for values in out.times.values() for x in values]
    articles = (
        sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        .execute("select count(*) from articles")
        .fetchone()[0]
    )
    command = (
        f"python -m bench.bench_load --db {db} --clients {clients} --seconds {seconds:g} "
        f"--processes {processes}" + (" --revalidate" if revalidate else "")
    )
    lines = [
        f"### {articles:,} articles, {clients} clients, {seconds:g} s, {processes} processes"
        + (", revalidating" if revalidate else "")
        + "\n",
        f"`{command}` on {machine()}.\n",
        f"**{len(every) / wall:,.1f} requests/s**; {len(every):,} answered, "
        f"{len(out.errors)} errors, {out.timeouts_pages} time-out pages; statuses "
        + ", ".join(f"{k}: {v:,}" for k, v in sorted(out.statuses.items()))
        + f"; p50 {pct(every, 0.5):,.0f} ms, p95 {pct(every, 0.95):,.0f} ms, "
        f"p99 {pct(every, 0.99):,.0f} ms, max {max(every, default=0):,.0f} ms.\n",
        "| requests | share | n | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in MIX:
        values = out.times.get(kind, [])
        lines.append(
            f"| {kind} | {MIX[kind]:.0%} | {len(values):,} | {pct(values, 0.5):,.0f} | "
            f"{pct(values, 0.95):,.0f} | {pct(values, 0.99):,.0f} | {max(values, default=0):,.0f} |"
        )
    if out.errors:
        lines.append("\nFirst errors: " + "; ".join(out.errors[:5]))
    return "\n".join(lines) + "\n"


def run(quick: bool = False) -> str:
    """``bench.run`` entry: a small generated database (quick) or 100,000 articles."""
    n, clients, seconds = (10_000, 10, 10.0) if quick else (100_000, 50, 60.0)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "news.db"
        generate(db, n)
        out, wall = load(db, clients, seconds, 2, False)
        return "## Load (concurrent clients)\n\n" + report(
            out, wall, db, clients, seconds, 2, False
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a database generated by bench.bench_search")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--revalidate", action="store_true")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.quick or not args.db:
        print(run(quick=args.quick))
    else:
        result, wall = load(args.db, args.clients, args.seconds, args.processes, args.revalidate)
        print(
            report(
                result, wall, args.db, args.clients, args.seconds, args.processes, args.revalidate
            )
        )
