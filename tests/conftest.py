"""Shared fixtures: the sample sites and a crawl of them, as real processes on loopback.

Every subprocess has a timeout and is stopped in teardown.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SIZE = 30  # articles per sample site, the default the README quotes


@dataclass
class SampleSitesProcess:
    addresses: dict[str, str]
    registry: Path
    size: int


def dangjian(*args: str) -> list[str]:
    return [sys.executable, "-m", "dangjian", *args]


def start_sample_sites(tmp: Path, size: int = SIZE) -> tuple[subprocess.Popen, SampleSitesProcess]:
    """Start `dangjian sample-sites --port 0` and read the addresses it prints."""
    registry = tmp / "sites.yml"
    proc = subprocess.Popen(
        dangjian(
            "sample-sites", "--port", "0", "--size", str(size), "--registry-out", str(registry)
        ),
        stdout=subprocess.PIPE,
        text=True,
    )
    addresses: dict[str, str] = {}
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"sample-sites exited with {proc.wait()}")
        if line.strip() == "ready":
            return proc, SampleSitesProcess(addresses, registry, size)
        site_id, url = line.split()
        addresses[site_id] = url
    proc.kill()
    raise RuntimeError("sample-sites did not become ready in 60 s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def sample_sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleSitesProcess]:
    proc, info = start_sample_sites(tmp_path_factory.mktemp("sample-sites"))
    try:
        yield info
    finally:
        stop(proc)


@dataclass
class CrawlResult:
    db: Path
    returncode: int
    output: str


def run_crawl(registry: Path, db: Path, *extra: str, timeout: float = 400) -> CrawlResult:
    result = subprocess.run(
        dangjian(
            "crawl", "--sample", "--sites", str(registry), "--db", str(db), "--no-progress", *extra
        ),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return CrawlResult(db, result.returncode, result.stdout + result.stderr)


@pytest.fixture(scope="session")
def crawled(
    sample_sites: SampleSitesProcess, tmp_path_factory: pytest.TempPathFactory
) -> CrawlResult:
    """One real crawl of every sample site into a fresh database."""
    db = tmp_path_factory.mktemp("crawl") / "news.db"
    result = run_crawl(sample_sites.registry, db)
    assert db.exists(), result.output
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@pytest.fixture(scope="session")
def datasette_url(crawled: CrawlResult) -> Iterator[str]:
    """`dangjian serve` on the crawled database, on a free loopback port."""
    port = free_port()
    env = {**os.environ}
    proc = subprocess.Popen(
        dangjian("serve", "--db", str(crawled.db), "--port", str(port)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/-/versions.json")
        yield url
    finally:
        stop(proc)
