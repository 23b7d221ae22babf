"""Compose party-building news stories from banks of realistic phrases.

A story is the content of one article, independent of the site that shows it.  Everything is
drawn from ``random.Random`` seeded with a string, so the same key always gives the same story.
The phrase banks live in ``content/banks.json`` (package data); this module only combines them.
"""

from __future__ import annotations

import functools
import json
import random
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources

# Block kinds of a story body.
PARAGRAPH, SUBHEAD, SLOGAN, BULLET, IMAGE = "p", "h", "slogan", "bullet", "img"


@dataclass
class Story:
    """One article's content.

    ``blocks`` are ``(kind, text)`` pairs; an ``IMAGE`` block's text is its caption.
    """

    title: str
    published: datetime
    blocks: list[tuple[str, str]]
    author: str = ""
    source: str = ""
    editor: str = ""
    proofreaders: str = ""
    byline: str = ""  # newspaper lead-in, e.g. "广州日报讯 （全媒体记者邓潇丽 通讯员穗直宣）"
    keywords: list[str] = field(default_factory=list)
    magazine: str = ""  # "紫光阁 2021年10期" on the aggregator
    has_time: bool = True  # whether pages show the time of day
    attachment: str = ""  # file name when the body is only a link to a PDF


@functools.lru_cache(maxsize=1)
def banks() -> dict[str, list[str]]:
    """Load the phrase banks shipped as ``content/banks.json``."""
    raw = resources.files(__package__).joinpath("content/banks.json").read_text("utf-8")
    return json.loads(raw)


def person(rng: random.Random) -> str:
    """Return a plausible Chinese personal name."""
    b = banks()
    given = rng.choice(b["given"])
    if rng.random() < 0.55:
        given += rng.choice(b["given"])
    return rng.choice(b["surnames"]) + given


def era_theme(year: int, rng: random.Random) -> str:
    """Return a study campaign that was running in ``year``."""
    b = banks()
    themes = b[f"themes_{year}"] if f"themes_{year}" in b else b["themes_2023"]
    return rng.choice(themes + b["themes_any"])


_BANK_OF = {"term": "terms", "term2": "terms", "focus": "focus", "slogan": "slogans"}


class _Slots(dict[str, str]):
    """Template values drawn only when a template asks for them."""

    def __init__(self, rng: random.Random, ctx: dict[str, str]) -> None:
        super().__init__(ctx)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        b, rng = banks(), self.rng
        if key in ("name", "name2"):
            value = person(rng)
        elif key in _BANK_OF:
            value = rng.choice(b[_BANK_OF[key]])
        elif key == "num":
            value = str(rng.randint(12, 260))
        elif key == "num10":
            value = str(rng.randint(3, 30) * 10)
        elif key == "num2":
            value = str(rng.randint(3, 48))
        elif key == "place":
            value = rng.choice(b["places"])
        elif key in ("leader", "leader2"):
            value = rng.choice(b["leader_titles"])
        elif key == "unit2":
            value = rng.choice(b["units_" + self["flavor"]])
        else:
            raise KeyError(key)
        self[key] = value
        return value


def _fill(template: str, rng: random.Random, ctx: dict[str, str]) -> str:
    return template.format_map(_Slots(rng, ctx))


def make_title(
    rng: random.Random, flavor: str, published: datetime, used: set[str]
) -> tuple[str, dict[str, str]]:
    """Draw a title of ``flavor`` that is not in ``used`` (and add it).

    Returns:
        The title and the context it was drawn with; pass the context to :func:`make_story` so
        the body speaks of the same unit and campaign.
    """
    b = banks()
    for attempt in range(200):
        ctx = title_context(rng, flavor, published)
        title = _fill(rng.choice(b["titles_" + flavor]), rng, ctx)
        if flavor == "lecture":
            title = f"周周讲第{lecture_number(published)}讲 | {title}"
        if attempt > 100:
            title += f"（{published.month}月{published.day}日）"
        if title not in used:
            used.add(title)
            return title, ctx
    raise RuntimeError("title bank exhausted")  # pragma: no cover - 200 draws never all collide


def lecture_number(published: datetime) -> int:
    """Number of the Wuchang weekly lecture held on ``published`` (the 57th was 2019-08-03)."""
    return max(1, 57 + (published - datetime(2019, 8, 3)).days // 7)


def title_context(rng: random.Random, flavor: str, published: datetime) -> dict[str, str]:
    """Draw the unit, activity and campaign an article is about."""
    b = banks()
    return {
        "flavor": flavor,
        "unit": rng.choice(b["units_" + flavor]),
        "act": rng.choice(b["activities"]),
        "theme": era_theme(published.year, rng),
        "year": str(published.year),
        "slogan": rng.choice(b["slogans"]),
        "focus": rng.choice(b["focus"]),
    }


def make_story(
    key: str, flavor: str, title: str, published: datetime, title_ctx: dict[str, str]
) -> Story:
    """Compose the body of the story called ``title``; ``key`` seeds every choice."""
    b = banks()
    rng = random.Random(f"body:{key}")
    ctx = dict(title_ctx)
    ctx["md"] = f"{published.month}月{published.day}日"
    ctx["title"] = title
    blocks: list[tuple[str, str]] = []
    if flavor == "lecture":
        for slogan in rng.sample(b["slogans"], 4):
            blocks.append((SLOGAN, slogan))
    essay = flavor == "essay"
    blocks.append((PARAGRAPH, _fill(rng.choice(b["leads_essay" if essay else "leads"]), rng, ctx)))
    if not essay:
        blocks.append((PARAGRAPH, _fill(rng.choice(b["contexts"]), rng, ctx)))
    if flavor == "ufwd" and rng.random() < 0.5:
        for text in rng.sample(b["bullets"], 3):
            blocks.append((BULLET, "● " + _fill(text, rng, ctx)))
    sections = rng.sample(b["subheads"], rng.randint(2, 4))
    ordinals = "一二三四五"
    for n, subhead in enumerate(sections):
        blocks.append((SUBHEAD, subhead))
        for _ in range(rng.randint(1, 2)):
            blocks.append((PARAGRAPH, _fill(rng.choice(b["bodies"]), rng, ctx)))
        if n == 0 and flavor in ("news", "essay", "organs") and rng.random() < 0.4:
            blocks.append((IMAGE, _fill(rng.choice(b["captions"]), rng, ctx)))
        if rng.random() < 0.25:
            steps = [
                f"{ordinals[i]}是{_fill(s, rng, ctx)}"
                for i, s in enumerate(rng.sample(b["steps"], 3))
            ]
            blocks.extend((PARAGRAPH, s) for s in steps)
    blocks.append((PARAGRAPH, _fill(rng.choice(b["requirements"]), rng, ctx)))
    if flavor == "lecture":
        blocks.insert(-1, (SLOGAN, rng.choice(b["slogans"])))
    blocks.append(
        (PARAGRAPH, _fill(rng.choice(b["closings_essay" if essay else "closings"]), rng, ctx))
    )
    story = Story(title=title, published=published, blocks=blocks)
    story.author = person(rng)
    story.editor = person(rng)
    story.source = ctx["unit"] if flavor != "news" else "广州日报"
    story.keywords = rng.sample(b["keywords"], 3)
    if flavor == "news":
        story.author = person(rng)
        story.byline = (
            f"广州日报讯 （全媒体记者{story.author} 通讯员{rng.choice(b['correspondents'])}）"
        )
        first = next(i for i, (kind, _) in enumerate(blocks) if kind == PARAGRAPH)
        blocks[first] = (PARAGRAPH, story.byline + blocks[first][1])
    elif flavor == "organs" and rng.random() < 0.3:
        story.source = "新华日报"
        story.byline = f"本报记者 {person(rng)} 通讯员 {person(rng)} {person(rng)}"
    if flavor == "essay":
        story.proofreaders = f"{person(rng)}、{person(rng)}"
        year = published.year if published.month > 2 else published.year - 1
        story.magazine = f"{rng.choice(b['magazines'])} {year}年{rng.randint(1, 12):02d}期"
        story.source = story.magazine.split()[0]
    return story


def related_titles(seed: str, count: int) -> list[str]:
    """Article-like titles for 猜你喜欢/热点推荐 boxes that link nowhere in particular."""
    rng = random.Random(f"related:{seed}")
    return rng.sample(banks()["teasers"], count)
