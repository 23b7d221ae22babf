"""Dedupe benchmark: cluster N generated articles, then add 1,000 more one at a time.

Each size runs in its own process so its peak memory is its own:

    python -m bench.bench_dedupe --size 100000          # one size, JSON figures
    python -m bench.run dedupe [--quick]                # the Markdown section

Clustering is timed from articles already in the database (``rebuild_clusters`` with 2
worker processes: normalise, MinHash, band index, candidate pairs, union-find, originals).
Adding is timed per article as ingest does it after ``save_article``: insert the row, then
``assign_cluster`` in its own transaction. Extraction and the search index are not included.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlite_utils

from bench.dedupe_data import (
    cluster_eval_set,
    generated_eval_set,
    pair_scores,
    synthetic_rows,
)
from pipeline.store import Store
from pipeline.store.clusters import assign_cluster, rebuild_clusters

COLUMNS = ("url", "site_id", "title", "published", "text", "script", "content_hash")
INSERT = f"INSERT INTO articles ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (user + system)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(size: int, add: int, db_path: Path, workers: int = 2) -> dict[str, float]:
    """Generate ``size`` articles, cluster them, add ``add`` more; return the figures."""
    Store(db_path).close()  # schema and migrations
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO sites (id, name) VALUES (?, ?)", [(f"site{i}", f"站点{i}") for i in range(50)]
    )
    labels: list[int] = []
    started = time.perf_counter()
    batch: list[tuple] = []
    for row, label in synthetic_rows(size):
        batch.append(tuple(row[c] for c in COLUMNS))
        labels.append(label)
        if len(batch) == 10_000:
            conn.executemany(INSERT, batch)
            batch.clear()
    conn.executemany(INSERT, batch)
    conn.execute("COMMIT")
    generated = time.perf_counter() - started

    conn.execute("PRAGMA synchronous=NORMAL")
    db = sqlite_utils.Database(conn)
    started, cpu = time.perf_counter(), _cpu_s()
    conn.execute("BEGIN")
    clusters = rebuild_clusters(db, workers=workers)
    conn.execute("COMMIT")
    clustered, cluster_cpu = time.perf_counter() - started, _cpu_s() - cpu
    peak_cluster = _peak_mb()
    predicted = dict(conn.execute("SELECT id, cluster_id FROM articles ORDER BY id"))
    scores = pair_scores(dict(enumerate(labels, 1)), predicted)

    started, cpu = time.perf_counter(), _cpu_s()
    for row, _ in synthetic_rows(add, seed=2, start=size):
        conn.execute("BEGIN")
        article_id = conn.execute(INSERT, tuple(row[c] for c in COLUMNS)).lastrowid
        assign_cluster(db, int(article_id))
        conn.execute("COMMIT")
    added, add_cpu = time.perf_counter() - started, _cpu_s() - cpu
    conn.close()
    return {
        "size": size,
        "add": add,
        "generate_s": generated,
        "cluster_s": clustered,
        "cluster_cpu_s": cluster_cpu,
        "add_cpu_s": add_cpu,
        "clusters": clusters,
        "add_s": added,
        "peak_mb": _peak_mb(),
        "peak_cluster_mb": peak_cluster,
        "precision": scores["precision"],
        "recall": scores["recall"],
        "db_mb": db_path.stat().st_size / 2**20,
    }


def _run_size(size: int, add: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.bench_dedupe",
                "--size",
                str(size),
                "--add",
                str(add),
                "--db",
                str(Path(tmp) / "bench.db"),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _quality(quick: bool) -> dict[str, float]:
    articles = generated_eval_set(30, per_site=8 if quick else None)
    with tempfile.TemporaryDirectory() as tmp:
        predicted = cluster_eval_set(Path(tmp) / "eval.db", articles)
    scores = pair_scores({a.key: a.story for a in articles}, predicted)
    scores["articles"] = len(articles)
    return scores


def run(quick: bool) -> str:
    """Return the Markdown section: quality on the generated set, then time and memory."""
    sizes = [10_000] if quick else [100_000, 1_000_000]
    figures = [_run_size(n, 1000) for n in sizes]
    quality = _quality(quick)
    lines = [
        "## Dedupe and reprint clusters",
        "",
        f"Generated evaluation set ({quality['articles']} articles: stories, 5 variants each, "
        "the same meeting in other words): "
        f"precision {quality['precision']:.3f}, recall {quality['recall']:.3f} "
        f"({quality['correct_pairs']}/{quality['true_pairs']} same-story pairs found).",
        "",
        "| articles | cluster all (CPU) | +1,000 one by one (CPU) | peak memory | db size "
        "| P / R (synthetic) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for f in figures:
        lines.append(
            f"| {f['size']:,} | {f['cluster_s']:.1f} s ({f['cluster_cpu_s']:.0f} s) | "
            f"{f['add_s']:.1f} s ({f['add_cpu_s']:.1f} s) | {f['peak_mb']:.0f} MB | "
            f"{f['db_mb']:.0f} MB | "
            f"{f['precision']:.3f} / {f['recall']:.3f} |"
        )
    generation = ", ".join(f"{f['generate_s']:.0f} s" for f in figures)
    lines += [
        "",
        "Targets: 1,000,000 in < 10 min on 2 cores, +1,000 in < 10 s, peak < 2 GB. "
        "Wall-clock time, with CPU seconds (all processes) in brackets: on a shared "
        "machine the CPU figure is the steadier one.",
        f"Cluster time excludes generating and inserting the rows ({generation}).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Time clustering one database size.")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--add", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()
    print(json.dumps(measure(args.size, args.add, args.db, args.workers)))


if __name__ == "__main__":
    main()
