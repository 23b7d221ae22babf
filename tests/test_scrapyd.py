"""The crawler deploys to a real Scrapyd unchanged and its jobs store articles.

Scrapyd runs on loopback in a temporary folder; the egg is built from this checkout by
deploy/scrapyd_deploy.py (what scrapyd-deploy would do, see that module) and uploaded through
``addversion.json``; the job is started through ``schedule.json``.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[1]
SITES = ["wuchang-museum", "gzdaily-dangjian"]

pytest.importorskip("scrapyd")


def load_deploy():
    spec = importlib.util.spec_from_file_location(
        "scrapyd_deploy", ROOT / "deploy" / "scrapyd_deploy.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scrapyd_runs_the_news_spider(crawled, sample_sites, tmp_path):
    port = free_port()
    (tmp_path / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        f"eggs_dir = {tmp_path / 'eggs'}\nlogs_dir = {tmp_path / 'logs'}\n"
        f"dbs_dir = {tmp_path / 'dbs'}\nitems_dir =\nmax_proc = 1\npoll_interval = 0.5\n"
    )
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("scrapyd")), "--nodaemon", "--pidfile="],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    db = tmp_path / "news.db"
    try:
        wait_for_http(url + "/daemonstatus.json", timeout=30)
        deploy = load_deploy()
        egg = deploy.build_egg(tmp_path / "dist", "r1")
        assert deploy.deploy(url, "dangjian", "r1", egg)["spiders"] == 1
        assert httpx.get(url + "/listspiders.json", params={"project": "dangjian"}).json()[
            "spiders"
        ] == ["news"]
        job = httpx.post(
            url + "/schedule.json",
            data={
                "project": "dangjian",
                "spider": "news",
                "sites": ",".join(SITES),
                "setting": [
                    f"DANGJIAN_DB={db}",
                    f"DANGJIAN_SITES={sample_sites.registry}",
                    "DANGJIAN_PROGRESS=off",
                ],
            },
        ).json()
        assert job["status"] == "ok", job
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            jobs = httpx.get(url + "/listjobs.json", params={"project": "dangjian"}).json()
            if any(j["id"] == job["jobid"] for j in jobs["finished"]):
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"the Scrapyd job did not finish: {jobs}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    log = next((tmp_path / "logs").rglob("*.log")).read_text(errors="replace")
    assert db.exists(), log[-3000:]
    got = (
        sqlite3.connect(db)
        .execute("select site_id, count(*) from articles group by site_id")
        .fetchall()
    )
    marks = ", ".join("?" * len(SITES))
    expected = (
        sqlite3.connect(crawled.db)
        .execute(
            f"select site_id, count(*) from articles where site_id in ({marks}) group by site_id",
            SITES,
        )
        .fetchall()
    )
    assert sorted(got) == sorted(expected), log[-3000:]
    statuses = {s for (s,) in sqlite3.connect(db).execute("select status from crawl_runs")}
    assert statuses <= {"ok", "partial"}
