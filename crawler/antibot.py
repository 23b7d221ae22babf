"""Anti-bot challenge detection: a challenged site is *blocked* and its crawl stops.

A site that answers with an anti-bot challenge is *blocked*: its remaining requests are
dropped, the other sites go on, and we never try to get around the challenge (no JavaScript,
no cookie replay, no retries). The run then finishes with status ``blocked`` and a
``blocked`` alert (``pipeline.runs``).
"""

from __future__ import annotations

import logging
import re

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

logger = logging.getLogger(__name__)

BLOCKED_STAT = "dangjian/blocked/{}"
# Titles of interstitial captcha pages seen on gov CMS front ends (云锁, 安全狗, 创宇盾 ...).
CAPTCHA_TITLE = re.compile(
    rb"<title>[^<]{0,40}(\xe5\xae\x89\xe5\x85\xa8\xe9\xaa\x8c\xe8\xaf\x81"  # 安全验证
    rb"|\xe4\xba\xba\xe6\x9c\xba\xe9\xaa\x8c\xe8\xaf\x81"  # 人机验证
    rb"|\xe8\xae\xbf\xe9\x97\xae\xe9\xaa\x8c\xe8\xaf\x81"  # 访问验证
    rb"|\xe6\xbb\x91\xe5\x8a\xa8\xe9\xaa\x8c\xe8\xaf\x81"  # 滑动验证
    rb"|\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81"  # 验证码
    rb"|captcha)",
    re.IGNORECASE,
)


def detect_challenge(
    status: int, set_cookies: list[str], body: bytes, location: str = ""
) -> str | None:
    """Return why a response is an anti-bot challenge, or None for an ordinary response.

    Args:
        status: the HTTP status.
        set_cookies: the ``Set-Cookie`` header values.
        body: the raw body.
        location: the ``Location`` header of a redirect.

    Returns:
        A short reason such as ``"HTTP 412 with an inline $_ts script"``.
    """
    cookies = " ".join(set_cookies)
    head = body[:20000]
    if status == 412 and b"$_ts" in head:
        # Ruishu (瑞数) answers 412 with a script that computes a cookie; e.g. many 12371 sites.
        return "HTTP 412 with an inline $_ts script (Ruishu challenge)"
    if "wzws_cid" in cookies or "wzwschallenge" in location.lower() or b"wzwschallenge" in head:
        # WZWS (网站卫士) sets wzws_cid and redirects to ?wzwschallenge=... to run its script.
        return "wzws_cid cookie redirect (WZWS challenge)"
    if "__jsluid" in cookies and (status >= 400 or b"__jsl_clearance" in head):
        # Jiasule (加速乐) sets __jsluid on every response; only its 521/JS page is a challenge.
        return f"__jsluid cookie with a challenge page (HTTP {status})"
    if len(body) < 30000 and CAPTCHA_TITLE.search(head):
        return "captcha page"
    return None


def site_for(request: Request, crawler: Crawler) -> str | None:
    """Return the site id of a request: its ``site_id`` meta, or the site owning its host."""
    site_id = request.meta.get("site_id")
    if site_id:
        return site_id
    for site in getattr(crawler.spider, "sites", None) or ():
        if site.allows(request.url):
            return site.id
    return None


class AntiBotMiddleware:
    """Mark a site blocked on its first anti-bot challenge and drop its later requests.

    Sits next to the downloader (order 950) so it sees a challenge redirect before
    RedirectMiddleware follows it, and a challenge status before RetryMiddleware retries it.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AntiBotMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        site_id = site_for(request, self.crawler)
        reason = site_id and self.stats.get_value(BLOCKED_STAT.format(site_id))
        if reason:
            self.stats.inc_value("dangjian/blocked/dropped")
            raise IgnoreRequest(f"site {site_id} is blocked ({reason})")

    def process_response(self, request: Request, response: Response) -> Response:
        cookies = [v.decode("latin-1") for v in response.headers.getlist("Set-Cookie")]
        location = (response.headers.get("Location") or b"").decode("latin-1")
        reason = detect_challenge(response.status, cookies, response.body, location)
        if reason is None:
            return response
        site_id = site_for(request, self.crawler) or "?"
        if not self.stats.get_value(BLOCKED_STAT.format(site_id)):
            self.stats.set_value(BLOCKED_STAT.format(site_id), f"{reason} at {request.url}")
            logger.error(
                "ALERT site %s blocked: %s at %s; its crawl stops here",
                site_id,
                reason,
                request.url,
            )
        self.stats.inc_value("dangjian/blocked/challenges")
        raise IgnoreRequest(f"anti-bot challenge from {request.url}: {reason}")
