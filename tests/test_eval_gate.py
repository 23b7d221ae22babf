"""Eval gate: our extractor must stay above the floors on the labelled pages (tests/pages)."""

from __future__ import annotations

import pytest

from pipeline.extract.evaluate import FLOORS, bag_f1, failures, load_gold, run_ours, score

GOLD = load_gold()


def test_labelled_set_is_large_enough() -> None:
    assert len(GOLD) >= 40
    articles = [g for g in GOLD.values() if g["is_article"]]
    assert all(g.get("text") for g in articles), "every article page needs its gold body"
    assert len(GOLD) - len(articles) >= 5, "list and attachment pages are part of the set"


def test_our_scores_stay_above_the_floors() -> None:
    scores = score("dangjian", run_ours, GOLD)
    assert failures(scores) == [], [*scores.misses, *scores.leaks]
    assert scores.mean_f1 >= FLOORS["body_f1"]


@pytest.mark.parametrize(
    ("predicted", "gold", "expected"),
    [
        ("党建工作，会议。", "党建 工作会议", 1.0),  # punctuation and spaces do not count
        ("ＡＢ党建", "AB党建", 1.0),  # NFKC folds full-width letters
        ("", "党建", 0.0),
        ("党建党建", "党建", 2 * (0.5 * 1.0) / 1.5),
    ],
)
def test_bag_f1(predicted: str, gold: str, expected: float) -> None:
    assert bag_f1(predicted, gold) == pytest.approx(expected)
