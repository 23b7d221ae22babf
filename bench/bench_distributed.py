"""Distributed crawl throughput under the cluster-wide per-host budget, and the ingester's ceiling.

Serves the sample sites (each gets a per-site ``delay``), starts a private redis-server on
loopback, then for 1, 2 and 3 workers enqueues all sample sites and lets the workers crawl into
the stream (no ingester running, so the crawl rate is the workers' own). Rates use the stream's
entry ids, which are Redis millisecond timestamps: pages / (last page − first page), start-up
and idle wait excluded. The sample sites count the requests they answer at once, so the table
shows the per-host limit held across workers; one more run gives every worker its own budget
(``DANGJIAN_HOST_BUDGET=crawler.politeness.LocalHostBudget``, politeness per worker as before
issue 17) for comparison. Finally one ingester drains the last stream into SQLite: its maximum
pages/second.

    python -m bench.bench_distributed --quick                 # 30 articles per site
    python -m bench.bench_distributed --size 60 --delay 0.1   # docs/benchmarks.md
    python -m bench.bench_distributed                         # 300 articles per site
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
from typing import Any

import redis

from distributed.ingester import IngestOptions, StreamIngester
from distributed.stream import RedisKeys
from pipeline.store import Store
from sample_sites import start_sample_sites

# Politeness per worker (each its own budget), as before the cluster-wide one.
LOCAL = "crawler.politeness.LocalHostBudget"


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


def _crawl(
    url: str, registry: Path, workers: int, handle: Any, settings: tuple[str, ...] = ()
) -> dict[str, float]:
    """Run ``workers`` workers over a fresh queue; return pages, span, rate, per-host figures."""
    client = redis.Redis.from_url(url)
    client.flushdb()
    keys = RedisKeys()
    for behaviour in handle.behaviours.values():
        behaviour.reset()
    subprocess.run(
        _dangjian("enqueue", "--redis", url, "--sites", str(registry), "--sample"),
        check=True,
        capture_output=True,
    )
    extra = [arg for setting in settings for arg in ("-s", setting)]
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
                *extra,
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
    stats = [b.stats() for b in handle.behaviours.values()]
    return {
        "pages": len(stamps),
        "seconds": span,
        "rate": len(stamps) / span,
        "peak": max(s["peak_concurrency"] for s in stats),
        "host_rate": max(_host_rate(s["log"]) for s in stats),
        "host_requests": max(s["requests"] for s in stats),
        "stream_mib": client.memory_usage(keys.pages) / 2**20,
        "used_mib": client.info("memory")["used_memory"] / 2**20,
        "dupefilter_bytes_per_url": client.memory_usage(dupefilter) / client.scard(dupefilter),
    }


def _host_rate(log: list[dict[str, Any]]) -> float:
    """Requests per second one host answered while it was being crawled."""
    times = sorted(entry["at"] for entry in log)
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 2 else 0.0


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


def run(
    quick: bool = False,
    size: int | None = None,
    delay: float = 0.1,
    workers: tuple[int, ...] = (1, 2, 3),
) -> str:
    import yaml

    from sample_sites import registry_entries

    size = size or (30 if quick else 300)
    handle = start_sample_sites(port=0, size=size)
    results: dict[int, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            registry = Path(tmp) / "sites.yml"
            entries = [
                {**entry, "delay": delay} for entry in registry_entries(handle.addresses, size)
            ]
            registry.write_text(
                yaml.safe_dump({"sites": entries}, allow_unicode=True), encoding="utf-8"
            )
            redis_proc, url = _start_redis(Path(tmp))
            try:
                for n in workers:
                    results[n] = _crawl(url, registry, n, handle)
                local = _crawl(
                    url, registry, max(workers), handle, (f"DANGJIAN_HOST_BUDGET={LOCAL}",)
                )
                entries_n, seconds = _ingest(url, Path(tmp) / "news.db")
            finally:
                redis_proc.terminate()
                redis_proc.wait(timeout=10)
    finally:
        handle.stop()
    one = results[workers[0]]
    last = results[workers[-1]]
    sites = len(handle.addresses)

    def row(label: str, r: dict[str, float]) -> str:
        return (
            f"| {label} | {r['pages']:.0f} | {r['seconds']:.1f} | {r['rate']:.1f} | "
            f"{r['rate'] / one['rate']:.2f} | {r['peak']:.0f} | {r['host_rate']:.1f} |"
        )

    lines = [
        "## Distributed crawl (Redis, sample sites over loopback)\n",
        f"`python -m bench.bench_distributed --size {size} --delay {delay}`: "
        f"`dangjian enqueue --sample` then N × `dangjian worker` on one machine against the "
        f"{sites} sample sites at {size} articles each, one private redis-server; every site has "
        f"`delay: {delay}` and the project's 2 requests in flight per host, held **for the whole "
        f"cluster** by the per-host budget in Redis (docs/distributed.md): at most "
        f"{1 / delay:.0f} starts/s per host, {sites / delay:.0f} pages/s for the {sites} sites "
        "however many workers. Crawl time is first to last page handed to the stream "
        "(start-up and idle wait excluded). The sample sites, Redis and the workers share the "
        "same 2 cores. *Peak* is the most requests one host was answering at once; *host "
        "pages/s* is the busiest host's rate.\n",
        "| workers | pages | seconds | pages/s | speed-up | peak in flight per host | "
        "host pages/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *(row(str(n), results[n]) for n in workers),
        row(f"{max(workers)}, budget per worker (before #17)", local),
        "",
        f"The largest site takes {last['host_requests']:.0f} requests (robots.txt included), so "
        f"no cluster crawls it politely in less than {last['host_requests'] * delay:.1f} s: "
        "once the workers keep every site at its delay, more workers add nothing. Without "
        "the shared budget (last row) each worker keeps its own delay per host, and the "
        "busiest host gets more than its 1/delay.",
        "",
        f"Ingester maximum (one `dangjian ingest` draining the {entries_n} waiting entries "
        "into a fresh SQLite file: decode, extract, normalise, dedupe, store, XACK): "
        f"**{entries_n / seconds:.1f} pages/s** ({seconds:.1f} s).",
        "",
        f"Redis memory: duplicate filter {last['dupefilter_bytes_per_url']:.0f} bytes per URL; "
        f"stream {last['stream_mib'] * 2**20 / last['pages'] / 1024:.1f} KiB per waiting page "
        "(zlib-compressed body).\n",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--size", type=int, help="articles per sample site")
    parser.add_argument("--delay", type=float, default=0.1, help="every site's delay (s)")
    args = parser.parse_args()
    print(run(args.quick, args.size, args.delay))
