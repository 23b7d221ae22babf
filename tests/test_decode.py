"""Tests for pipeline.extract.decode: the order of evidence and the lossy/binary cases."""

from __future__ import annotations

import codecs

import pytest

from pipeline.errors import DecodeError
from pipeline.extract.decode import Decoded, decode_html, find_meta_charset, normalise_encoding

TEXT = "市委统战部机关党的工作暨党支部书记抓党建述职评议大会召开。喆"


def html(charset: str | None = None, text: str = TEXT) -> str:
    meta = (
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        if charset
        else ""
    )
    return f"<html><head>{meta}<title>标题</title></head><body><p>{text}</p></body></html>"


def test_http_charset_first() -> None:
    decoded = decode_html(html("utf-8").encode("gbk"), "text/html; charset=GBK")
    assert decoded == Decoded(html("utf-8"), "gb18030", False, "http")


def test_wrong_http_charset_falls_through() -> None:
    decoded = decode_html(html("gbk").encode("gbk"), "text/html; charset=utf-8")
    assert (decoded.encoding, decoded.method, decoded.lossy) == ("gb18030", "meta", False)


def test_legacy_http_charset_on_valid_utf8_is_ignored() -> None:
    decoded = decode_html(html().encode("utf-8"), "text/html; charset=gb2312")
    assert (decoded.encoding, decoded.method) == ("utf-8", "utf-8")
    assert TEXT in decoded.text


def test_bom() -> None:
    decoded = decode_html(codecs.BOM_UTF8 + html("gbk").encode("utf-8"))
    assert (decoded.encoding, decoded.method) == ("utf-8", "bom")
    assert not decoded.text.startswith("\ufeff")


def test_utf16_bom_is_not_binary() -> None:
    decoded = decode_html(codecs.BOM_UTF16_LE + html().encode("utf-16-le"))
    assert decoded.method == "bom" and TEXT in decoded.text


def test_valid_utf8_beats_a_stale_meta() -> None:
    # A page re-saved as UTF-8 that still declares gb2312.
    decoded = decode_html(html("gb2312").encode("utf-8"))
    assert (decoded.encoding, decoded.method) == ("utf-8", "utf-8")


def test_gb2312_meta_read_as_gb18030() -> None:
    # 喆 is in GBK but not in GB2312: reading the declared gb2312 literally would fail.
    decoded = decode_html(html("gb2312").encode("gbk"))
    assert (decoded.encoding, decoded.method, decoded.lossy) == ("gb18030", "meta", False)
    assert "喆" in decoded.text


def test_gbk_without_any_declaration() -> None:
    decoded = decode_html(html().encode("gbk"))
    assert (decoded.encoding, decoded.method) == ("gb18030", "gb18030")
    assert TEXT in decoded.text


def test_big5_meta() -> None:
    text = "市委統戰部機關黨的工作會議召開"
    body = f'<html><head><meta charset="big5"><title>{text}</title></head><body><p>{text}</p></body></html>'
    decoded = decode_html(body.encode("big5"))
    assert decoded.method == "meta" and text in decoded.text


def test_utf8_with_a_bad_byte_is_lossy_utf8() -> None:
    body = html("utf-8").encode("utf-8").replace("党的".encode(), b"\xff\xfe")
    decoded = decode_html(body)
    assert (decoded.encoding, decoded.lossy) == ("utf-8", True)
    assert "\ufffd" in decoded.text and "召开" in decoded.text


def test_never_ignores_errors() -> None:
    decoded = decode_html(html("utf-8").encode("utf-8") + b"\xff")
    assert decoded.lossy and decoded.text.endswith("\ufffd")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n ",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        b"PK\x03\x04\x14\x00\x06\x00",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b"\x00\x01\x00\x00abc\x00\x00\x00\x00\x00\x00\x00" * 20,
    ],
)
def test_empty_and_binary_raise(body: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_html(body)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("GB2312", "gb18030"),
        ("gbk", "gb18030"),
        ("x-gbk", "gb18030"),
        ("UTF8", "utf-8"),
        ("nonsense", None),
    ],
)
def test_normalise_encoding(label: str, expected: str | None) -> None:
    assert normalise_encoding(label) == expected


def test_meta_charset_forms() -> None:
    assert find_meta_charset(b'<meta charset="GBK">') == "gb18030"
    assert find_meta_charset(b'<?xml version="1.0" encoding="gb2312"?>') == "gb18030"
    assert find_meta_charset(b"<p>no meta</p>") is None


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_bom_wins_over_the_http_charset(codec: str) -> None:
    bom = {
        "utf-16-le": codecs.BOM_UTF16_LE,
        "utf-16-be": codecs.BOM_UTF16_BE,
        "utf-32-le": codecs.BOM_UTF32_LE,
        "utf-32-be": codecs.BOM_UTF32_BE,
    }[codec]
    decoded = decode_html(bom + html().encode(codec), "text/html; charset=iso-8859-1")
    assert (decoded.encoding, decoded.method, decoded.lossy) == (codec, "bom", False)
    assert TEXT in decoded.text


def test_random_bytes_are_binary() -> None:
    import random

    generator = random.Random(7)
    body = bytes(generator.getrandbits(8) for _ in range(100_000))
    with pytest.raises(DecodeError, match="binary body"):
        decode_html(body)


def test_undecodable_text_is_refused() -> None:
    # A UTF-8 BOM over bytes that are not UTF-8: mostly replacement characters.
    body = codecs.BOM_UTF8 + b"<html><body>" + bytes(range(0x80, 0x100)) * 200 + b"</body></html>"
    with pytest.raises(DecodeError, match="undecodable"):
        decode_html(body)
