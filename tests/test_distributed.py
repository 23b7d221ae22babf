"""Distributed crawling: a real redis-server on loopback, real workers and a real ingester.

redis-server comes from scripts/install-test-deps.sh (run by `make test`). Every test starts
its own on a free 127.0.0.1 port with a temporary directory, so nothing else is touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import yaml

from distributed.ingester import IngestOptions, StreamIngester
from distributed.stream import INGEST_GROUP, RedisKeys, page_message, run_message
from pipeline.model import RawPage
from pipeline.store import Store

from .conftest import dangjian, free_port, stop
from .system_tools import require

pytestmark = pytest.mark.e2e

WORKER_TTL = 3  # seconds: a killed worker's requests are recovered this soon
IDLE_CLOSE = 2


@dataclass
class RedisServer:
    url: str
    client: redis.Redis


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A throw-away redis-server on a free loopback port, no persistence."""
    binary = require("redis-server")
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(tmp_path),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "yes",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        yield RedisServer(url, client)
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def start_worker(redis_url: str, registry: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        dangjian(
            "worker",
            "--redis",
            redis_url,
            "--sites",
            str(registry),
            "--idle-close",
            str(IDLE_CLOSE),
            "-s",
            f"DANGJIAN_REDIS_WORKER_TTL={WORKER_TTL}",
        ),
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )


def start_ingester(redis_url: str, db: Path, log: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        dangjian("ingest", "--redis", redis_url, "--db", str(db), *extra),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def enqueue(redis_url: str, registry: Path) -> str:
    result = subprocess.run(
        dangjian("enqueue", "--redis", redis_url, "--sites", str(registry), "--sample"),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.split()[1].rstrip(":")


def wait_all(procs: list[subprocess.Popen], timeout: float = 50) -> None:
    deadline = time.monotonic() + timeout
    try:
        for proc in procs:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    finally:
        for proc in procs:
            stop(proc)


def wait_until(condition, timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def articles(db: Path) -> set[tuple[str, str, str]]:
    conn = sqlite3.connect(db)
    try:
        return set(conn.execute("select url, title, text from articles"))
    finally:
        conn.close()


def assert_same_as_single_machine(db: Path, crawled_db: Path) -> None:
    """Every article stored once, the same rows as the single-machine crawl."""
    conn = sqlite3.connect(db)
    total, distinct = conn.execute("select count(*), count(distinct url) from articles").fetchone()
    assert total == distinct
    # Every page of the run stored once, however often it was delivered.
    pages, distinct_pages = conn.execute(
        "select count(*), count(distinct url) from pages"
    ).fetchone()
    assert pages == distinct_pages
    expected = articles(crawled_db)
    got = articles(db)
    assert len(got) == len(expected) == total
    assert got == expected


def assert_redis_is_drained(client: redis.Redis) -> None:
    keys = RedisKeys()
    assert client.zcard(keys.requests) == 0
    assert client.llen(keys.start_urls) == 0
    assert not client.keys(keys.processing("*"))
    # Acknowledged pages are trimmed: at most the last delivered entry remains.
    assert client.xlen(keys.pages) <= 1
    # The run's dupefilter expires on its own.
    (dupefilter,) = client.keys(keys.dupefilter("*"))
    assert 0 < client.ttl(dupefilter) <= 3 * 86400
    assert client.smembers(keys.runs) == set()


def test_two_workers_and_one_ingester_store_what_one_machine_does(
    redis_server, sample_sites, crawled, tmp_path
):
    db = tmp_path / "distributed.db"
    run_id = enqueue(redis_server.url, sample_sites.registry)
    workers = [
        start_worker(redis_server.url, sample_sites.registry, tmp_path / f"w{i}.log")
        for i in range(2)
    ]
    ingester = start_ingester(redis_server.url, db, tmp_path / "ingest.log", "--exit-when-done")
    wait_all([*workers, ingester])
    assert [w.returncode for w in workers] == [0, 0]
    assert ingester.returncode == 0, (tmp_path / "ingest.log").read_text()[-2000:]
    logs = [(tmp_path / f"w{i}.log").read_text() for i in range(2)]
    # Both workers did part of the crawl.
    assert all("dangjian/handoff/page" in log for log in logs)
    assert_same_as_single_machine(db, crawled.db)
    assert_redis_is_drained(redis_server.client)
    conn = sqlite3.connect(db)
    runs = conn.execute("select run_id, status, pages from crawl_runs").fetchall()
    assert {r[0] for r in runs} == {run_id} and len(runs) == len(sample_sites.addresses)
    assert {r[1] for r in runs} <= {"ok", "partial"} and all(r[2] > 0 for r in runs)


def test_killed_worker_loses_nothing(redis_server, sample_sites, crawled, tmp_path):
    db = tmp_path / "distributed.db"
    client = redis_server.client
    keys = RedisKeys()
    enqueue(redis_server.url, sample_sites.registry)
    victim = start_worker(redis_server.url, sample_sites.registry, tmp_path / "victim.log")
    survivor = start_worker(redis_server.url, sample_sites.registry, tmp_path / "survivor.log")
    ingester = start_ingester(redis_server.url, db, tmp_path / "ingest.log", "--exit-when-done")
    try:
        wait_until(lambda: client.xlen(keys.pages) > 40, what="40 pages in the stream")
        victim_id = next(
            w.decode() for w in client.smembers(keys.workers) if f"-{victim.pid}-" in w.decode()
        )
        # Freeze it while it holds requests, so the kill provably loses some in-flight work.
        while True:
            victim.send_signal(signal.SIGSTOP)
            if client.hlen(keys.processing(victim_id)):
                break
            victim.send_signal(signal.SIGCONT)
            assert client.zcard(keys.requests), "crawl finished before the worker was killed"
            time.sleep(0.01)
        in_flight = client.hlen(keys.processing(victim_id))
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        wait_all([survivor, ingester])
    finally:
        for proc in (victim, survivor, ingester):
            stop(proc)
    assert survivor.returncode == 0 and ingester.returncode == 0
    log = (tmp_path / "survivor.log").read_text()
    assert f"worker {victim_id} is gone: {in_flight} request(s) put back" in log
    assert_same_as_single_machine(db, crawled.db)
    assert_redis_is_drained(client)


def test_killed_ingester_restarts_without_loss_or_duplicates(
    redis_server, sample_sites, crawled, tmp_path
):
    db = tmp_path / "distributed.db"
    enqueue(redis_server.url, sample_sites.registry)
    workers = [
        start_worker(redis_server.url, sample_sites.registry, tmp_path / f"w{i}.log")
        for i in range(2)
    ]
    ingester = start_ingester(redis_server.url, db, tmp_path / "ingest1.log")

    def stored() -> int:
        try:
            return (
                sqlite3.connect(db, timeout=1).execute("select count(*) from pages").fetchone()[0]
            )
        except sqlite3.OperationalError:
            return 0

    try:
        wait_until(lambda: stored() >= 50, what="50 pages stored")
        ingester.send_signal(signal.SIGKILL)
        ingester.wait(timeout=10)
        killed_at = stored()
        restarted = start_ingester(
            redis_server.url, db, tmp_path / "ingest2.log", "--exit-when-done"
        )
        wait_all([*workers, restarted])
    finally:
        for proc in (*workers, ingester):
            stop(proc)
    assert restarted.returncode == 0, (tmp_path / "ingest2.log").read_text()[-2000:]
    assert killed_at < 245, "the crawl finished before the ingester was killed"
    assert_same_as_single_machine(db, crawled.db)
    assert_redis_is_drained(redis_server.client)


def sample_page(url: str, body: bytes) -> RawPage:
    return RawPage(
        url=url,
        final_url=url,
        status=200,
        headers={"content-type": "text/html; charset=utf-8"},
        body=body,
        fetched_at="2026-11-23T10:00:00Z",
        site_id="s",
        run_id="r1",
        kind="article",
    )


ARTICLE = (
    "<html><head><title>党建引领基层治理</title></head><body><h1>党建引领基层治理</h1>"
    + "".join(
        f"<p>第{i}段：坚持党建引领，推动基层治理能力现代化，服务群众。</p>" for i in range(12)
    )
    + "</body></html>"
).encode()


def test_redelivered_and_pending_entries_are_stored_once(redis_server, tmp_path):
    """A crash after the commit and before XACK: the entry comes back and is skipped."""
    client = redis_server.client
    keys = RedisKeys()
    db = tmp_path / "news.db"
    page = sample_page("http://127.0.0.1:1/a/t20261123_1.html", ARTICLE)
    client.xadd(
        keys.pages,
        run_message(
            "r1",
            [{"id": "s", "name": "示例", "level": "city", "start_urls": ["http://127.0.0.1:1/"]}],
        ),
    )
    client.xadd(keys.pages, page_message(page))
    client.xadd(keys.pages, page_message(page))  # a worker's retry of the same hand-off
    client.sadd(keys.runs, "r1")
    client.xgroup_create(keys.pages, INGEST_GROUP, id="0")
    # A previous ingester read everything and died before acknowledging.
    client.xreadgroup(INGEST_GROUP, "ingester", {keys.pages: ">"}, count=10)
    assert client.xpending(keys.pages, INGEST_GROUP)["pending"] == 3
    store = Store(db)
    try:
        stats = StreamIngester(
            client, store, keys, IngestOptions(exit_when_done=True, block_ms=100)
        ).run()
    finally:
        store.close()
    assert stats.entries == 3 and stats.redelivered == 1
    assert stats.runs_finished == ["r1"]
    assert client.xpending(keys.pages, INGEST_GROUP)["pending"] == 0
    conn = sqlite3.connect(db)
    assert conn.execute("select count(*) from pages").fetchone()[0] == 1
    assert conn.execute("select count(*) from articles").fetchone()[0] == 1
    sha = conn.execute("select body_sha1 from pages").fetchone()[0]
    assert sha == hashlib.sha1(ARTICLE).hexdigest()
    assert conn.execute("select status, pages from crawl_runs").fetchone() == ("ok", 1)


def test_worker_needs_redis(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    result = subprocess.run(dangjian("worker"), capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2 and "--redis" in result.stderr
    result = subprocess.run(
        dangjian("enqueue", "--redis", f"redis://127.0.0.1:{free_port()}/0"),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1 and "cannot reach Redis" in result.stderr


def test_commands_have_help_with_examples():
    from click.testing import CliRunner

    from dangjian.cli import cli

    runner = CliRunner()
    for name in ("worker", "ingest", "enqueue"):
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0 and "Example" in result.output and "--redis" in result.output


def test_distributed_run_is_blocked_alerted_and_webhooked_like_a_local_one(redis_server, tmp_path):
    """A challenged site finishes ``blocked`` with its alert and webhook call, as on one machine."""
    from sample_sites import registry_entries
    from sample_sites import start_sample_sites as start_sites

    from .test_health import start_webhook

    handle = start_sites(port=0, size=6, behaviours={"old-district": {"challenge412": True}})
    hook, received = start_webhook()
    registry = tmp_path / "sites.yml"
    entries = [
        e
        for e in registry_entries(handle.addresses, 6)
        if e["id"] in ("old-district", "hongse-museum")
    ]
    registry.write_text(yaml.safe_dump({"sites": entries}, allow_unicode=True), encoding="utf-8")
    db = tmp_path / "distributed.db"
    env = {**os.environ, "DANGJIAN_ALERT_WEBHOOK": f"http://127.0.0.1:{hook.server_port}/hook"}
    try:
        run_id = enqueue(redis_server.url, registry)
        worker = start_worker(redis_server.url, registry, tmp_path / "w.log")
        ingester = subprocess.Popen(
            dangjian("ingest", "--redis", redis_server.url, "--db", str(db), "--exit-when-done"),
            stdout=(tmp_path / "ingest.log").open("w"),
            stderr=subprocess.STDOUT,
            env=env,
        )
        wait_all([worker, ingester])
    finally:
        handle.stop()
        hook.shutdown()
    assert ingester.returncode == 0, (tmp_path / "ingest.log").read_text()[-2000:]
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = {r["site_id"]: dict(r) for r in conn.execute("select * from crawl_runs")}
    assert rows["old-district"]["run_id"] == run_id
    assert rows["old-district"]["status"] == "blocked"
    assert "Ruishu" in rows["old-district"]["reason"]
    assert json.loads(rows["old-district"]["alerts"])[0]["kind"] == "blocked"
    assert rows["hongse-museum"]["status"] in ("ok", "partial")  # a timeout under load is partial
    assert rows["hongse-museum"]["articles_new"] > 0
    assert ("old-district", "blocked") in {(h["site_id"], h["kind"]) for h in received}
    # The block is a failures row of its own, not a failed page.
    (stage,) = conn.execute("select stage from failures where stage = 'blocked'").fetchone()
    assert stage == "blocked"


def test_the_shared_queue_takes_hosts_in_turn(redis_server):
    """Workers pop several hosts at once, not a run of one host's links (docs/distributed.md)."""
    from types import SimpleNamespace
    from urllib.parse import urlsplit

    from scrapy import Request

    from distributed.queue import ReliablePriorityQueue, RunDupeFilter

    keys = RedisKeys()
    worker = SimpleNamespace(
        name="news-redis",
        registry_redis=SimpleNamespace(processing_key=keys.processing("w")),
        keys=keys,
    )
    queue = ReliablePriorityQueue(redis_server.client, worker, keys.requests)
    seen = RunDupeFilter(redis_server.client, keys, ttl=60)

    def push(url: str, priority: int = 0) -> None:
        assert queue.push_filtered(Request(url, priority=priority, meta={"run_id": "r"}), seen)

    def pop(n: int) -> list[str]:
        return [urlsplit(queue.pop().url).hostname for _ in range(n)]

    for host in ("a.example", "b.example"):
        for i in range(5):
            push(f"http://{host}/{i}.html")
    push("http://c.example/list.html", priority=1)
    assert pop(1) == ["c.example"]  # priority still comes first
    first = pop(4)
    assert sorted(first) == ["a.example", "a.example", "b.example", "b.example"], first
    # A host new to the queue starts at the turn being served, not behind the others' backlog.
    push("http://d.example/0.html")
    assert pop(1) == ["d.example"]
    assert sorted(pop(6)) == ["a.example"] * 3 + ["b.example"] * 3
    assert queue.pop() is None
