"""Reprint clusters: every article belongs to one story, whose original is the first to publish.

Two articles are the same story when their normalised texts hash the same or their MinHash
signatures agree on at least ``THRESHOLD`` of their slots (found through the LSH bands kept
in ``article_bands``). This module keeps ``article_minhash``, ``article_bands``, ``clusters``,
``articles.cluster_id`` and ``articles.duplicate_of`` (the cluster's original, NULL for the
original itself) in step; it writes only those, through the store's connection.

Adding one article (:func:`assign_cluster`) reads its candidates from the band index and
their signatures, never the corpus; :func:`rebuild_clusters` clusters a whole database in
bulk (sorted band keys in numpy, then union-find), for the backfill a migration asks for (run by ``Store``) and benchmarks.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import sqlite_utils

from pipeline.dedupe import BANDS, NUM_PERM, THRESHOLD, band_hashes, dedupe_text, minhash

logger = logging.getLogger(__name__)

BATCH = 2000
CHUNK = 500_000  # band rows written per executemany
MIN_CHARS = 30  # letters and digits a text needs before it can match another
WINDOW = 32  # articles compared per band key: the newest this many before it


@dataclass(frozen=True)
class ClusterResult:
    """Where an article went: its cluster, and whether it joined articles already there."""

    cluster_id: int
    joined: bool


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_too_short(text: str | None) -> bool:
    """True when a text has too few letters and digits to say whose copy it is."""
    return len(dedupe_text(text or "")) < MIN_CHARS


def signature_of(text: str | None, article_id: int) -> np.ndarray:
    """Return the MinHash signature of an article text (normalised the dedupe way).

    A text shorter than ``MIN_CHARS`` ("详见附件", an empty body) gets random values seeded
    by the article id, so it matches nothing: two such notes are not the same story.
    """
    fingerprint = dedupe_text(text or "")
    if len(fingerprint) < MIN_CHARS:
        seeded = np.random.default_rng([article_id, 0x5EED])
        return seeded.integers(0, 2**32, NUM_PERM, dtype=np.uint32)
    return minhash(fingerprint)


def _signatures(batch: Sequence[tuple[int, str | None]]) -> tuple[list[int], np.ndarray]:
    ids = [i for i, _ in batch]
    return ids, np.stack([signature_of(t, i) for i, t in batch]) if batch else np.zeros(
        (0, NUM_PERM), np.uint32
    )


def _store_signature(db: sqlite_utils.Database, article_id: int, sig: np.ndarray) -> None:
    # An upsert, not INSERT OR REPLACE: REPLACE deletes the old row without firing delete
    # triggers, so the row count kept in _counts would drift (0006_summaries).
    db.execute(
        "INSERT INTO article_minhash (article_id, signature) VALUES (?, ?) "
        "ON CONFLICT (article_id) DO UPDATE SET signature = excluded.signature",
        [article_id, sig.tobytes()],
    )
    db.conn.executemany(
        "INSERT OR IGNORE INTO article_bands (band_hash, article_id) VALUES (?, ?)",
        [(int(h), article_id) for h in band_hashes(sig)[0]],
    )


def _forget_signature(db: sqlite_utils.Database, article_id: int) -> None:
    row = db.execute(
        "SELECT signature FROM article_minhash WHERE article_id = ?", [article_id]
    ).fetchone()
    if row is None:
        return
    old = np.frombuffer(row[0], dtype=np.uint32)
    db.conn.executemany(
        "DELETE FROM article_bands WHERE band_hash = ? AND article_id = ?",
        [(int(h), article_id) for h in band_hashes(old)[0]],
    )
    db.execute("DELETE FROM article_minhash WHERE article_id = ?", [article_id])


def find_matches(
    db: sqlite_utils.Database, article_id: int, content_hash: str | None, sig: np.ndarray
) -> dict[int, float]:
    """Return the other articles that are the same story, with their estimated similarity."""
    matches: dict[int, float] = {}
    if content_hash:
        for (other,) in db.execute(
            "SELECT id FROM articles WHERE content_hash = ? AND id != ?", [content_hash, article_id]
        ):
            matches[other] = 1.0
    # The newest WINDOW articles of each band: a band that hundreds of articles share is
    # boilerplate, and reading all of them would make adding cost grow with the corpus.
    keys = [int(h) for h in band_hashes(sig)[0]]
    rows = db.execute(
        "SELECT m.article_id, m.signature FROM article_minhash m WHERE m.article_id IN ("
        + " UNION ".join(
            [
                "SELECT * FROM (SELECT article_id FROM article_bands WHERE "
                "band_hash = ? ORDER BY article_id DESC LIMIT ?)"
            ]
            * len(keys)
        )
        + ") AND m.article_id != ?",
        [v for k in keys for v in (k, WINDOW)] + [article_id],
    ).fetchall()
    if rows:
        others = np.stack([np.frombuffer(blob, dtype=np.uint32) for _, blob in rows])
        for (other, _), sim in zip(rows, (others == sig).mean(axis=1), strict=True):
            if sim >= THRESHOLD:
                matches[other] = max(matches.get(other, 0.0), float(sim))
    return matches


def assign_cluster(db: sqlite_utils.Database, article_id: int) -> ClusterResult:
    """Put a new or changed article into its story's cluster (merging clusters it bridges).

    Args:
        db: the store's database, inside the caller's transaction.
        article_id: the article just written.

    Returns:
        The cluster, and ``joined=True`` when other articles were already in it.
    """
    row = db.execute(
        "SELECT text, content_hash, cluster_id FROM articles WHERE id = ?", [article_id]
    ).fetchone()
    text, chash, old_cluster = row
    _forget_signature(db, article_id)
    sig = signature_of(text, article_id)
    matches = find_matches(db, article_id, None if is_too_short(text) else chash, sig)
    reuse = None  # a changed article alone in its cluster keeps that cluster's id
    if old_cluster is not None:
        db.execute(
            "UPDATE articles SET cluster_id = NULL, duplicate_of = NULL WHERE id = ?", [article_id]
        )
        if db.execute(
            "SELECT 1 FROM articles WHERE cluster_id = ? LIMIT 1", [old_cluster]
        ).fetchone():
            refresh_cluster(db, old_cluster)
        else:
            reuse = old_cluster
    _store_signature(db, article_id, sig)
    found: list[int] = []
    if matches:
        ids = list(matches)
        found = sorted(
            {
                c
                for (c,) in db.execute(
                    f"SELECT DISTINCT cluster_id FROM articles WHERE id IN ({', '.join('?' * len(ids))})"
                    " AND cluster_id IS NOT NULL",
                    ids,
                )
            }
        )
    if not found and reuse is not None:
        cluster_id = reuse
    elif not found:
        db.execute(
            "INSERT INTO clusters (original_id, size, sites, updated_at) VALUES (?, 1, 1, ?)",
            [article_id, _now()],
        )
        cluster_id = int(db.execute("SELECT last_insert_rowid()").fetchone()[0])
    else:
        cluster_id = found[0]
        if reuse is not None:
            db.execute("DELETE FROM clusters WHERE id = ?", [reuse])
        for other in found[1:]:  # this article bridges two stories already seen: one cluster
            db.execute(
                "UPDATE articles SET cluster_id = ? WHERE cluster_id = ?", [cluster_id, other]
            )
            db.execute("DELETE FROM clusters WHERE id = ?", [other])
    db.execute("UPDATE articles SET cluster_id = ? WHERE id = ?", [cluster_id, article_id])
    refresh_cluster(db, cluster_id)
    return ClusterResult(cluster_id, bool(found))


def _when(published: str | None) -> tuple[str, str]:
    """Split ``published`` into (day, time); a missing time sorts with any time that day."""
    value = published or "9999-12-31"
    return value[:10], value[11:16]


def pick_original(members: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Return the cluster's original: earliest published, then the site its 来源 names, then hans.

    A date without a time ties with every time on that day, since the copy may be older.

    Args:
        members: rows with ``id``, ``published``, ``source``, ``site_name``, ``script``.
    """
    day = min(_when(m["published"])[0] for m in members)
    first = [m for m in members if _when(m["published"])[0] == day]
    if all(_when(m["published"])[1] for m in first):
        earliest = min(_when(m["published"])[1] for m in first)
        first = [m for m in first if _when(m["published"])[1] == earliest]
    sources = [m["source"] or "" for m in members]

    def named(m: dict[str, Any]) -> int:
        name = m["site_name"] or ""
        return sum(1 for s in sources if name and (name in s or (s and s in name)))

    return min(first, key=lambda m: (-named(m), m["script"] != "hans", m["id"]))


MEMBERS_SQL = """SELECT a.id, a.published, a.source, a.script, a.site_id,
       coalesce(s.name, a.site_name) AS site_name
FROM articles a LEFT JOIN sites s ON s.id = a.site_id WHERE a.cluster_id = ?"""


def refresh_cluster(db: sqlite_utils.Database, cluster_id: int) -> None:
    """Recompute a cluster's original, size, sites and dates; delete it when empty."""
    cur = db.execute(MEMBERS_SQL, [cluster_id])
    cols = [d[0] for d in cur.description]
    members = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    if not members:
        db.execute("DELETE FROM clusters WHERE id = ?", [cluster_id])
        return
    original = pick_original(members)
    dates = sorted(m["published"] for m in members if m["published"])
    db.execute(
        "UPDATE clusters SET original_id = ?, size = ?, sites = ?, first_published = ?, "
        "last_published = ?, updated_at = ? WHERE id = ?",
        [
            original["id"],
            len(members),
            len({m["site_id"] for m in members}),
            dates[0] if dates else None,
            dates[-1] if dates else None,
            _now(),
            cluster_id,
        ],
    )
    db.execute(
        "UPDATE articles SET duplicate_of = CASE WHEN id = ? THEN NULL ELSE ? END "
        "WHERE cluster_id = ?",
        [original["id"], original["id"], cluster_id],
    )


def _range_signatures(job: tuple[str, int, int]) -> tuple[list[int], np.ndarray]:
    """Worker: read articles ``lo <= id < hi`` from the database file and sign them."""
    path, lo, hi = job
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        batch = conn.execute(
            "SELECT id, text FROM articles WHERE id >= ? AND id < ? ORDER BY id", [lo, hi]
        ).fetchall()
    return _signatures(batch)


def _database_file(db: sqlite_utils.Database) -> str | None:
    row = db.execute("PRAGMA database_list").fetchone()
    return row[2] or None if row else None


def _all_signatures(db: sqlite_utils.Database, workers: int) -> tuple[np.ndarray, np.ndarray]:
    """Sign every article; with workers, each process reads its own id range from the file.

    The result arrays are allocated once (512 MB of signatures for a million articles) and
    filled batch by batch, never concatenated.
    """
    count = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    ids = np.zeros(count, dtype=np.int64)
    sigs = np.zeros((count, NUM_PERM), dtype=np.uint32)
    filled = 0

    def put(batch: tuple[list[int], np.ndarray]) -> None:
        nonlocal filled
        batch_ids, batch_sigs = batch
        ids[filled : filled + len(batch_ids)] = batch_ids
        sigs[filled : filled + len(batch_ids)] = batch_sigs
        filled += len(batch_ids)

    path = _database_file(db)
    if workers > 1 and path:
        lo, hi = db.execute("SELECT min(id), max(id) FROM articles").fetchone()
        jobs = [(path, start, start + BATCH) for start in range(lo or 0, (hi or -1) + 1, BATCH)]
        with ProcessPoolExecutor(workers) as pool:
            # Few jobs in flight at a time, so memory does not grow with the corpus.
            pending = [pool.submit(_range_signatures, job) for job in jobs[: 2 * workers]]
            for next_job in [*jobs[2 * workers :], *([None] * len(pending))]:
                put(pending.pop(0).result())
                if next_job is not None:
                    pending.append(pool.submit(_range_signatures, next_job))
    else:
        cur = db.execute("SELECT id, text FROM articles ORDER BY id")
        while batch := cur.fetchmany(BATCH):
            put(_signatures(batch))
    return ids[:filled], sigs[:filled]


def _sorted_bands(sigs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return every band key in ascending order, and the row (article index) of each.

    Within one key, rows ascend (stable sort), i.e. articles in the order they were stored.
    """
    # In chunks: band_hashes widens 100 slots to 64 bits, 800 MB for a million at once.
    flat = np.concatenate(
        [band_hashes(sigs[lo : lo + 50_000]).ravel() for lo in range(0, len(sigs), 50_000)]
    )
    order = np.argsort(flat, kind="stable")
    flat = flat[order]
    order //= BANDS  # position in the (articles × bands) matrix → article row, in place
    return flat, order


def _matching_pairs(flat: np.ndarray, rows: np.ndarray, sigs: np.ndarray) -> np.ndarray:
    """Return the (i, j) row pairs that share a band key and pass the ``THRESHOLD`` check.

    Articles sharing a key are compared when at most ``WINDOW`` places apart in key order: a
    bucket of up to WINDOW + 1 articles gives all its pairs; a larger one (a stock paragraph
    many sites print) pairs each article with the WINDOW stored just before it, as
    :func:`find_matches` does, so candidates grow linearly, not quadratically. Candidates are
    checked as they are found, so only matches are kept in memory.
    """
    found: list[np.ndarray] = []
    for d in range(1, WINDOW + 1):
        same = np.flatnonzero(flat[:-d] == flat[d:])
        if not len(same):
            break
        for lo in range(0, len(same), 25_000):  # 25,000 pairs of signatures: 25 MB at a time
            part = same[lo : lo + 25_000]
            i, j = rows[part], rows[part + d]
            keep = (sigs[i] == sigs[j]).mean(axis=1) >= THRESHOLD
            found.append(np.stack([i[keep], j[keep]], axis=1))
    if not found:
        return np.zeros((0, 2), np.int64)
    return np.unique(np.concatenate(found), axis=0)


def _components(n: int, pairs: np.ndarray) -> np.ndarray:
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs.tolist():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(x) for x in range(n)]) if len(pairs) else parent


def rebuild_clusters(db: sqlite_utils.Database, workers: int = 1) -> int:
    """Cluster every article from scratch: signatures, band index, clusters, originals.

    Args:
        db: the store's database (the caller holds the transaction or none).
        workers: processes computing signatures (the rest is one pass in numpy).

    Returns:
        The number of clusters.
    """
    ids, sigs = _all_signatures(db, workers)
    db.execute("DELETE FROM article_bands")
    db.execute("DELETE FROM article_minhash")
    # Only rows that hold a value: rewriting every page of a fresh corpus costs minutes.
    db.execute(
        "UPDATE articles SET cluster_id = NULL, duplicate_of = NULL "
        "WHERE cluster_id IS NOT NULL OR duplicate_of IS NOT NULL"
    )
    db.execute("DELETE FROM clusters")
    if not len(ids):
        return 0
    db.conn.executemany(
        "INSERT INTO article_minhash (article_id, signature) VALUES (?, ?)",
        ((int(i), s.tobytes()) for i, s in zip(ids, sigs, strict=True)),
    )
    flat, rows = _sorted_bands(sigs)
    # In key order the B-tree only appends; in chunks so Python objects stay few.
    for lo in range(0, len(flat), CHUNK):
        db.conn.executemany(
            "INSERT OR IGNORE INTO article_bands (band_hash, article_id) VALUES (?, ?)",
            zip(flat[lo : lo + CHUNK].tolist(), ids[rows[lo : lo + CHUNK]].tolist(), strict=True),
        )
    pairs = _matching_pairs(flat, rows, sigs)
    del flat, rows
    roots = _components(len(ids), pairs)
    # Cluster ids are 1..k in the order of each story's first article.
    _, first_index, inverse = np.unique(roots, return_index=True, return_inverse=True)
    rank = np.empty(len(first_index), np.int64)
    rank[np.argsort(first_index)] = np.arange(1, len(first_index) + 1)
    cluster_of = rank[inverse]
    db.conn.executemany(
        "UPDATE articles SET cluster_id = ? WHERE id = ?",
        zip(cluster_of.tolist(), ids.tolist(), strict=True),
    )
    sizes = np.bincount(cluster_of)
    singles = sizes[cluster_of] == 1
    db.conn.executemany(
        "INSERT INTO clusters (id, original_id, size, sites, first_published, last_published, "
        "updated_at) SELECT ?, id, 1, 1, published, published, ? FROM articles WHERE id = ?",
        ((int(c), _now(), int(i)) for c, i in zip(cluster_of[singles], ids[singles], strict=True)),
    )
    for c in np.unique(cluster_of[~singles]).tolist():
        db.execute("INSERT INTO clusters (id, size) VALUES (?, 0)", [c])
        refresh_cluster(db, c)
    logger.info("clustered %d articles into %d stories", len(ids), len(sizes) - 1)
    return len(sizes) - 1
