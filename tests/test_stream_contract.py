"""The Redis stream contract carries every field of a raw page, so a distributed crawl stores
exactly what a single-machine crawl does (attachments keep their article and link text)."""

from __future__ import annotations

import dataclasses

from distributed.stream import decode_page, page_message
from pipeline.model import RawPage


def as_redis_returns(fields: dict) -> dict[bytes, bytes]:
    return {
        k.encode(): v if isinstance(v, bytes) else str(v).encode("utf-8") for k, v in fields.items()
    }


def test_every_raw_page_field_survives_the_stream():
    page = RawPage(
        url="http://127.0.0.1:1/att/通知.pdf",
        final_url="http://127.0.0.1:1/att/tz.pdf",
        status=200,
        headers={"content-type": "application/pdf"},
        body=b"%PDF-1.4 \x00\xff",
        fetched_at="2026-11-30T03:00:00Z",
        site_id="s",
        run_id="r1",
        kind="attachment",
        referrer="http://127.0.0.1:1/art/2023/2/10/art_1.html",
        link_text="关于开展主题教育的通知.pdf",
    )
    # Every field differs from its default, so a field the stream drops cannot pass unseen;
    # a new RawPage field fails here until this test sets it.
    for f in dataclasses.fields(RawPage):
        if f.default is not dataclasses.MISSING:
            assert getattr(page, f.name) != f.default, f"set {f.name} in this test"
    assert decode_page(as_redis_returns(page_message(page))) == page
