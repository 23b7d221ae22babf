"""Health and politeness, against sample sites switched into misbehaving (issue 6).

One crawl (module fixture) of sample sites served in this process with behaviours on:
old-district answers a Ruishu 412 ``$_ts`` challenge, xuzhou-jgdj changed its layout,
qikan-aggregator fails most of its articles with 503, wuhan-tzb is slow and starts with a
burst of 503s. A webhook server on loopback collects the alerts.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml

from crawler.antibot import detect_challenge
from pipeline.runs import HealthOptions, evaluate_run
from pipeline.store import Store
from pipeline.store.runs import STATUS_SQL
from sample_sites import registry_entries, start_sample_sites
from sample_sites.behaviours import CAPTCHA_PAGE, TS_CHALLENGE

from .conftest import dangjian

ROOT = Path(__file__).resolve().parents[1]
SIZE = 12
BEHAVIOURS = {
    "old-district": {"challenge412": True},
    "xuzhou-jgdj": {"layout_changed": True},
    "qikan-aggregator": {"5xx_rate": 0.8},
    "wuhan-tzb": {"slow": 0.15, "5xx_burst": 3},
}


@dataclass
class Run:
    db: Path
    output: str
    handle: object
    hooks: list[dict]


def start_webhook() -> tuple[HTTPServer, list[dict]]:
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("health")
    handle = start_sample_sites(port=0, size=SIZE, behaviours=BEHAVIOURS)
    hook, received = start_webhook()
    registry = tmp / "sites.yml"
    registry.write_text(
        yaml.safe_dump({"sites": registry_entries(handle.addresses, SIZE)}, allow_unicode=True),
        encoding="utf-8",
    )
    db = tmp / "news.db"
    try:
        # No --no-progress: stderr is a pipe, so progress comes as plain log lines.
        result = subprocess.run(
            dangjian(
                "crawl",
                "--sample",
                "--sites",
                str(registry),
                "--db",
                str(db),
                "-s",
                f"DANGJIAN_ALERT_WEBHOOK=http://127.0.0.1:{hook.server_port}/hook",
                "-s",
                "DANGJIAN_RETRY_BACKOFF=0.4",
                "-s",
                "DANGJIAN_PROGRESS_INTERVAL=0.5",
            ),
            capture_output=True,
            text=True,
            timeout=120,
        )
        yield Run(db, result.stdout + result.stderr, handle, received)
    finally:
        handle.stop()
        hook.shutdown()


def runs(db: Path) -> dict[str, dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return {r["site_id"]: dict(r) for r in conn.execute("select * from crawl_runs")}


def test_challenge_blocks_that_site_only(run):
    rows = runs(run.db)
    assert rows["old-district"]["status"] == "blocked", run.output
    assert "$_ts" in rows["old-district"]["reason"]
    # The first answer was the challenge; nothing more was asked of that site.
    assert run.handle.behaviours["old-district"].stats()["requests"] == 1
    for site_id in ("wuchang-museum", "gzdaily-dangjian", "mirror-hant", "wuhan-tzb"):
        assert rows[site_id]["status"] in ("ok", "partial"), (site_id, rows[site_id])
        assert rows[site_id]["articles_new"] + rows[site_id]["duplicates"] > 0, site_id


def test_alerts_go_to_log_and_webhook(run):
    kinds = {(h["site_id"], h["kind"]) for h in run.hooks}
    assert ("old-district", "blocked") in kinds
    assert ("xuzhou-jgdj", "layout") in kinds
    assert ("qikan-aggregator", "failure-rate") in kinds
    assert not any(site in ("wuchang-museum", "gzdaily-dangjian") for site, _ in kinds)
    assert re.search(r"ALERT xuzhou-jgdj layout", run.output)
    stored = json.loads(runs(run.db)["xuzhou-jgdj"]["alerts"])
    assert stored[0]["kind"] == "layout"


def test_retries_back_off_and_recover(run):
    log = run.handle.behaviours["wuhan-tzb"].stats()["log"]
    assert sum(e["status"] == 503 for e in log) == 3
    for path in {e["path"] for e in log if e["status"] == 503}:
        tries = sorted((e for e in log if e["path"] == path), key=lambda e: e["at"])
        assert tries[-1]["status"] == 200
        # DANGJIAN_RETRY_BACKOFF=0.4: the n-th retry waits 0.4 × 2^(n-1) s (minus slack).
        for n, (before, after) in enumerate(zip(tries, tries[1:], strict=False), start=1):
            assert after["at"] - before["at"] >= 0.4 * 2 ** (n - 1) - 0.05, tries
    assert runs(run.db)["wuhan-tzb"]["status"] == "ok"


def test_politeness_concurrency_user_agent_robots(run):
    for site_id, behaviour in run.handle.behaviours.items():
        stats = behaviour.stats()
        assert stats["peak_concurrency"] <= 2, site_id
        assert all("dangjian-news" in ua and "+http" in ua for ua in stats["user_agents"])
        hidden = set(run.handle.sites[site_id].disallowed_paths())
        assert not hidden & {e["path"] for e in stats["log"]}, site_id
    # The slow site had pages in flight two at a time, never more.
    assert run.handle.behaviours["wuhan-tzb"].stats()["peak_concurrency"] == 2


def test_progress_is_logged_plainly_off_a_terminal(run):
    assert re.search(r"progress: \d+ pages, \d+ new articles, \d+ failures, [\d.]+/s", run.output)
    assert "\r" not in run.output  # no tqdm bar redraws


def test_status_command_and_canned_query(run):
    out = subprocess.run(
        dangjian("status", "--db", str(run.db)),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("old-district"))
    assert "blocked" in line
    assert "layout" in next(x for x in out.splitlines() if x.startswith("xuzhou-jgdj"))
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    canned = metadata["databases"]["news"]["queries"]["site_health"]["sql"]
    assert " ".join(canned.split()) == " ".join(STATUS_SQL.split())
    rows = sqlite3.connect(run.db).execute(canned).fetchall()
    assert len(rows) == len(run.handle.sites)  # one row per crawled sample site


@pytest.mark.parametrize(
    "status,cookies,body,location,expected",
    [
        (412, [], TS_CHALLENGE, "", "$_ts"),
        (302, ["wzws_cid=3f8e; path=/"], b"", "/?wzwschallenge=V1", "wzws_cid"),
        (
            521,
            ["__jsluid_h=9a1f; path=/"],
            b"<script>document.cookie=('__jsl_clearance=1')</script>",
            "",
            "__jsluid",
        ),
        (200, [], CAPTCHA_PAGE, "", "captcha"),
        (200, ["__jsluid_s=9a1f; path=/"], b"<html><title>news</title><p>ok</p></html>", "", None),
        (412, [], b"<html>Precondition Failed</html>", "", None),
        (200, [], "<title>关于加强党建工作的通知</title><p>短信验证码</p>".encode(), "", None),
    ],
)
def test_detect_challenge(status, cookies, body, location, expected):
    reason = detect_challenge(status, cookies, body, location)
    assert (reason is None) if expected is None else (expected in reason)


def test_stale_site_is_flagged_after_n_runs_without_news(tmp_path):
    store = Store(tmp_path / "news.db")
    store.save_sites([{"id": "s", "name": "S", "start_urls": ["http://a.example/"]}])
    options = HealthOptions(stale_runs=3)
    kinds = []
    for n, new in enumerate([4, 0, 0, 0]):
        run_id = f"2026112{n}T000000Z-0000"
        store.start_run(run_id, ["s"])
        store.update_run(run_id, "s", started_at=f"2026-11-2{n}T00:00:00Z")
        store.finish_run(run_id, "s", {"pages": 5, "articles_new": new}, "ok")
        kinds.append([a.kind for a in evaluate_run(store.db, run_id, "s", 5, options)])
    assert kinds == [[], [], [], ["stale"]]
