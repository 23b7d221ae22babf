"""Propose a registry entry from a site's home page (``dangjian discover``, issue #16).

Plain functions over lxml trees, one module per question; the discover spider
(``crawler/spiders/discover.py``) fetches, ``ops/discover.py`` puts the answers together:

* ``fingerprint`` — which CMS made the site (TRS WCM, Hanweb, PHPCMS, DedeCMS, Founder,
  博达, WordPress or unknown), and that CMS's defaults from ``crawler.links``;
* ``columns`` — the navigation of a home page and which of its links are party-building
  columns, by the documented dictionary (docs/discover.md);
* ``lists`` — whether a page is a list of dated article links, its items and its pagination;
* ``patterns`` — regular expressions that generalise a set of article or list URLs;
* ``identity`` — the site's name, level and region (``SiteIDCode`` or the page) and encoding.
"""
