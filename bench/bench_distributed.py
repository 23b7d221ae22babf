"""Distributed crawl throughput: 1 and 2 workers on one Redis, and the ingester's ceiling.

Serves the sample sites, starts a private redis-server on loopback, then for 1 and 2 workers
enqueues all sample sites and lets the workers crawl into the stream (no ingester running, so
the crawl rate is the workers' own). Rates use the stream's entry ids, which are Redis
millisecond timestamps: pages / (last page − first page), start-up and idle wait excluded.
Finally one ingester drains the 2-worker stream into SQLite: its maximum pages/second.

    python -m bench.bench_distributed --quick      # 30 articles per site
    python -m bench.bench_distributed              # 300 articles per site
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from distributed.ingester import IngestOptions, StreamIngester
from distributed.stream import RedisKeys
from pipeline.store import Store
from sample_sites import start_sample_sites


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dangjian(*args: str) -> list[str]:
    return [sys.executable, "-m", "dangjian", *args]


def _start_redis(tmp: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if not binary:
        raise SystemExit("redis-server is missing: run scripts/install-test-deps.sh")
    port = _free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(tmp),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(200):
        try:
            client.ping()
            return proc, url
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def _crawl(url: str, registry: Path, workers: int) -> dict[str, float]:
    """Run ``workers`` workers over a fresh queue; return pages, span, rate and Redis memory."""
    client = redis.Redis.from_url(url)
    client.flushdb()
    keys = RedisKeys()
    subprocess.run(
        _dangjian("enqueue", "--redis", url, "--sites", str(registry), "--sample"),
        check=True,
        capture_output=True,
    )
    procs = [
        subprocess.Popen(
            _dangjian(
                "worker",
                "--redis",
                url,
                "--sites",
                str(registry),
                "--idle-close",
                "3",
                "--log-level",
                "WARNING",
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    for proc in procs:
        proc.wait(timeout=1800)
    entries = client.xrange(keys.pages)
    stamps = [
        int(entry_id.split(b"-")[0])
        for entry_id, fields in entries
        if fields.get(b"type") == b"page"
    ]
    span = (max(stamps) - min(stamps)) / 1000
    dupefilter = client.keys(keys.dupefilter("*"))[0]
    return {
        "pages": len(stamps),
        "seconds": span,
        "rate": len(stamps) / span,
        "stream_mib": client.memory_usage(keys.pages) / 2**20,
        "used_mib": client.info("memory")["used_memory"] / 2**20,
        "dupefilter_bytes_per_url": client.memory_usage(dupefilter) / client.scard(dupefilter),
    }


def _ingest(url: str, db: Path) -> tuple[int, float]:
    """Drain the stream into a fresh database; return entries and seconds."""
    client = redis.Redis.from_url(url)
    total = client.xlen(RedisKeys().pages)
    store = Store(db)
    try:
        ingester = StreamIngester(
            client, store, RedisKeys(), IngestOptions(max_entries=total, block_ms=100)
        )
        started = time.perf_counter()
        stats = ingester.run()
        return stats.entries, time.perf_counter() - started
    finally:
        store.close()


def run(quick: bool = False, size: int | None = None) -> str:
    from sample_sites import write_registry

    size = size or (30 if quick else 300)
    handle = start_sample_sites(port=0, size=size)
    results: dict[int, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            registry = Path(tmp) / "sites.yml"
            write_registry(handle.addresses, str(registry), size)
            redis_proc, url = _start_redis(Path(tmp))
            try:
                for workers in (1, 2):
                    results[workers] = _crawl(url, registry, workers)
                entries, seconds = _ingest(url, Path(tmp) / "news.db")
            finally:
                redis_proc.terminate()
                redis_proc.wait(timeout=10)
    finally:
        handle.stop()
    one, two = results[1], results[2]
    lines = [
        "## Distributed crawl (Redis, sample sites over loopback)\n",
        f"`dangjian enqueue --sample` then N × `dangjian worker` on one machine against the 7 "
        f"sample sites at {size} articles each, one private redis-server; per-site delay 0, "
        "2 concurrent requests per host per worker. Crawl time is first to last page handed "
        "to the stream (start-up and idle wait excluded). The sample sites, Redis and the "
        "workers share the same cores, so 2 workers on 2 cores is a floor for what 2 "
        "machines give.\n",
        "| workers | pages | seconds | pages/s | speed-up | stream in Redis (MiB) |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| 1 | {one['pages']:.0f} | {one['seconds']:.1f} | {one['rate']:.1f} | 1.00 | "
        f"{one['stream_mib']:.1f} |",
        f"| 2 | {two['pages']:.0f} | {two['seconds']:.1f} | {two['rate']:.1f} | "
        f"{two['rate'] / one['rate']:.2f} | {two['stream_mib']:.1f} |",
        "",
        f"Ingester maximum (one `dangjian ingest` draining the {entries} waiting entries into a "
        f"fresh SQLite file: decode, extract, normalise, dedupe, store, XACK): "
        f"**{entries / seconds:.1f} pages/s** ({seconds:.1f} s).",
        "",
        f"Redis memory: duplicate filter {two['dupefilter_bytes_per_url']:.0f} bytes per URL; "
        f"stream {two['stream_mib'] * 2**20 / two['pages'] / 1024:.1f} KiB per waiting page "
        "(zlib-compressed body).\n",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--size", type=int)
    args = parser.parse_args()
    print(run(args.quick, args.size))
