"""`scrapyd-deploy` from the root of a checkout deploys the crawler to a real Scrapyd.

Scrapyd runs on loopback in a temporary folder. The real `scrapyd-deploy` (scrapyd-client)
builds the egg from a copy of the checkout: it writes a `setup.py` stub and `build/` beside
`scrapy.cfg`, so it works on a copy rather than in the working tree. The project's
`scrapy.cfg` is used unchanged; the test's Scrapyd is a `[deploy:test]` target in a user
`scrapy.cfg` (`$XDG_CONFIG_HOME/scrapy.cfg`), the way an operator adds a server. The job is
started through ``schedule.json`` and must store what `dangjian crawl` stores.
"""

from __future__ import annotations

import json
import os
import shutil
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
# What the egg is built from: pyproject.toml names the packages and the `scrapy` entry point.
CHECKOUT_FILES = ["scrapy.cfg", "pyproject.toml", "README.md", "metadata.yml", "datasette.yaml"]
PACKAGES = ["crawler", "pipeline", "dangjian", "ops", "distributed", "sample_sites"]

pytest.importorskip("scrapyd")


def copy_checkout(dest: Path) -> Path:
    """Copy what the egg is built from (symlinked data files become plain copies)."""
    dest.mkdir()
    for name in CHECKOUT_FILES:
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, dest / name)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            dest / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
        )
    return dest


def start_scrapyd(folder: Path, port: int) -> subprocess.Popen:
    (folder / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        f"eggs_dir = {folder / 'eggs'}\nlogs_dir = {folder / 'logs'}\n"
        f"dbs_dir = {folder / 'dbs'}\nitems_dir =\nmax_proc = 1\npoll_interval = 0.5\n"
    )
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("scrapyd")), "--nodaemon", "--pidfile="],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def scrapyd_deploy(checkout: Path, url: str, tmp_path: Path) -> dict:
    """Run `scrapyd-deploy test` in ``checkout``, the target ``test`` pointing at ``url``."""
    xdg = tmp_path / "xdg"
    xdg.mkdir()
    (xdg / "scrapy.cfg").write_text(f"[deploy:test]\nurl = {url}/\nproject = dangjian\n")
    result = subprocess.run(
        [str(Path(sys.executable).with_name("scrapyd-deploy")), "test", "--version", "r1"],
        cwd=checkout,
        env={**os.environ, "XDG_CONFIG_HOME": str(xdg)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert f'Deploying to project "dangjian" in {url}/addversion.json' in result.stderr
    return json.loads(result.stdout)


def test_scrapyd_deploy_from_the_root_runs_the_news_spider(crawled, sample_sites, tmp_path):
    port = free_port()
    scrapyd = tmp_path / "scrapyd"
    scrapyd.mkdir()
    proc = start_scrapyd(scrapyd, port)
    url = f"http://127.0.0.1:{port}"
    db = tmp_path / "news.db"
    try:
        wait_for_http(url + "/daemonstatus.json", timeout=30)
        answer = scrapyd_deploy(copy_checkout(tmp_path / "checkout"), url, tmp_path)
        assert answer["status"] == "ok" and answer["spiders"] == 1, answer
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
    log = next((scrapyd / "logs").rglob("*.log")).read_text(errors="replace")
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
