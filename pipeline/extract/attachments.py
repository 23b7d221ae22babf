"""Attachments → text: the files party and government notices link (PDF, Word, WPS, Excel).

What is read, and with what:

* PDF: pypdf (pure Python, maintained), page by page; lines a PDF breaks for layout are
  joined back into paragraphs so a phrase running across a line break is still found. A
  scanned PDF has no text layer: its status is ``empty`` (no OCR here).
* DOCX: python-docx, paragraphs then table cells.
* XLSX: openpyxl (read-only, values not formulas); XLS: xlrd. One line per row (cells
  separated by a space once normalised).
* DOC and WPS (Word 97-2003 and Kingsoft WPS files, both OLE compound documents): the Debian
  tool ``catdoc`` when it is installed (``scripts/install-test-deps.sh`` installs it); without
  it they are ``skipped``. No maintained Python library reads them.
* Everything else (ZIP/RAR archives, images, OFD, video) is ``skipped``: an archive would need
  unpacking rules of its own, an image OCR, and OFD has no maintained reader.

The text is normalised like article text (Simplified script, pinyin annotations removed), one
paragraph per line. Functions here take bytes and return values; the only I/O is ``catdoc``
reading a temporary copy of the bytes.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from pipeline.extract.normalise import normalise_text

logger = logging.getLogger(__name__)

ATTACHMENT_EXTENSIONS = (
    "pdf", "doc", "docx", "wps", "xls", "xlsx", "et", "ofd", "zip", "rar", "7z", "txt",
)  # fmt: skip
"""File extensions of attachment links (the crawler follows these on article pages)."""
READABLE = ("pdf", "docx", "xlsx", "xls", "doc", "wps")
MAX_BYTES = 20 * 2**20
"""Larger files are stored but not read (the crawler does not fetch more than this)."""
MAX_PAGES = 300
MAX_CHARS = 2_000_000
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CATDOC_TIMEOUT = 30
SENTENCE_END = "。！？：；!?:;」”）)"


@dataclass(frozen=True)
class AttachmentText:
    """What could be read from one file."""

    format: str
    """``pdf``, ``docx``, ``xlsx``, ``xls``, ``doc``, ``wps`` or the extension of another file."""
    text: str | None
    """Normalised text, one paragraph per line; None when nothing was read."""
    status: str
    """``ok``, ``empty`` (readable but no text, e.g. a scanned PDF), ``skipped: why`` or
    ``failed: error``."""


def file_name(url: str, link_text: str = "", headers: dict[str, str] | None = None) -> str:
    """Return the name a reader knows the file by: the link text when it names a file, the
    ``Content-Disposition`` file name, else the last part of the URL path."""
    text = " ".join((link_text or "").split())
    if text and len(text) <= 200:
        return text
    disposition = (headers or {}).get("content-disposition", "")
    match = re.search(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)", disposition, re.I)
    if match:
        return unquote(match.group(1))
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or url


def extension(url: str) -> str:
    """Return the lower-case extension of a URL's path (``pdf``), or ""."""
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def is_attachment_url(url: str) -> bool:
    """Tell whether a link points to a file of ``ATTACHMENT_EXTENSIONS``."""
    return extension(url) in ATTACHMENT_EXTENSIONS


def sniff_format(body: bytes, url: str, content_type: str = "") -> str:
    """Return the format of a file from its first bytes, then its type and extension."""
    ext = extension(url)
    if body[:5] == b"%PDF-":
        return "pdf"
    if body[:4] == b"PK\x03\x04":
        try:
            names = zipfile.ZipFile(io.BytesIO(body)).namelist()
        except zipfile.BadZipFile:
            return ext or "zip"
        if any(n.startswith("word/") for n in names):
            return "docx"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        return ext if ext not in READABLE else "zip"
    if body[:8] == OLE_MAGIC:
        if ext in ("xls", "et"):
            return "xls"
        return (
            "wps"
            if ext == "wps"
            else ("xls" if b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k" in body[:65536] else "doc")
        )
    if "pdf" in content_type:
        return "pdf"
    return ext or (content_type.split(";")[0].split("/")[-1] or "bin")


def read_attachment(
    body: bytes, url: str, content_type: str = "", max_bytes: int = MAX_BYTES
) -> AttachmentText:
    """Read the text of one attachment.

    Args:
        body: the file's bytes.
        url: where it came from (its extension helps tell DOC from WPS).
        content_type: the HTTP ``Content-Type``.
        max_bytes: larger files are not read.

    Returns:
        The format, the text (or None) and a status saying why there is none. Never raises.
    """
    kind = sniff_format(body, url, content_type.lower())
    if kind not in READABLE:
        return AttachmentText(kind, None, f"skipped: {kind} files are not read")
    if len(body) > max_bytes:
        return AttachmentText(kind, None, f"skipped: larger than {max_bytes} bytes")
    try:
        lines = READERS[kind](body)
    except Exception as error:  # noqa: BLE001 - a broken file is that file's status
        logger.warning("cannot read %s attachment %s: %r", kind, url, error)
        return AttachmentText(kind, None, f"failed: {type(error).__name__}: {error}"[:300])
    if lines is None:
        return AttachmentText(kind, None, "skipped: catdoc is not installed")
    text = "\n".join(normalise_text(line) for line in lines if line.strip())[:MAX_CHARS]
    if not re.search(r"\w", text):
        return AttachmentText(kind, None, "empty")
    return AttachmentText(kind, text, "ok")


# --- readers -------------------------------------------------------------------------------


def join_lines(lines: list[str]) -> list[str]:
    """Join the lines a PDF broke for layout back into paragraphs.

    A line as long as the page's full lines, not ending a sentence, goes on in the next one.
    """
    lines = [" ".join(line.split()) for line in lines]
    lines = [line for line in lines if line]
    if not lines:
        return []
    full = sorted(len(line) for line in lines)[int(len(lines) * 0.8)] if len(lines) > 3 else 0
    out: list[str] = []
    carry = False
    for line in lines:
        if carry and out:
            out[-1] += line
        else:
            out.append(line)
        carry = bool(full) and len(line) >= 0.85 * full and line[-1] not in SENTENCE_END
    return out


def read_pdf(body: bytes) -> list[str]:
    """Return the paragraphs of a PDF's text layer (pypdf)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(body))
    lines: list[str] = []
    for page in reader.pages[:MAX_PAGES]:
        lines.extend(join_lines((page.extract_text() or "").splitlines()))
    return lines


def read_docx(body: bytes) -> list[str]:
    """Return the paragraphs, then the table rows, of a DOCX file (python-docx)."""
    import docx

    document = docx.Document(io.BytesIO(body))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append("\t".join(cell.text.strip() for cell in row.cells))
    return lines


def read_xlsx(body: bytes) -> list[str]:
    """Return one tab-separated line per row of every sheet of an XLSX file (openpyxl)."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    lines = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            cells = ["" if v is None else str(v) for v in row]
            if any(cells):
                lines.append("\t".join(cells).rstrip("\t"))
    book.close()
    return lines


def read_xls(body: bytes) -> list[str]:
    """Return one tab-separated line per row of every sheet of an XLS file (xlrd)."""
    import xlrd

    book = xlrd.open_workbook(file_contents=body)
    lines = []
    for sheet in book.sheets():
        for index in range(sheet.nrows):
            cells = [str(v) if v not in ("", None) else "" for v in sheet.row_values(index)]
            if any(cells):
                lines.append("\t".join(cells).rstrip("\t"))
    return lines


def read_with_catdoc(body: bytes) -> list[str] | None:
    """Return the paragraphs of a DOC or WPS file read by ``catdoc``; None when not installed."""
    catdoc = shutil.which("catdoc")
    if catdoc is None:
        return None
    handle, path = tempfile.mkstemp(suffix=".doc")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(body)
        result = subprocess.run(
            [catdoc, "-d", "utf-8", "-w", path],
            capture_output=True,
            timeout=CATDOC_TIMEOUT,
            check=True,
        )
    finally:
        os.unlink(path)
    return result.stdout.decode("utf-8", "replace").splitlines()


READERS = {
    "pdf": read_pdf,
    "docx": read_docx,
    "xlsx": read_xlsx,
    "xls": read_xls,
    "doc": read_with_catdoc,
    "wps": read_with_catdoc,
}
