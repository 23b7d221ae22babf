"""Pages per second of ``dangjian extract``'s code path against bare ``trafilatura.extract``.

Both run in the same process on the same bytes: every article page of every sample site
(``sample_sites.build_sites(size).respond(path)``), and the 96 real third-party pages of
``../shared/realpages`` when that folder is there (pages nobody here wrote: portals of
300 kB to 1.3 MB, list pages, GBK bytes). Each gets one warm-up pass so that loading OpenCC,
pypinyin and trafilatura's settings is not timed. Timed passes alternate between the two and
the best pass of each counts, in CPU time, so load from other processes on the machine does
not favour whichever ran in a quiet moment.

    python -m bench.run extract          # size 100
    python -m bench.run extract --quick  # size 30
    python -m bench.bench_extract        # the quick run, printed
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

from pipeline.extract import extract_page
from sample_sites import build_sites

REALPAGES = Path(__file__).resolve().parents[1].parent / "shared" / "realpages"

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


def real_pages() -> list[Page]:
    """Return the bytes of the real third-party pages (none when the folder is absent)."""
    return [(path.read_bytes(), {}) for path in sorted(REALPAGES.glob("*/*.html"))]


def timed_pass(run: Callable[[Page], object], pages: list[Page]) -> float:
    """Return the CPU seconds one pass of ``run`` over ``pages`` takes.

    CPU time of this process, not wall time: on a machine shared with other jobs (two
    cores, test suites running beside) wall time measures the neighbours as much as us.
    """
    started = time.process_time()
    for page in pages:
        run(page)
    return time.process_time() - started


def compare(
    runs: dict[str, Callable[[Page], object]], pages: list[Page], rounds: int
) -> dict[str, float]:
    """Return pages per second for each extractor: the best of ``rounds`` interleaved passes.

    Every extractor first gets a warm-up pass over up to 50 pages; then the passes alternate
    (A, B, A, B...) so that a burst of load on a shared machine hits both alike, and the
    fastest pass of each counts.
    """
    for run in runs.values():
        for page in pages[: min(len(pages), 50)]:
            run(page)
    best = {name: float("inf") for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            best[name] = min(best[name], timed_pass(run, pages))
    return {name: len(pages) / seconds for name, seconds in best.items()}


def ours(page: Page) -> object:
    return extract_page(page[0], None, page[1])


def bare_trafilatura(page: Page) -> object:
    # Bytes in, as trafilatura is normally called (it decodes them itself).
    return trafilatura.extract(page[0])


def run(quick: bool) -> str:
    """Measure both extractors and return a Markdown section."""
    size, rounds = (30, 3) if quick else (100, 5)
    pages = sample_pages(size)
    mb = sum(len(body) for body, _ in pages) / 2**20
    speeds = compare({"ours": ours, "trafilatura": bare_trafilatura}, pages, rounds)
    ours_pps, trafilatura_pps = speeds["ours"], speeds["trafilatura"]
    text = (
        "## Extraction speed\n\n"
        f"{len(pages)} sample-site article pages ({mb:.1f} MiB, size {size}), best of {rounds} "
        "interleaved passes each after a warm-up, one process.\n\n"
        "| extractor | pages/s |\n|---|---:|\n"
        f"| `dangjian extract` code path (`pipeline.extract.extract_page`) | {ours_pps:.0f} |\n"
        f"| bare `trafilatura.extract` | {trafilatura_pps:.0f} |\n\n"
        f"Ratio ours / trafilatura: **{ours_pps / trafilatura_pps:.2f}** "
        "(ours also decodes, reads metadata, cleans and normalises).\n"
    )
    real = real_pages()
    if real:
        mb = sum(len(body) for body, _ in real) / 2**20
        speeds = compare({"ours": ours, "trafilatura": bare_trafilatura}, real, max(2, rounds // 2))
        ours_pps, trafilatura_pps = speeds["ours"], speeds["trafilatura"]
        text += (
            f"\nThe {len(real)} real third-party pages of `../shared/realpages` ({mb:.1f} MiB: "
            "portals, list pages, GBK bytes), same method:\n\n"
            "| extractor | pages/s |\n|---|---:|\n"
            f"| `dangjian extract` code path | {ours_pps:.1f} |\n"
            f"| bare `trafilatura.extract` | {trafilatura_pps:.1f} |\n\n"
            f"Ratio ours / trafilatura on real pages: **{ours_pps / trafilatura_pps:.2f}**.\n"
        )
    return text


if __name__ == "__main__":
    print(run(quick=True))
