"""Test data for dedupe: labelled evaluation sets and large synthetic corpora.

* :func:`generated_eval_set`: each generated sample-site story, five variants of it that must
  join its cluster (other boilerplate, a paragraph added, a paragraph removed, a changed title,
  traditional script with injected pinyin) and one hard negative that must not (the same
  meeting — same title, unit, activity and date — told in other words). The other stories
  of the same site, drawn from the same phrase banks and templates, are the second kind of
  hard negative.
* :func:`sample_site_labels`: the true story of every article of a crawl of the sample
  sites, from ``ExpectedArticle.republished_from``.
* :func:`synthetic_rows`: N article rows for the benchmarks, about 10 % of them reprints.
* :func:`pair_scores`: precision and recall of "same story" decisions over all pairs.

This lives beside the benchmarks because it needs the sample sites (``crawler/``), which the
pipeline must not import.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.extract.normalise import normalise_text
from sample_sites import build_sites
from sample_sites.catalog import ARTICLE
from sample_sites.content import IMAGE, make_story
from sample_sites.sites import route_key
from sample_sites.text import inject_pinyin, to_traditional

VARIANTS = (
    "boilerplate",
    "paragraph-added",
    "paragraph-removed",
    "title-changed",
    "traditional-pinyin",
)
NEGATIVES = ("own-words",)


@dataclass(frozen=True)
class EvalArticle:
    """One article of an evaluation set; ``story`` is the truth, ``kind`` how it was made."""

    key: str
    story: str
    kind: str
    site_id: str
    title: str
    text: str
    published: str
    source: str = ""
    script: str = "hans"


def pair_scores(
    truth: Mapping[object, object], predicted: Mapping[object, object]
) -> dict[str, float]:
    """Return precision, recall and pair counts of "same story" decisions over all pairs.

    Args:
        truth: item → true story label.
        predicted: item → cluster id (same keys).
    """

    def pairs(counter: Counter) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    same_true = pairs(Counter(truth.values()))
    same_pred = pairs(Counter(predicted.values()))
    both = pairs(Counter((truth[k], predicted[k]) for k in truth))
    return {
        "precision": both / same_pred if same_pred else 1.0,
        "recall": both / same_true if same_true else 1.0,
        "true_pairs": same_true,
        "predicted_pairs": same_pred,
        "correct_pairs": both,
    }


def _paragraphs(blocks: list[tuple[str, str]]) -> list[str]:
    return [text for kind, text in blocks if kind != IMAGE]


def generated_eval_set(size: int = 30, per_site: int | None = None) -> list[EvalArticle]:
    """Return the generated evaluation set built from the sample sites' own stories.

    Args:
        size: sample-site size to draw stories from.
        per_site: at most this many stories per site (all when None).
    """
    out: list[EvalArticle] = []
    sites = build_sites(size)
    for site_id, site in sites.items():
        natives = site.catalog.natives()[:per_site]
        others = [site.catalog.natives()[-1 - i] for i in range(len(natives))]
        for n, entry in enumerate(natives):
            story = entry.story()
            paras = _paragraphs(story.blocks)
            key = f"{site_id}:{entry.num}"
            when = site.shown_published(entry)
            base = EvalArticle(
                key, key, "original", site_id, entry.title_s, "\n".join(paras), when, story.source
            )
            out.append(base)
            rng = random.Random(key)
            extra = max(_paragraphs(others[n].story().blocks), key=len)
            boiler = [
                "当前位置：首页 > 新闻中心 > 工作动态",
                f"来源：{site.name}",
                *paras,
                f"责任编辑：{story.editor}",
                "【打印本页】【关闭窗口】",
                "扫一扫在手机打开当前页",
            ]
            cut = rng.randrange(1, max(2, len(paras) - 1))
            trad = inject_pinyin(to_traditional("\n".join(paras)), n)[0]
            texts = {
                "boilerplate": "\n".join(boiler),
                "paragraph-added": "\n".join([*paras[:cut], extra, *paras[cut:]]),
                "paragraph-removed": "\n".join(paras[:cut] + paras[cut + 1 :]),
                "title-changed": base.text,
                "traditional-pinyin": normalise_text(trad),
            }
            for kind in VARIANTS:
                title = f"【转载】{entry.title_s[:12]}" if kind == "title-changed" else base.title
                out.append(
                    EvalArticle(
                        f"{key}:{kind}",
                        key,
                        kind,
                        f"copy-{kind}",
                        title,
                        texts[kind],
                        when,
                        site.name,
                        "hant" if kind == "traditional-pinyin" else "hans",
                    )
                )
            # The same meeting reported by another site in its own words.
            other = make_story(
                f"own-words:{key}",
                entry.flavor,
                entry.title_s,
                entry.story_when or entry.published,
                entry.ctx,
            )
            out.append(
                EvalArticle(
                    f"{key}:own-words",
                    f"{key}:own-words",
                    "own-words",
                    "copy-own-words",
                    entry.title_s,
                    "\n".join(_paragraphs(other.blocks)),
                    when,
                    other.source,
                )
            )
    return out


def sample_site_labels(db_path: str | Path, size: int = 30) -> dict[int, str]:
    """Return article id → true story of every article in a crawl of the sample sites."""
    expected = {}
    for site_id, site in build_sites(size).items():
        for e in site.expected_articles():
            expected[(site_id, route_key(e.path))] = e

    def root(key: tuple[str, str]) -> str:
        if key not in expected:
            # An article the catalogue lists as another kind (an attachment-only notice, whose
            # body is its file's text): a story of its own, republished nowhere.
            return f"{key[0]}{key[1]}"
        seen = expected[key]
        while seen.republished_from:
            key = (seen.republished_from[0], route_key(seen.republished_from[1]))
            seen = expected[key]
        return f"{key[0]}{key[1]}"

    labels: dict[int, str] = {}
    with sqlite3.connect(str(db_path)) as db:
        for article_id, url, site_id in db.execute("select id, url, site_id from articles"):
            parts = urlsplit(url)
            path = parts.path + ("?" + parts.query if parts.query else "")
            labels[article_id] = root((site_id, route_key(path)))
    return labels


def synthetic_rows(n: int, seed: int = 1, start: int = 0) -> Iterator[tuple[dict, int]]:
    """Yield ``n`` (article row, story label) pairs for the benchmarks.

    Texts are 6–10 paragraphs drawn from a pool of about 20,000 real generated paragraphs
    (so unrelated articles share stock phrases, as on the real sites) plus one line that only
    this story has; about 10 % of rows reprint an earlier row with a paragraph dropped or
    boilerplate added. ``content_hash`` is the SHA-1 of the text as generated (already
    normalised), which skips the normalisation the pipeline would do.
    """
    pool = _paragraph_pool()
    rng = random.Random(seed)
    recent: list[tuple[list[str], int, str]] = []
    for i in range(start, start + n):
        if recent and rng.random() < 0.1:
            paras, label, published = rng.choice(recent)
            paras = list(paras)
            if rng.random() < 0.5 and len(paras) > 3:
                del paras[rng.randrange(1, len(paras) - 1)]
            else:
                paras = [f"来源：站点{label % 50}", *paras, "责任编辑：王明"]
        else:
            label = i
            paras = [
                f"第{i}号：{rng.choice(pool)[:20]}{i * 7919 % 100003}",
                *rng.sample(pool, rng.randint(6, 10)),
            ]
            published = f"20{19 + i % 6}-{1 + i % 12:02d}-{1 + i % 28:02d}T{8 + i % 10:02d}:00"
            recent.append((paras, label, published))
            if len(recent) > 1000:
                recent.pop(0)
        text = "\n".join(paras)
        yield (
            {
                "url": f"http://site{i % 50}.example.gov.cn/art/{i}.html",
                "site_id": f"site{i % 50}",
                "title": paras[0][:24],
                "published": published,
                "text": text,
                "script": "hans",
                "content_hash": hashlib.sha1(text.encode()).hexdigest(),
            },
            label,
        )


_POOL: list[str] = []


def _paragraph_pool() -> list[str]:
    if not _POOL:
        sites = build_sites(400)
        for site in sites.values():
            for entry in site.catalog.entries:
                if entry.kind == ARTICLE and not entry.republished_from and not entry.seed:
                    _POOL.extend(t for t in _paragraphs(entry.story().blocks) if len(t) > 30)
        _POOL[:] = sorted(set(_POOL))
    return _POOL


def cluster_eval_set(db_path: str | Path, articles: list[EvalArticle]) -> dict[str, int]:
    """Store ``articles`` one by one as ingest does and return key → cluster id."""
    from pipeline.dedupe import content_hash
    from pipeline.store import Store
    from pipeline.store.clusters import assign_cluster

    store = Store(db_path)
    try:
        store.save_sites([{"id": s, "name": s} for s in sorted({a.site_id for a in articles})])
        ids: dict[str, int] = {}
        for a in articles:
            with store.db.atomic():
                written = store.save_article(
                    {
                        "url": f"http://eval.example.gov.cn/{a.key}",
                        "site_id": a.site_id,
                        "title": a.title,
                        "published": a.published,
                        "source": a.source,
                        "script": a.script,
                        "text": a.text,
                        "content_hash": content_hash(a.text),
                    }
                )
                assign_cluster(store.db, written.article_id)
            ids[a.key] = written.article_id
        cluster = dict(store.db.execute("select id, cluster_id from articles").fetchall())
        return {key: cluster[i] for key, i in ids.items()}
    finally:
        store.close()
