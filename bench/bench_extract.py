"""Pages per second of ``dangjian extract``'s code path against bare ``trafilatura.extract``.

Both run in the same process on the same bytes: every article page of every sample site
(``crawler.sample_sites.build_sites(size).respond(path)``), after one warm-up pass each so
that loading OpenCC, pypinyin and trafilatura's settings is not timed.

    python -m bench.run extract          # size 100
    python -m bench.run extract --quick  # size 30
"""

from __future__ import annotations

import time
from collections.abc import Callable

import trafilatura

from crawler.sample_sites import build_sites
from pipeline.extract import extract_page

Page = tuple[bytes, dict[str, str]]


def sample_pages(size: int) -> list[Page]:
    """Return the bytes and headers of every article page of the sample sites."""
    pages: list[Page] = []
    for site in build_sites(size).values():
        for expected in site.expected_articles():
            status, headers, body = site.respond(expected.path)[:3]
            if status == 200:
                pages.append((body, dict(headers)))
    return pages


def pages_per_second(run: Callable[[Page], object], pages: list[Page], rounds: int) -> float:
    """Return the best of ``rounds`` timed passes over ``pages``, in pages per second."""
    for page in pages[: min(len(pages), 50)]:
        run(page)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for page in pages:
            run(page)
        best = min(best, time.perf_counter() - started)
    return len(pages) / best


def ours(page: Page) -> object:
    return extract_page(page[0], None, page[1])


def bare_trafilatura(page: Page) -> object:
    # Bytes in, as trafilatura is normally called (it decodes them itself).
    return trafilatura.extract(page[0])


def run(quick: bool) -> str:
    """Measure both extractors and return a Markdown section."""
    size, rounds = (30, 1) if quick else (100, 2)
    pages = sample_pages(size)
    mb = sum(len(body) for body, _ in pages) / 2**20
    ours_pps = pages_per_second(ours, pages, rounds)
    trafilatura_pps = pages_per_second(bare_trafilatura, pages, rounds)
    return (
        "## Extraction speed\n\n"
        f"{len(pages)} sample-site article pages ({mb:.1f} MiB, size {size}), best of {rounds} "
        "pass(es) after a warm-up, one process.\n\n"
        "| extractor | pages/s |\n|---|---:|\n"
        f"| `dangjian extract` code path (`pipeline.extract.extract_page`) | {ours_pps:.0f} |\n"
        f"| bare `trafilatura.extract` | {trafilatura_pps:.0f} |\n\n"
        f"Ratio ours / trafilatura: **{ours_pps / trafilatura_pps:.2f}** "
        "(ours also decodes, reads metadata, cleans and normalises).\n"
    )


if __name__ == "__main__":
    print(run(quick=True))
