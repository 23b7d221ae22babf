"""Crawl throughput: a real crawl of the sample sites over loopback, end to end."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sample_sites import start_sample_sites


def crawl_once(size: int) -> tuple[int, int, float]:
    """Serve the sample sites at ``size`` articles each, crawl them; return pages, articles, s."""
    from sample_sites import write_registry

    handle = start_sample_sites(port=0, size=size)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            registry, db = Path(tmp) / "sites.yml", Path(tmp) / "news.db"
            write_registry(handle.addresses, str(registry), size)
            started = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "dangjian",
                    "crawl",
                    "--sample",
                    "--sites",
                    str(registry),
                    "--db",
                    str(db),
                    "--no-progress",
                    "--log-level",
                    "WARNING",
                ],
                check=False,
                capture_output=True,
            )
            elapsed = time.perf_counter() - started
            conn = sqlite3.connect(db)
            pages = conn.execute("select count(*) from pages").fetchone()[0]
            articles = conn.execute("select count(*) from articles").fetchone()[0]
            conn.close()
    finally:
        handle.stop()
    return pages, articles, elapsed


def run(quick: bool = False) -> str:
    sizes = [30] if quick else [30, 300]
    lines = [
        "## Crawl (sample sites over loopback)\n",
        "`dangjian crawl --sample` of the 7 sample sites served in-process, per-site delay 0, "
        "2 concurrent requests per host; includes process start-up, extraction and SQLite "
        "writes.\n",
        "| articles per site | pages fetched | articles stored | seconds | pages/s |",
        "|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        pages, articles, elapsed = crawl_once(size)
        lines.append(f"| {size} | {pages} | {articles} | {elapsed:.1f} | {pages / elapsed:.1f} |")
    return "\n".join(lines) + "\n"
