"""The site registry: validation errors name the site and key; hosts and selection rules."""

import pytest
import yaml

from crawler.registry import DEFAULT_REGISTRY, load_registry, parse_site, select_sites
from pipeline.errors import SiteConfigError


def write(tmp_path, sites):
    path = tmp_path / "sites.yml"
    path.write_text(yaml.safe_dump({"sites": sites}, allow_unicode=True), encoding="utf-8")
    return path


def entry(**overrides):
    base = {
        "id": "demo-site",
        "name": "示例",
        "level": "city",
        "start_urls": ["http://news.example.gov.cn/dj/index.html"],
    }
    return {**base, **overrides}


def test_bundled_registry_loads_and_has_sample_and_real_sites():
    sites = load_registry(DEFAULT_REGISTRY)
    assert any(s.sample for s in sites)
    real = [s for s in sites if not s.sample]
    assert len(real) >= 5
    assert all(s.start_urls and s.allowed_hosts for s in sites)


def test_missing_key_names_site_and_key(tmp_path):
    path = write(tmp_path, [entry(level=None)])
    with pytest.raises(SiteConfigError, match="demo-site.*level"):
        load_registry(path)


def test_bad_level_and_bad_regex_are_explained(tmp_path):
    with pytest.raises(SiteConfigError, match="province, city, district"):
        parse_site(entry(level="county"))
    with pytest.raises(SiteConfigError, match="not a valid regex"):
        parse_site(entry(article_patterns=["t(\\d+"]))


def test_duplicate_ids_rejected(tmp_path):
    path = write(tmp_path, [entry(), entry()])
    with pytest.raises(SiteConfigError, match="appears twice"):
        load_registry(path)


def test_allowed_hosts_default_to_start_url_hosts_and_cover_subdomains():
    site = parse_site(entry())
    assert site.allowed_hosts == ("news.example.gov.cn",)
    assert site.allows("http://news.example.gov.cn/dj/t20230419_1.html")
    assert site.allows("https://m.news.example.gov.cn/x.html")
    assert not site.allows("http://example.gov.cn/x.html")
    assert not site.allows("http://evilnews.example.gov.cn.attacker.com/")


def test_host_with_port_must_match_port():
    site = parse_site(entry(allowed_hosts=["127.0.0.1:8781"]))
    assert site.allows("http://127.0.0.1:8781/a.html")
    assert not site.allows("http://127.0.0.1:8782/a.html")


def test_select_sites_by_id_sample_or_real():
    sites = [
        parse_site(entry(id="real-a")),
        parse_site(entry(id="sample-a", sample=True)),
        parse_site(entry(id="off", enabled=False)),
    ]
    assert [s.id for s in select_sites(sites)] == ["real-a"]
    assert [s.id for s in select_sites(sites, sample=True)] == ["sample-a"]
    assert [s.id for s in select_sites(sites, ["off"])] == ["off"]
    with pytest.raises(SiteConfigError, match="unknown site id"):
        select_sites(sites, ["nope"])


def test_bundled_sample_entries_match_the_sample_sites():
    from sample_sites import DEFAULT_PORT, build_sites, registry_entries

    sites = build_sites(30)
    addresses = {sid: f"http://{s.default_host}:{DEFAULT_PORT}" for sid, s in sites.items()}
    bundled = {s.id: s.raw for s in load_registry(DEFAULT_REGISTRY) if s.sample}
    assert bundled == {e["id"]: e for e in registry_entries(addresses, 30)}
