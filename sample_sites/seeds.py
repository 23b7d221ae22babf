"""The five seed pages (``content/0*.txt``) as stories.

The seed texts are what a browser showed of real pages.  Each is split into its boilerplate and its
body here, by rules written for that one file.  Seeds 001, 003 and 004 are traditional mirror copies;
their simplified originals are made by removing the pinyin annotations and converting with OpenCC
``t2s`` (and, for 004, by undoing the one stretch of encoding damage).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources

from .content import BULLET, IMAGE, PARAGRAPH, SLOGAN, SUBHEAD, Story
from .text import to_simplified

SEED_STEMS = (
    "000_a77ddfb3e62c3ab2",
    "001_c380cd92fa50ab78",
    "002_b6a043b5f5d4c66f",
    "003_a6ef6f9829540272",
    "004_79a4e3b6f9a36950",
)
# What the damaged stretch of seed 004 said before it was decoded a byte out of step.
DAMAGED, REPAIRED = "自豪?!毙熘菔嗅t", "自豪。”徐州市醫"


@dataclass
class Seed:
    """A seed page: its verbatim parts and its simplified original story."""

    stem: str
    title: str  # as the seed shows it
    blocks: list[tuple[str, str]]  # body as the seed shows it
    story: Story  # the simplified original
    trailer: list[str] = field(default_factory=list)  # lines after the body (lists, notices)
    head: list[str] = field(default_factory=list)  # lines between title and body


def _read(stem: str) -> list[str]:
    raw = resources.files(__package__).joinpath(f"content/{stem}.txt").read_text("utf-8")
    return raw.split("\n")


def _is_subhead(line: str) -> bool:
    return len(line) <= 40 and not re.search(r"[。;；:：]$", line)


def _simplify(blocks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(kind, to_simplified(text.replace(DAMAGED, REPAIRED))) for kind, text in blocks]


def _seed_000(lines: list[str]) -> Seed:
    end = next(i for i, line in enumerate(lines) if line.startswith("关于革博"))
    blocks: list[tuple[str, str]] = []
    for line in lines[5:end]:
        if not line.strip():
            continue
        kind = PARAGRAPH if line[0].isspace() else SLOGAN
        blocks.append((kind, line.strip()))
    story = Story(lines[2], datetime(2019, 8, 3, 10, 12), blocks, has_time=False)
    story.source = ""
    return Seed(SEED_STEMS[0], lines[2], blocks, story)


def _seed_001(lines: list[str]) -> Seed:
    end = next(i for i, line in enumerate(lines) if "為你推薦" in line)
    blocks: list[tuple[str, str]] = []
    for line in lines[2:end]:
        line = line.strip()
        if not line:
            continue
        if line.startswith("●"):
            blocks.append((BULLET, line))
        else:
            blocks.append((SUBHEAD if _is_subhead(line) else PARAGRAPH, line))
    story = Story(to_simplified(lines[0]), datetime(2023, 4, 19, 16, 15), _simplify(blocks))
    story.source, story.author, story.editor = "武汉统战", "市委统战部机关党委", "赵敏"
    story.keywords = ["机关党建", "述职评议", "统战部"]
    trailer = [line.strip(" •") for line in lines[end:] if line.strip()]
    return Seed(SEED_STEMS[1], lines[0], blocks, story, trailer, [lines[1]])


def _seed_002(lines: list[str]) -> Seed:
    end = next(i for i, line in enumerate(lines) if line.startswith("编辑:"))
    blocks: list[tuple[str, str]] = []
    for line in lines[10:end]:
        if not line.strip():
            continue
        if line.startswith("湖南省直机关工委理论学习中心组成员"):
            blocks.append((IMAGE, line))
        else:
            blocks.append((SUBHEAD if _is_subhead(line) else PARAGRAPH, line))
    story = Story(lines[2], datetime(2021, 12, 8, 9, 0), blocks, has_time=False)
    story.author, story.editor, story.proofreaders = "龚凤祥", "张成付", "徐雅维、吕重江"
    story.magazine, story.source = "紫光阁 2021年10期", "紫光阁"
    story.keywords = ["着力", "支部", "机关"]
    start = lines.index("猜你喜欢") + 1
    teasers = [line for line in lines[start:] if line.strip() and line != "着力支部机关"]
    return Seed(SEED_STEMS[2], lines[2], blocks, story, teasers)


def _seed_003(lines: list[str]) -> Seed:
    blocks = [(PARAGRAPH, line) for line in lines[1:] if line.strip()]
    story = Story(to_simplified(lines[0]), datetime(2023, 5, 6, 7, 30), _simplify(blocks))
    story.byline = "广州日报讯 (全媒体记者邓潇丽 通讯员穗直宣)"
    story.author, story.source, story.editor = "邓潇丽", "广州日报", "温建敏"
    return Seed(SEED_STEMS[3], lines[0], blocks, story)


def _seed_004(lines: list[str]) -> Seed:
    end = next(i for i, line in enumerate(lines) if line.startswith("版權(quán)聲明"))
    blocks = [(PARAGRAPH, line) for line in lines[2:end] if line.strip()]
    story = Story(to_simplified(lines[0]), datetime(2022, 1, 12, 9, 5), _simplify(blocks))
    story.byline = to_simplified(lines[1])
    story.author, story.source, story.editor = "岳旭", "新华日报", "孙文军"
    trailer = [line for line in lines[end:] if line.strip()]
    return Seed(SEED_STEMS[4], lines[0], blocks, story, trailer, [lines[1]])


@functools.lru_cache(maxsize=1)
def load_seeds() -> dict[str, Seed]:
    """Parse the five seed texts; keys are the file stems."""
    parsers = (_seed_000, _seed_001, _seed_002, _seed_003, _seed_004)
    return {stem: parse(_read(stem)) for stem, parse in zip(SEED_STEMS, parsers, strict=True)}
