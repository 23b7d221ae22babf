"""The array tokeniser gives exactly the tokens the query side expects (pipeline.store.index_tokens).

The reference is built from the regular expression queries are split with
(``search._runs`` and ``search._sequence_tokens``), one token at a time in Python: if the
two ever disagree, a search would miss an article that contains what was typed.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from pipeline.extract.evaluate import REALPAGES, load_real_gold
from pipeline.store import search
from pipeline.store.index_tokens import RUN_RE


def reference_tokens(text: str) -> Counter[str]:
    """The index's tokens of ``text`` computed run by run from the query-side code."""
    runs = search._runs(text)
    tokens = search._sequence_tokens(runs, single_characters=False)
    tokens.extend({c for kind, run in runs if kind == "han" for c in run})
    return Counter(tokens)


def indexed(text: str) -> Counter[str]:
    return Counter(search.index_text(text).split())


def test_every_code_point_of_the_basic_plane_is_classed_as_the_query_side_does():
    # One text holding every code point once, in order: Han blocks, Latin, kana, full-width
    # digits, punctuation and lone surrogates all meet their neighbours here.
    text = "".join(map(chr, range(0x10000)))
    assert indexed(text) == reference_tokens(text)


def test_random_mixed_texts_give_the_reference_tokens():
    alphabet = (
        "党建工作国家安全习近平主题教育"  # Han
        "abcXYZ019İß"  # words; İ lower-cases to two characters
        "０１２ＡアｶΣé한"  # full-width, kana, Greek, Hangul: word characters, not Han
        "，。、 \n\t_-·§“”〔〕"  # separators, the join and title marks among them
        "\U00020000\U0002ebe0\U00030001\uf900\u3400\U0001f600"  # astral Han, an emoji
    )
    rng = random.Random(14)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40)))
        assert indexed(text) == reference_tokens(text), text


def test_one_character_and_punctuation_only():
    assert search.index_text("，。") == "" and search.index_text("党") == "党"
    assert RUN_RE.fullmatch("党建") and not RUN_RE.fullmatch("_")


@pytest.mark.skipif(
    not (REALPAGES / "MANIFEST.tsv").exists(), reason=f"real pages not found at {REALPAGES}"
)
def test_real_article_texts_give_the_reference_tokens():
    texts = [gold.text for gold in load_real_gold() if gold.text]
    assert len(texts) > 20
    for text in texts:
        assert indexed(text) == reference_tokens(text)
