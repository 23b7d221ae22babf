"""Load while writing: the load benchmark's clients while a real crawl writes the same database.

Issue 12: analysts keep reading while the crawler writes a few times an hour. This runs
``bench.bench_load``'s clients (Datasette processes on loopback, mixed pages) against a
generated database and, at the same time, a real ``dangjian crawl`` of the sample sites into
that very file. It reports the readers' figures and checks the writer's side:

- 0 errors and no time-out page for the readers, no ``database is locked`` anywhere;
- the crawl exits 0 and every article it was expected to store is committed (each sample
  site's expected articles, as the end-to-end test counts them).

Bounded: loopback only; the readers stop after ``--seconds``, the crawl is killed after
``--crawl-timeout``; everything is stopped at the end whatever happens.

    python -m bench.bench_load_write --quick                  # 10,000 articles, 10 clients, 20 s
    python -m bench.bench_load_write --articles 100000 --clients 50 --seconds 60 --size 60
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.bench_load import load, report
from bench.bench_search import generate
from sample_sites import build_sites, start_sample_sites, write_registry

ROOT = Path(__file__).resolve().parents[1]
LOCKED = "database is locked"


@dataclass
class Writer:
    """What the crawl did while the readers ran."""

    returncode: int | None = None
    seconds: float = 0.0
    log: str = ""
    expected: int = 0
    stored: int = 0
    missing: int = 0


def crawl_while_reading(
    db: Path, size: int, registry: Path, timeout: float, out: Writer, start_after: float
) -> None:
    """Run ``dangjian crawl --sample`` into ``db``; fill ``out`` (runs in a thread)."""
    time.sleep(start_after)  # let the readers reach full speed first
    started = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "dangjian", "crawl", "--sample", "--sites", str(registry)]
            + ["--db", str(db), "--no-progress"],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )
        out.returncode, out.log = result.returncode, result.stdout + result.stderr
    except subprocess.TimeoutExpired as exc:
        out.returncode, out.log = -1, f"crawl killed after {timeout} s: {exc}"
    out.seconds = time.monotonic() - started


def count_committed(db: Path, addresses: dict[str, str], size: int, out: Writer) -> None:
    """Compare the sample sites' expected articles with what the database holds."""
    from pipeline.dedupe import canonical_url

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        stored = {r[0] for r in conn.execute("select url from articles")}
    finally:
        conn.close()
    want = {
        canonical_url(addresses[site_id] + a.path)
        for site_id, site in build_sites(size).items()
        if site_id in addresses
        for a in site.expected_articles()
    }
    out.expected, out.stored, out.missing = len(want), len(want & stored), len(want - stored)


def run_once(
    articles: int, clients: int, seconds: float, size: int, processes: int, keep: Path | None
) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        db = (keep or Path(tmp)) / f"news-{articles}.db"
        if not db.exists():
            generate(db, articles)
        handle = start_sample_sites(port=0, size=size)
        writer = Writer()
        try:
            registry = Path(tmp) / "sites.yml"
            write_registry(handle.addresses, str(registry), size)
            thread = threading.Thread(
                target=crawl_while_reading,
                args=(db, size, registry, seconds + 120, writer, min(5.0, seconds / 4)),
            )
            thread.start()
            readers, wall = load(db, clients, seconds, processes, False)
            thread.join()
            count_committed(db, handle.addresses, size, writer)
        finally:
            handle.stop()
        locked = writer.log.count(LOCKED) + sum(LOCKED in e for e in readers.errors)
        ok = (
            not readers.errors
            and not readers.timeouts_pages
            and not locked
            and writer.returncode == 0
            and writer.missing == 0
        )
        lines = [
            "## Load while a crawl writes\n",
            report(readers, wall, db, clients, seconds, processes, False),
            f"Writer: `dangjian crawl --sample` of the {len(handle.addresses)} sample sites "
            f"(size {size}) into the same file, started {min(5.0, seconds / 4):g} s in: exit "
            f"{writer.returncode}, {writer.seconds:.0f} s, {writer.stored:,} of "
            f"{writer.expected:,} expected articles committed ({writer.missing} missing); "
            f"`database is locked` seen {locked} times. **{'PASS' if ok else 'FAIL'}**.\n",
        ]
        if writer.returncode != 0:
            lines.append("Crawl log (end):\n\n```\n" + writer.log[-2000:] + "\n```\n")
        return "\n".join(lines)


def run(quick: bool = False) -> str:
    """``bench.run`` entry."""
    if quick:
        return run_once(10_000, 10, 20.0, 10, 2, None)
    return run_once(100_000, 50, 60.0, 60, 2, None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000, help="generated articles")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--size", type=int, default=60, help="articles per sample site")
    parser.add_argument("--processes", type=int, default=2, help="Datasette processes")
    parser.add_argument("--keep", type=Path, help="folder to keep (and reuse) the database in")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.quick:
        print(run(quick=True))
    else:
        print(
            run_once(
                args.articles, args.clients, args.seconds, args.size, args.processes, args.keep
            )
        )
