"""Crawl jobs on one machine: one crawl per site at a time, and resuming a killed run.

Each site has a lock file ``<jobs dir>/<site>.lock`` (next to the database by default) held
with ``flock`` for as long as a crawl of the site runs; the kernel drops it when the process
dies, even by SIGKILL, so a stale lock can never keep a site from being crawled.

A site whose last ``crawl_runs`` row still says ``running`` while nobody holds its lock was
killed mid-run. When every selected site was killed in the same run, the next crawl carries
that run on (same run id): pages it stored are neither fetched nor stored again (the spider
skips known articles, the store pipeline skips pages of the run already stored). Other
killed rows are closed as ``partial``/``failed`` with the reason ``interrupted``.

Why not Scrapy's JOBDIR: it writes its queue state only on a clean shutdown, so after a
SIGKILL the request fingerprints survive but the queue does not, and the unfetched requests
are lost. The database is written page by page and is the safer record of progress.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from pipeline.runs import close_interrupted_runs
from pipeline.store import Store

logger = logging.getLogger(__name__)


def jobs_dir(db_path: str | Path, configured: str | None = None) -> Path:
    """Return the folder of the lock files: ``configured``, else ``jobs/`` beside the database."""
    return Path(configured) if configured else Path(db_path).resolve().parent / "jobs"


class SiteLocks:
    """Exclusive, non-blocking per-site locks held until ``release`` or process exit."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.held: dict[str, int] = {}

    def acquire(self, site_ids: Iterable[str]) -> list[str]:
        """Lock every free site; return the ids of those another process is crawling."""
        self.folder.mkdir(parents=True, exist_ok=True)
        busy = []
        for site_id in site_ids:
            fd = os.open(self.folder / f"{site_id}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                busy.append(site_id)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self.held[site_id] = fd
        return busy

    def release(self) -> None:
        for fd in self.held.values():
            os.close(fd)  # closing the descriptor drops the flock
        self.held.clear()

    def __enter__(self) -> SiteLocks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def recover_interrupted(db_path: str | Path, site_ids: list[str]) -> str | None:
    """Find the run to resume for ``site_ids`` (locked by the caller) and close the others.

    See ``pipeline.runs.close_interrupted_runs``.

    Returns:
        The run id to carry on, or None to start a new run.
    """
    if not Path(db_path).exists() or not site_ids:
        return None
    store = Store(db_path)
    try:
        return close_interrupted_runs(store, site_ids)
    finally:
        store.close()
