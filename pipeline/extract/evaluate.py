"""Score the extractor against the hand-labelled pages in ``tests/pages/``, beside bare trafilatura.

``tests/pages/expected.json`` maps each saved page (``<family>/<slug>.html``) to its gold: the
page URL, ``is_article``, the fields (``title``, ``published``, ``source``, ``author``,
``editor``...), ``text`` (the article body, one paragraph per item, Simplified Chinese) and
``without`` (boilerplate snippets that must not reach the body). The gold was written by hand
from what the page shows.

Metrics:

* body F1: bag of characters after NFKC with whitespace and punctuation dropped, averaged over
  the article pages;
* field accuracy: exact match (a gold ``null`` must come out as ``None``) over pages whose gold
  gives the field; ``published`` is scored on the day for trafilatura, which never gives a
  time, and both on the day and exactly for us;
* is_article accuracy over every page; boilerplate leak: share of article pages whose body holds
  any ``without`` snippet.

Run it with ``make eval`` or ``python -m pipeline.extract.evaluate``.
"""

from __future__ import annotations

import argparse
import json
import logging
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trafilatura import bare_extraction

from pipeline.errors import DecodeError
from pipeline.extract import extract_page
from pipeline.extract.decode import decode_html

PAGES = Path(__file__).resolve().parents[2] / "tests" / "pages"
FIELDS = ("title", "published", "source", "author", "editor")
FLOORS = {
    "body_f1": 0.97,
    "title": 0.98,
    "published": 0.98,
    "source": 0.95,
    "author": 0.95,
    "editor": 0.95,
    "is_article": 1.0,
}
MAX_LEAK = 0.0


@dataclass
class Result:
    """What one extractor said about one page."""

    is_article: bool
    text: str
    fields: dict[str, str | None]


@dataclass
class Scores:
    """Aggregated scores of one extractor over the labelled set."""

    name: str
    body_f1: list[float] = field(default_factory=list)
    hits: Counter[str] = field(default_factory=Counter)
    totals: Counter[str] = field(default_factory=Counter)
    leaks: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def accuracy(self, name: str) -> float:
        """Return the share of pages where ``name`` was right (1.0 when never scored)."""
        return self.hits[name] / self.totals[name] if self.totals[name] else 1.0

    @property
    def mean_f1(self) -> float:
        return sum(self.body_f1) / len(self.body_f1) if self.body_f1 else 0.0

    @property
    def leak_rate(self) -> float:
        return len(self.leaks) / self.totals["leak"] if self.totals["leak"] else 0.0


def char_bag(text: str) -> Counter[str]:
    """Return the multiset of characters of a text after NFKC, without spaces or punctuation."""
    normalised = unicodedata.normalize("NFKC", text or "")
    return Counter(
        ch
        for ch in normalised
        if not ch.isspace() and not unicodedata.category(ch).startswith(("P", "S", "Z", "C"))
    )


def bag_f1(predicted: str, gold: str) -> float:
    """Return the F1 of two texts compared as bags of characters (see :func:`char_bag`)."""
    got, want = char_bag(predicted), char_bag(gold)
    if not got and not want:
        return 1.0
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0
    precision = overlap / sum(got.values())
    recall = overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def load_gold(pages: Path = PAGES) -> dict[str, dict[str, Any]]:
    """Return the labelled pages: ``expected.json`` entries by relative path."""
    return json.loads((pages / "expected.json").read_text(encoding="utf-8"))


def run_ours(body: bytes, url: str | None) -> Result:
    """Run our extractor (the code path of ``dangjian extract``) on one page."""
    page = extract_page(body, url)
    return Result(page.is_article, page.text or "", {name: getattr(page, name) for name in FIELDS})


def run_trafilatura(body: bytes, url: str | None) -> Result:
    """Run bare trafilatura with its own metadata on the page, decoded by our decoder.

    trafilatura has no source or editor field; those count as None. A page is an article for
    it when it returns any text.
    """
    try:
        html = decode_html(body).text
    except DecodeError:
        return Result(False, "", dict.fromkeys(FIELDS))
    document = bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    if document is None:
        return Result(False, "", dict.fromkeys(FIELDS))
    text = getattr(document, "text", None) or ""
    fields = {
        "title": getattr(document, "title", None),
        "published": getattr(document, "date", None),
        "source": None,
        "author": getattr(document, "author", None),
        "editor": None,
    }
    return Result(bool(text.strip()), text, fields)


def score(
    name: str,
    run: Callable[[bytes, str | None], Result],
    gold: dict[str, dict[str, Any]],
    pages: Path = PAGES,
    exact_time: bool = True,
) -> Scores:
    """Score one extractor over every labelled page.

    Args:
        name: Label of the extractor in reports.
        run: Page bytes and URL → :class:`Result`.
        gold: The labelled pages (:func:`load_gold`).
        pages: The folder holding the pages.
        exact_time: Score ``published`` exactly (else on the day only).

    Returns:
        The aggregated scores, with the names of the pages that missed.
    """
    scores = Scores(name)
    for path, expected in sorted(gold.items()):
        result = run((pages / path).read_bytes(), expected.get("url"))
        scores.totals["is_article"] += 1
        if result.is_article == expected["is_article"]:
            scores.hits["is_article"] += 1
        else:
            scores.misses.append(f"{path}: is_article {result.is_article}")
        if not expected["is_article"]:
            continue
        if "text" in expected:
            f1 = bag_f1(result.text, "\n".join(expected["text"]))
            scores.body_f1.append(f1)
            if f1 < 0.97:
                scores.misses.append(f"{path}: body F1 {f1:.3f}")
        scores.totals["leak"] += 1
        leaked = [s for s in expected.get("without", []) if s in result.text]
        if leaked:
            scores.leaks.append(f"{path}: {leaked}")
        for field_name in FIELDS:
            if field_name not in expected:
                continue
            want, got = expected[field_name], result.fields.get(field_name)
            scores.totals[field_name] += 1
            if field_name == "published":
                scores.totals["published_day"] += 1
                if (got or "")[:10] == (want or "")[:10]:
                    scores.hits["published_day"] += 1
                if not exact_time:
                    want, got = (want or "")[:10] or None, (got or "")[:10] or None
            if got == want:
                scores.hits[field_name] += 1
            else:
                scores.misses.append(f"{path}: {field_name} {got!r} != {want!r}")
    return scores


def report(ours: Scores, baseline: Scores) -> str:
    """Format both extractors' scores side by side as a Markdown table."""
    rows = [
        ("body F1 (chars)", ours.mean_f1, baseline.mean_f1, FLOORS["body_f1"]),
        ("title", ours.accuracy("title"), baseline.accuracy("title"), FLOORS["title"]),
        (
            "published (exact)",
            ours.accuracy("published"),
            baseline.accuracy("published"),
            FLOORS["published"],
        ),
        (
            "published (day)",
            ours.accuracy("published_day"),
            baseline.accuracy("published_day"),
            None,
        ),
        ("source", ours.accuracy("source"), baseline.accuracy("source"), FLOORS["source"]),
        ("author", ours.accuracy("author"), baseline.accuracy("author"), FLOORS["author"]),
        ("editor", ours.accuracy("editor"), baseline.accuracy("editor"), FLOORS["editor"]),
        ("is_article", ours.accuracy("is_article"), baseline.accuracy("is_article"), 1.0),
        ("boilerplate leak", ours.leak_rate, baseline.leak_rate, MAX_LEAK),
    ]
    lines = [
        f"| metric | {ours.name} | {baseline.name} | target |",
        "|---|---:|---:|---:|",
    ]
    for label, a, b, target in rows:
        bound = (
            "—" if target is None else (f"≤ {target:.2f}" if "leak" in label else f"≥ {target:.2f}")
        )
        lines.append(f"| {label} | {a:.3f} | {b:.3f} | {bound} |")
    return "\n".join(lines)


def failures(scores: Scores) -> list[str]:
    """Return the metrics of ``scores`` below their floors (empty when all targets are met)."""
    below = []
    if scores.mean_f1 < FLOORS["body_f1"]:
        below.append(f"body F1 {scores.mean_f1:.3f} < {FLOORS['body_f1']}")
    for name in ("title", "published", "source", "author", "editor", "is_article"):
        if scores.accuracy(name) < FLOORS[name]:
            below.append(f"{name} {scores.accuracy(name):.3f} < {FLOORS[name]}")
    if scores.leak_rate > MAX_LEAK:
        below.append(f"boilerplate leak {scores.leak_rate:.3f} > {MAX_LEAK}")
    return below


def main(argv: Iterable[str] | None = None) -> int:
    """Print the evaluation table; exit 1 when our extractor misses a target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=PAGES, help="folder with expected.json")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(level=logging.ERROR)
    gold = load_gold(args.pages)
    articles = sum(1 for g in gold.values() if g["is_article"])
    ours = score("dangjian", run_ours, gold, args.pages)
    baseline = score("trafilatura", run_trafilatura, gold, args.pages, exact_time=False)
    print(f"{len(gold)} labelled pages ({articles} articles) in {args.pages}\n")
    print(report(ours, baseline))
    for scores in (ours, baseline) if args.verbose else (ours,):
        for line in [*scores.misses, *(f"leak {leak}" for leak in scores.leaks)]:
            print(f"  {scores.name}: {line}")
    below = failures(ours)
    for line in below:
        print(f"BELOW TARGET: {line}")
    return 1 if below else 0


if __name__ == "__main__":
    raise SystemExit(main())
