"""A poison page (one that makes a stage raise) is recorded as a failure and the work goes on.

Each entry point is tested: the crawl, ``dangjian import`` and the distributed ingester. The
fault is injected with ``DANGJIAN_FAULT_INJECTION=extract:MARKER`` (the extract stage raises
for URLs containing MARKER), never by editing the extractor.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
import redis
import yaml

from distributed.ingester import IngestOptions, StreamIngester
from distributed.stream import INGEST_GROUP, RedisKeys, page_message, run_message
from pipeline.errors import StoreError
from pipeline.ingest import ingest_page
from pipeline.store import Store

from .conftest import dangjian
from .test_distributed import ARTICLE, redis_server, sample_page  # noqa: F401 (fixture)

SITE = {"id": "s", "name": "示例", "level": "city", "start_urls": ["http://127.0.0.1:1/"]}


def failures(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("select url, stage, reason from failures").fetchall()
    finally:
        conn.close()


def test_ingest_page_records_a_poison_page_and_rolls_it_back(tmp_path, monkeypatch):
    monkeypatch.setenv("DANGJIAN_FAULT_INJECTION", "extract:poison")
    store = Store(tmp_path / "news.db")
    try:
        store.save_sites([SITE])
        bad = sample_page("http://127.0.0.1:1/poison/t1.html", ARTICLE)
        good = sample_page("http://127.0.0.1:1/a/t2.html", ARTICLE)
        outcome = ingest_page(store, bad)
        assert outcome.kind == "failure"
        assert outcome.reason.startswith("RuntimeError in extract: injected fault")
        assert ingest_page(store, good).kind == "new"
        rows = list(store.db.query("select url, outcome from pages order by id"))
    finally:
        store.close()
    assert [(r["url"].split("/")[3], r["outcome"]) for r in rows] == [
        ("poison", "failure"),
        ("a", "new"),
    ]
    ((url, stage, reason),) = failures(tmp_path / "news.db")
    assert "poison" in url and stage == "extract" and "RuntimeError" in reason


def test_import_goes_on_past_a_poison_page(tmp_path):
    folder = tmp_path / "saved"
    folder.mkdir()
    for name in ("one", "poison", "three"):
        (folder / f"{name}.html").write_bytes(ARTICLE.replace(b"12", name.encode()))
    db = tmp_path / "news.db"
    env = {**os.environ, "DANGJIAN_FAULT_INJECTION": "extract:poison"}
    result = subprocess.run(
        dangjian("import", str(folder), "--db", str(db)),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    conn = sqlite3.connect(db)
    outcomes = dict(conn.execute("select url, outcome from pages"))
    assert len(outcomes) == 3
    assert [o for u, o in outcomes.items() if "poison" in u] == ["failure"]
    assert sum(o in ("new", "duplicate") for o in outcomes.values()) == 2
    ((_, stage, reason),) = failures(db)
    assert stage == "extract" and "injected fault" in reason


@pytest.mark.e2e
def test_crawl_goes_on_past_a_poison_page(sample_sites, tmp_path):
    """A real crawl: the poison article is a failure, every other article is stored."""
    site_id = "hongse-museum"
    entry = next(
        e
        for e in yaml.safe_load(sample_sites.registry.read_text(encoding="utf-8"))["sites"]
        if e["id"] == site_id
    )
    registry = tmp_path / "sites.yml"
    registry.write_text(yaml.safe_dump({"sites": [entry]}, allow_unicode=True), encoding="utf-8")
    db = tmp_path / "news.db"
    clean = subprocess.run(
        dangjian("crawl", site_id, "--sample", "--sites", str(registry), "--db", str(db)),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert clean.returncode == 0, clean.stderr[-2000:]
    conn = sqlite3.connect(db)
    urls = sorted(u for (u,) in conn.execute("select url from articles"))
    conn.close()
    victim = urls[len(urls) // 2]
    marker = victim.rsplit("/", 1)[-1]
    poisoned_db = tmp_path / "poisoned.db"
    env = {**os.environ, "DANGJIAN_FAULT_INJECTION": f"extract:{marker}"}
    result = subprocess.run(
        dangjian("crawl", site_id, "--sample", "--sites", str(registry), "--db", str(poisoned_db)),
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    conn = sqlite3.connect(poisoned_db)
    stored = sorted(u for (u,) in conn.execute("select url from articles"))
    assert stored == [u for u in urls if u != victim]
    rows = conn.execute(
        "select stage, reason from failures where url like ?", [f"%{marker}"]
    ).fetchall()
    assert rows and rows[0][0] == "extract" and "injected fault" in rows[0][1]
    assert conn.execute(
        "select outcome from pages where url like ?", [f"%{marker}"]
    ).fetchone() == ("failure",)
    assert conn.execute("select status from crawl_runs").fetchone() == ("partial",)
    assert result.returncode == 0, result.stderr[-2000:]


def _stream_with(client: redis.Redis, keys: RedisKeys, *pages) -> None:
    client.xadd(keys.pages, run_message("r1", [SITE]))
    for page in pages:
        client.xadd(keys.pages, page_message(page))
    client.sadd(keys.runs, "r1")


def test_ingester_records_a_poison_page_and_acknowledges_it(redis_server, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DANGJIAN_FAULT_INJECTION", "extract:poison")
    client, keys = redis_server.client, RedisKeys()
    _stream_with(
        client,
        keys,
        sample_page("http://127.0.0.1:1/poison/t1.html", ARTICLE),
        sample_page("http://127.0.0.1:1/a/t2.html", ARTICLE),
    )
    store = Store(tmp_path / "news.db")
    try:
        stats = StreamIngester(
            client, store, keys, IngestOptions(exit_when_done=True, block_ms=100)
        ).run()
    finally:
        store.close()
    assert stats.outcomes["failure"] == 1 and stats.outcomes["new"] == 1
    assert client.xpending(keys.pages, INGEST_GROUP)["pending"] == 0
    ((_, stage, _),) = failures(tmp_path / "news.db")
    assert stage == "extract"


def test_an_entry_that_keeps_failing_goes_to_the_dead_letter_stream(
    redis_server,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    """Even recording fails (say the disk is full for that entry): retried, then parked."""
    import distributed.ingester as ingester_module

    def failing_ingest(store, page):
        if "poison" in page.url:
            raise StoreError("cannot record the failure: database or disk is full")
        return ingest_page(store, page)

    monkeypatch.setattr(ingester_module, "ingest_page", failing_ingest)
    client, keys = redis_server.client, RedisKeys()
    _stream_with(
        client,
        keys,
        sample_page("http://127.0.0.1:1/poison/t1.html", ARTICLE),
        sample_page("http://127.0.0.1:1/a/t2.html", ARTICLE),
    )
    options = IngestOptions(exit_when_done=True, block_ms=100, max_deliveries=3)
    for _attempt in (1, 2):  # the ingester stops; its supervisor restarts it
        store = Store(tmp_path / "news.db")
        try:
            with pytest.raises(StoreError):
                StreamIngester(client, store, keys, options).run()
        finally:
            store.close()
    store = Store(tmp_path / "news.db")
    try:
        stats = StreamIngester(client, store, keys, options).run()
    finally:
        store.close()
    assert stats.outcomes["dead-letter"] == 1 and stats.outcomes["new"] == 1
    assert client.xpending(keys.pages, INGEST_GROUP)["pending"] == 0
    ((_, fields),) = client.xrange(keys.dead_letters)
    assert b"poison" in fields[b"url"] and b"disk is full" in fields[b"reason"]
    assert fields[b"tries"] == b"3"
    assert not client.hlen(keys.failed_entries)
