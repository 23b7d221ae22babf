"""Property tests: ``extract_page`` returns for any input, and garbage is never an article.

Random bytes, random text, truncated and mutated real pages (``../shared/realpages``, read at
test time and never copied here; tests/pages when they are absent), deep nesting and huge
pages. Each example must also come back without an internal crash recorded as its error
(``<stage>: <Exception> … (at file:line in function)``): the extractor catches those so a
batch goes on, but the fuzzer is here to find them. The example counts keep the file under
a minute on two cores.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.extract import extract_page
from pipeline.extract.evaluate import REALPAGES
from pipeline.extract.page import ExtractOptions
from pipeline.model import ExtractedPage

PAGES = Path(__file__).parent / "pages"
REAL = sorted(REALPAGES.glob("*/*.html")) if REALPAGES.exists() else []
# Real third-party pages when present, else the pages written with the extractor.
SAMPLES = REAL or sorted(PAGES.rglob("*.html"))
CRASH_RE = re.compile(r"\(at [\w.]+:\d+ in \w+\)")
SECONDS_PER_PAGE = 20.0  # generous: two shared cores; a real page takes well under 1 s

# A fixed, quick run by default; DANGJIAN_FUZZ_EXAMPLES=2000 for a random, longer hunt.
EXAMPLES = int(os.environ.get("DANGJIAN_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=EXAMPLES or 25,
    deadline=None,  # bounded by SECONDS_PER_PAGE in run(), which counts the whole call
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=not EXAMPLES,
    database=None,
)


def run(body: bytes, **kwargs: object) -> ExtractedPage:
    """Extract ``body`` and check what every input must give."""
    started = time.perf_counter()
    page = extract_page(body, **kwargs)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    assert isinstance(page, ExtractedPage)
    assert not CRASH_RE.search(page.error or ""), page.error
    assert elapsed < SECONDS_PER_PAGE, f"{elapsed:.1f} s for {len(body)} bytes"
    if page.is_article:
        assert page.error is None and page.text
    else:
        assert page.reason or page.error, "a page that is not an article says why"
    return page


@FUZZ
@given(st.binary(min_size=0, max_size=100_000))
def test_random_bytes_are_never_an_article(body: bytes) -> None:
    assert not run(body).is_article


def test_large_random_bytes_are_never_an_article() -> None:
    # The case: 100 kB of random bytes came out as an article of U+FFFD.
    import random

    generator = random.Random(11)
    for _ in range(5):
        body = bytes(generator.getrandbits(8) for _ in range(100_000))
        page = run(body)
        assert not page.is_article and page.error


@FUZZ
@given(st.text(max_size=5_000), st.sampled_from(["utf-8", "utf-16", "gb18030", "utf-32"]))
def test_random_text_returns(text: str, encoding: str) -> None:
    run(text.encode(encoding, errors="replace"))


@FUZZ
@given(
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=50),
    st.sampled_from(["utf-8", "gb18030"]),
)
def test_random_han_is_not_an_article(text: str, encoding: str) -> None:
    html = f"<html><body><div class='article-content'><p>{text}</p></div></body></html>"
    assert not run(html.encode(encoding)).is_article


@pytest.mark.skipif(not SAMPLES, reason="no saved pages to mutate")
@FUZZ
@given(st.sampled_from(SAMPLES), st.floats(min_value=0.0, max_value=1.0))
def test_truncated_pages_return(path: Path, share: float) -> None:
    body = path.read_bytes()
    run(body[: int(len(body) * share)])


@pytest.mark.skipif(not SAMPLES, reason="no saved pages to mutate")
@FUZZ
@given(
    st.sampled_from(SAMPLES),
    st.lists(
        st.tuples(st.floats(min_value=0.0, max_value=1.0), st.binary(min_size=0, max_size=16)),
        min_size=1,
        max_size=20,
    ),
)
def test_mutated_pages_return(path: Path, edits: list[tuple[float, bytes]]) -> None:
    body = bytearray(path.read_bytes())
    for where, replacement in edits:
        at = int(len(body) * where)
        body[at : at + len(replacement) or at + 1] = replacement
    run(bytes(body))


@FUZZ
@given(
    st.integers(min_value=1, max_value=3_000),
    st.sampled_from(["div", "span", "table", "td", "ul", "li", "p", "font", "b", "section"]),
)
def test_deep_nesting_returns(depth: int, tag: str) -> None:
    # libxml2 stops nesting at 255 levels: deeper text is lost, but nothing may raise.
    body = "<p>机关党建工作会议召开，会议强调要永葆政治机关鲜明本色。</p>" * 5
    html = f"<html><body>{f'<{tag}>' * depth}{body}{f'</{tag}>' * depth}</body></html>"
    run(html.encode())


def test_huge_page_is_bounded() -> None:
    paragraph = (
        "<p>4月18日，市直机关召开党建工作会议，认真总结2022年机关党建工作，部署2023年重点任务。</p>"
    )
    html = (
        f"<html><head><title>会议</title></head><body><div>{paragraph * 36_000}</div></body></html>"
    )
    page = run(html.encode())  # about 4.5 MB, over ExtractOptions.max_trafilatura_chars
    assert page.is_article and len(page.text or "") > 1_000_000


def test_pages_over_the_size_limit_are_refused_with_a_reason() -> None:
    page = run(
        b"<html><body><p>" + b"x" * 2_000 + b"</p></body></html>",
        options=ExtractOptions(max_bytes=1_000),
    )
    assert not page.is_article
    assert page.error is not None and "too large" in page.error
    assert page.reason is not None and "max_bytes" in page.reason


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_utf16_and_utf32_pages_with_a_bom_decode(encoding: str) -> None:
    text = (
        "市委统战部机关党的工作暨党支部书记抓党建述职评议大会召开。会议强调，要坚持党建引领。" * 3
    )
    html = f"<html><head><title>述职评议大会召开</title></head><body><div class='article-content'><p>{text}</p></div></body></html>"
    bom = {"utf-16-be": b"\xfe\xff", "utf-32-be": b"\x00\x00\xfe\xff"}.get(encoding, b"")
    page = run(bom + html.encode(encoding))
    assert page.is_article and page.title == "述职评议大会召开"
    assert "述职评议大会召开" in (page.text or "")
