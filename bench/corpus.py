"""Realistic generated articles for the search and load benchmarks (issue 14).

Lengths. Article bodies are drawn from a log-normal distribution with a median of 2,000
characters and sigma 0.55, clipped to 500-6,000 characters: 10% of bodies are under ~1,000
characters, 90% under ~4,050, the mean is ~2,300. Where that comes from:

* the issue's own observation that real party-building articles run 1,000-5,000 characters
  (the figures it measured used ~2,500);
* the hand-annotated main texts of the government, Party and state-media pages in the shared
  real-page corpus (``../shared/realpages``, ``SUBSET_govparty.txt``, ``magic_html`` gold
  ``text``): 17 article pages of 135-4,945 characters, median ~1,000 (short state-media news
  pulls it down; a whole-book page of 38,959 characters is left out);
* the five seed articles the sample sites are modelled on (``sample_sites/content/*.txt``):
  about 1,800-2,500 characters each.

The old benchmark's 420-character bodies understated every scan and the index about 5-6 times.

Text. An order-1 character Markov chain trained on party-building prose that belongs to this
project (the sample sites' seed articles, converted to simplified script, and their phrase
banks), with 12% of characters drawn instead from the 3,755 GB2312 level-1 characters with Zipf
weights, so an article has the repeated words of real party-building prose and a realistic
number of distinct bigrams (the index is one posting per distinct bigram and article). A pool
of generated sentences is built once; an article is a random run of them, in paragraphs, so a
million articles generate in about a minute. Planted words give query classes of known
frequency (``PLANTED``): the text also contains words like 党建 on its own, so the measured
match counts are reported, not assumed.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import random
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LENGTH_MEDIAN = 2000
LENGTH_SIGMA = 0.55
LENGTH_MIN = 500
LENGTH_MAX = 6000
NOISE = 0.12  # share of characters drawn from the wide Zipf vocabulary
POOL_SENTENCES = 40_000

PLANTED = {  # word: share of articles that contain it (besides any natural occurrences)
    "党建": 0.60,
    "主题教育": 0.30,
    "国家安全": 0.04,  # mid-frequency, like 国家 / 的一 in the issue (3.9% of articles)
    "三会一课": 0.05,
    "巡察": 0.003,
    "模范机关": 0.002,
    "鲲鹏": 0.0005,
    "两个维护": 0.0005,
}
PROVINCES = (
    "北京市 天津市 河北省 山西省 内蒙古自治区 辽宁省 吉林省 黑龙江省 上海市 江苏省 浙江省 安徽省 "
    "福建省 江西省 山东省 河南省 湖北省 湖南省 广东省 广西壮族自治区 海南省 重庆市 四川省 贵州省 "
    "云南省 西藏自治区 陕西省 甘肃省 青海省 宁夏回族自治区 新疆维吾尔自治区"
).split()
N_SITES = 300
FIRST_DAY = 17897  # 2019-01-01 as days since 1970-01-01
DAYS = 365 * 7  # 2019-2025: 84 months


def _training_text() -> str:
    """Party-building prose of this project: seed articles (simplified) and phrase banks."""
    from sample_sites.text import to_simplified

    parts = [
        to_simplified(p.read_text(encoding="utf-8"))
        for p in sorted((ROOT / "sample_sites" / "content").glob("*.txt"))
    ]
    banks = json.loads((ROOT / "sample_sites" / "content" / "banks.json").read_text("utf-8"))
    for values in banks.values():
        parts.extend(re.sub(r"\{[a-z0-9]+\}", "", v) for v in values if len(v) > 8)
    return "\n".join(parts)


def _gb2312_level1() -> list[str]:
    chars = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


class Corpus:
    """Generates titles and bodies; every choice comes from ``random.Random(seed)``."""

    def __init__(self, seed: int = 14) -> None:
        rng = random.Random(seed)
        text = _training_text()
        successors: dict[str, list[str]] = defaultdict(list)
        for a, b in itertools.pairwise(text):
            if a != "\n" and b != "\n":
                successors[a].append(b)
        self._successors = {a: bs for a, bs in successors.items() if bs}
        starts = [c for c in text if "\u4e00" <= c <= "\u9fff"]  # by frequency
        wide = _gb2312_level1()
        rng.shuffle(wide)
        weights = list(itertools.accumulate(1 / (r + 20) for r in range(len(wide))))
        self._wide, self._wide_cum = wide, weights
        self.sentences = [self._sentence(rng, starts) for _ in range(POOL_SENTENCES)]
        self.titles = [self._sentence(rng, starts, 10, 26).rstrip("。！？") for _ in range(5000)]

    def _wide_char(self, rng: random.Random) -> str:
        return self._wide[bisect.bisect(self._wide_cum, rng.random() * self._wide_cum[-1])]

    def _sentence(
        self, rng: random.Random, starts: list[str], low: int = 12, high: int = 70
    ) -> str:
        n = rng.randint(low, high)
        c = rng.choice(starts)
        out = [c]
        while len(out) < n:
            nxt = self._successors.get(c)
            if rng.random() < NOISE:
                out.append(self._wide_char(rng))
                c = rng.choice(starts)  # go on from anywhere in the prose
            elif not nxt:
                c = rng.choice(starts)
            else:
                c = rng.choice(nxt)
                if c in "。！？":
                    break
            out.append(c)
        return "".join(out).strip("，、；：") + rng.choice("。。。。！；")

    def body_length(self, rng: random.Random) -> int:
        length = rng.lognormvariate(math.log(LENGTH_MEDIAN), LENGTH_SIGMA)
        return int(min(LENGTH_MAX, max(LENGTH_MIN, length)))

    def body(self, rng: random.Random) -> str:
        """A body of ``body_length`` characters in paragraphs, with the planted words."""
        target = self.body_length(rng)
        paragraphs: list[str] = []
        size = 0
        while size < target:
            para = "".join(rng.choices(self.sentences, k=rng.randint(3, 7)))
            paragraphs.append(para)
            size += len(para)
        body = "\n".join(paragraphs)[:target]
        for word, share in PLANTED.items():
            if rng.random() < share:
                at = rng.randrange(len(body))
                body = body[:at] + word + body[at:]
        return body

    def title(self, rng: random.Random) -> str:
        return rng.choice(self.titles)


def sites(seed: int = 14) -> list[dict]:
    """``N_SITES`` registry entries over 31 provinces, levels province/city/district."""
    rng = random.Random(seed)
    out = []
    for i in range(N_SITES):
        province = PROVINCES[i % len(PROVINCES)]
        level = "province" if i < len(PROVINCES) else rng.choice(["city", "city", "district"])
        out.append(
            {
                "id": f"site{i:03d}",
                "name": f"{province}站点{i}",
                "level": level,
                "province": province,
                "city": None if level == "province" else f"{province[:2]}{i % 7}市",
                "start_urls": [f"http://site{i:03d}.example/"],
            }
        )
    return out
