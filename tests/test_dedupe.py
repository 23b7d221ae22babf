"""Article identity: canonical URLs, normalised-text hashes, MinHash, clusters and originals."""

from __future__ import annotations

import itertools
import sqlite3

import numpy as np
import pytest
from datasketch import MinHash

from bench.dedupe_data import (
    NEGATIVES,
    VARIANTS,
    cluster_eval_set,
    generated_eval_set,
    pair_scores,
    sample_site_labels,
)
from pipeline.dedupe import (
    SHINGLE,
    THRESHOLD,
    canonical_url,
    content_hash,
    dedupe_text,
    estimated_jaccard,
    jaccard,
    minhash,
    url_variants,
)
from pipeline.store.clusters import pick_original


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://WWW.Wuhan.gov.cn:80/xwzx/index.html", "http://www.wuhan.gov.cn/xwzx/"),
        ("https://a.gov.cn:443/x/default.htm#top", "https://a.gov.cn/x/"),
        ("http://a.gov.cn:8080/t1.html", "http://a.gov.cn:8080/t1.html"),
        (
            "http://a.gov.cn/t1.html?utm_source=wechat&from=timeline&spm=a.b",
            "http://a.gov.cn/t1.html",
        ),
        ("http://a.gov.cn/show.asp?id=2&cat=1#comments", "http://a.gov.cn/show.asp?cat=1&id=2"),
        # A script's query picks the page: index.php?id=1 is not the folder.
        ("http://a.gov.cn/index.php?m=content&id=1", "http://a.gov.cn/index.php?id=1&m=content"),
    ],
)
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical


def test_url_variants_pair_http_and_https():
    assert url_variants("https://a.gov.cn/x/index.html") == [
        "https://a.gov.cn/x/",
        "http://a.gov.cn/x/",
    ]


def test_traditional_copy_with_pinyin_hashes_like_its_simplified_original():
    simplified = "武汉市委统战部召开机关党建工作会议。\n会议强调，要加强党的建设！"
    mirror = (
        "武漢市委統(tǒng)戰(zhàn)部召開機關黨建工作會議。會議強(qiáng)調，要加強(qiáng)黨的建設"
    )
    assert (
        dedupe_text(mirror)
        == dedupe_text(simplified)
        == ("武汉市委统战部召开机关党建工作会议会议强调要加强党的建设")
    )
    assert content_hash(mirror) == content_hash(simplified)
    assert content_hash(simplified + "另一句") != content_hash(simplified)


def _shingles(text: str) -> set[bytes]:
    fp = dedupe_text(text)
    return {fp[i : i + SHINGLE].encode() for i in range(len(fp) - SHINGLE + 1)}


def test_minhash_estimates_agree_with_exact_jaccard_and_datasketch():
    articles = generated_eval_set(10, per_site=2)
    base = {a.key: a for a in articles}
    for a in articles:
        if a.kind == "original":
            continue
        original = base[a.story] if a.kind in VARIANTS else base[a.key.rsplit(":", 1)[0]]
        exact = jaccard(original.text, a.text)
        ours = float(
            estimated_jaccard(minhash(dedupe_text(original.text)), minhash(dedupe_text(a.text)))[0]
        )
        theirs = []
        for text in (original.text, a.text):
            m = MinHash(num_perm=128)
            m.update_batch(_shingles(text))
            theirs.append(m)
        assert abs(ours - exact) < 0.15, (a.key, ours, exact)
        assert abs(ours - theirs[0].jaccard(theirs[1])) < 0.2, a.key


def _row(id_, published, site_name, source="", script="hans"):
    return {
        "id": id_,
        "published": published,
        "site_name": site_name,
        "source": source,
        "script": script,
    }


def test_original_is_the_earliest_published():
    rows = [
        _row(1, "2023-04-20", "甲"),
        _row(2, "2023-04-19T16:15", "乙"),
        _row(3, "2023-04-19T18:00", "丙"),
    ]
    assert pick_original(rows)["id"] == 2


def test_same_day_tie_goes_to_the_site_named_as_source_then_to_simplified():
    original = _row(5, "2023-04-19", "武汉统战", source="统战部")
    copy = _row(2, "2023-04-19T09:00", "鼓楼区党建网", source="武汉统战")
    mirror = _row(1, "2023-04-19T09:00", "華文資訊網", source="武汉统战", script="hant")
    assert pick_original([copy, mirror, original])["id"] == 5
    assert pick_original([mirror, _row(9, "2023-04-19T09:00", "甲")])["id"] == 9


def test_generated_set_precision_and_recall(tmp_path):
    """Variants of real stories join them; the same meeting in other words never does."""
    articles = generated_eval_set(30)
    predicted = cluster_eval_set(tmp_path / "eval.db", articles)
    scores = pair_scores({a.key: a.story for a in articles}, predicted)
    assert scores["precision"] >= 0.98 and scores["recall"] >= 0.98, scores
    kinds = {a.kind for a in articles}
    assert set(VARIANTS) | set(NEGATIVES) <= kinds
    for a in articles:
        if a.kind in NEGATIVES:
            assert predicted[a.key] != predicted[a.key.rsplit(":", 1)[0]], a.key
    # Hard negatives of the other kind: different stories of one site, same templates.
    originals = [a for a in articles if a.kind == "original"]
    for a, b in itertools.combinations(originals, 2):
        if a.site_id == b.site_id:
            assert predicted[a.key] != predicted[b.key], (a.key, b.key)


def test_threshold_separates_copies_from_hard_negatives():
    articles = generated_eval_set(30, per_site=8)
    base = {a.key: a for a in articles}
    for a in articles:
        if a.kind in VARIANTS:
            assert jaccard(base[a.story].text, a.text) >= THRESHOLD + 0.05, a.key
        elif a.kind in NEGATIVES:
            assert jaccard(base[a.key.rsplit(":", 1)[0]].text, a.text) < THRESHOLD - 0.2, a.key


def test_sample_sites_every_reprint_with_its_original_and_nothing_else(crawled):
    """Precision and recall 1.0 on a real crawl of the sample sites."""
    labels = sample_site_labels(crawled.db)
    with sqlite3.connect(crawled.db) as db:
        clusters = dict(db.execute("select id, cluster_id from articles"))
        assert None not in clusters.values()
        scores = pair_scores(labels, clusters)
        assert scores["true_pairs"] >= 30  # the sample sites do republish
        assert scores["precision"] == 1.0 and scores["recall"] == 1.0, scores
        # duplicate_of and the reprints view name the true original.
        rows = db.execute(
            "select a.id, a.duplicate_of, c.original_id from articles a "
            "join clusters c on c.id = a.cluster_id"
        ).fetchall()
        originals = {labels[orig] for _, _, orig in rows}
        for article_id, duplicate_of, original_id in rows:
            expected_root = labels[article_id]
            assert labels[original_id] == expected_root
            # The original's own label is its own path: it is the story's root article.
            url = db.execute(
                "select site_id, url from articles where id = ?", [original_id]
            ).fetchone()
            assert expected_root.startswith(url[0]), (article_id, url)
            assert duplicate_of == (None if article_id == original_id else original_id)
        assert len(originals) == len(set(labels.values()))
        reprints = db.execute("select count(*), min(lag_hours) from reprints").fetchone()
        assert reprints[0] == sum(1 for a, _, o in rows if a != o)
        assert reprints[1] >= 0
        mirror = db.execute(
            "select count(*) from reprints where reprint_site = 'mirror-hant'"
        ).fetchone()[0]
        assert mirror >= 20  # the traditional mirror's pinyin copies joined their originals


def test_signature_is_stable():
    sig = minhash(dedupe_text("党建引领基层治理" * 20))
    assert sig.dtype == np.uint32 and sig.shape == (128,)
    assert (sig == minhash(dedupe_text("党建引领基层治理" * 20))).all()


def test_short_notes_match_nothing_but_long_copies_do(tmp_path):
    from bench.dedupe_data import EvalArticle

    story = generated_eval_set(10, per_site=1)[0]
    articles = [
        EvalArticle("a", "a", "note", "s1", "通知", "详见附件。", "2024-01-01"),
        EvalArticle("b", "b", "note", "s2", "通知", "详见附件。", "2024-01-01"),
        EvalArticle("c", "c", "original", "s1", story.title, story.text, "2024-01-02"),
        EvalArticle("d", "c", "copy", "s2", story.title, story.text, "2024-01-03"),
    ]
    predicted = cluster_eval_set(tmp_path / "short.db", articles)
    assert predicted["a"] != predicted["b"]
    assert predicted["c"] == predicted["d"]
