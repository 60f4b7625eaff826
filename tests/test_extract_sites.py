"""The site config: the packaged file, host matching, and clear errors for a bad user file."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from warcpack.extract import SiteConfig, SiteConfigError


def test_packaged_config_loads_and_every_zone_exists() -> None:
    sites = SiteConfig.load()
    assert len(sites.rules) >= 5
    for rule in sites.rules:
        if rule.timezone:
            ZoneInfo(rule.timezone)
    assert SiteConfig.load() is sites  # read once


@pytest.mark.parametrize("host", ["tbsnews.net", "www.tbsnews.net", "m.tbsnews.net",
                                  "TBSNEWS.NET."])
def test_host_and_subdomains_match(host: str) -> None:
    rule = SiteConfig.load().for_host(host)
    assert rule is not None
    assert (rule.timezone, rule.publisher) == ("Asia/Dhaka", "The Business Standard")


@pytest.mark.parametrize("host", ["nottbsnews.net", "tbsnews.net.example", "", None])
def test_other_hosts_do_not_match(host: str | None) -> None:
    assert SiteConfig.load().for_host(host) is None


def test_longest_key_wins(tmp_path: Path) -> None:
    path = tmp_path / "sites.toml"
    path.write_text('[sites."example.com"]\ntimezone = "UTC"\n'
                    '[sites."de.example.com"]\ntimezone = "Europe/Berlin"\n', "utf-8")
    sites = SiteConfig.load(path)
    assert sites.for_host("news.de.example.com").timezone == "Europe/Berlin"
    assert sites.for_host("www.example.com").timezone == "UTC"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[sites."x.example"]\ntimezone = "Mars/Olympus"\n', "unknown time zone 'Mars/Olympus'"),
        ('[sites."x.example"]\ntimezon = "UTC"\n', "unknown keys ['timezon']"),
        ('[sites."x.example".license]\nredistributable = "yes"\n', "must be true or false"),
        ('[sites."x.example"\n', "invalid TOML"),
    ],
)
def test_bad_config_names_the_file_and_entry(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "mysites.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(SiteConfigError) as err:
        SiteConfig.load(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SiteConfigError, match="cannot read site config"):
        SiteConfig.load(tmp_path / "absent.toml")
