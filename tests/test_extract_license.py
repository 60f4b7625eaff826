"""Licences: recognising Creative Commons, and what `redistributable` promises."""

from __future__ import annotations

import pytest

from warcpack.extract.license import find_license, recognise
from warcpack.extract.sites import SiteConfig
from warcpack.extract.structured import extract_structured, footer_statements, parse_html


@pytest.mark.parametrize(
    ("text", "spdx", "redistributable"),
    [
        ("https://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0", True),
        ("http://creativecommons.org/licenses/by-sa/3.0/deed.en", "CC-BY-SA-3.0", True),
        ("//creativecommons.org/licenses/by-nd/4.0/", "CC-BY-ND-4.0", True),
        ("https://creativecommons.org/licenses/by-nc/2.0/", "CC-BY-NC-2.0", True),
        ("https://creativecommons.org/licenses/by-nc-sa/4.0/legalcode", "CC-BY-NC-SA-4.0", True),
        ("https://creativecommons.org/licenses/by-nc-nd/3.0/", "CC-BY-NC-ND-3.0", True),
        ("https://i.creativecommons.org/l/by/4.0/88x31.png", "CC-BY-4.0", True),
        ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0", True),
        ("https://creativecommons.org/licenses/by/3.0/de/", None, True),  # ported: no SPDX id
        ("Licensed under CC BY-SA 4.0", "CC-BY-SA-4.0", True),
        ("CC0", "CC0-1.0", True),
    ],
)
def test_recognise(text: str, spdx: str | None, redistributable: bool) -> None:
    lic = recognise(text)
    assert lic is not None
    assert (lic["spdx"], lic["redistributable"]) == (spdx, redistributable)


def test_public_domain_mark() -> None:
    lic = recognise("https://creativecommons.org/publicdomain/mark/1.0/")
    assert lic is not None and lic["redistributable"] is True and lic["spdx"] is None


@pytest.mark.parametrize("text", ["https://example.com/terms", "Copyright 2024", "", None])
def test_not_a_licence(text: str | None) -> None:
    assert recognise(text) is None


def license_of(html: str, sites: SiteConfig | None = None, host: str = "news.example") -> dict:
    tree = parse_html(html)
    assert tree is not None
    rule = (sites or SiteConfig()).for_host(host)
    return find_license(extract_structured(tree), footer_statements(tree), rule)


def test_nothing_found_is_unknown() -> None:
    assert license_of("<html><body><p>Hello</p></body></html>") == {
        "statement": None, "url": None, "spdx": None, "redistributable": None, "source": None}


def test_footer_claim_without_licence_is_not_redistributable() -> None:
    lic = license_of(
        "<html><body><p>Text</p><figure><figcaption>© Photo Agency</figcaption></figure>"
        "<footer><div><p>© 2025 <a href='/'>Daily Example</a>. All rights reserved.</p>"
        "<script>document.write('©')</script></div></footer></body></html>"
    )
    assert lic["statement"] == "© 2025 Daily Example. All rights reserved."
    assert lic["redistributable"] is False
    assert lic["source"] == "footer"


def test_rel_license_beats_footer_copyright() -> None:
    lic = license_of(
        "<html><head><link rel='license' href='https://creativecommons.org/licenses/by/4.0/'>"
        "</head><body><footer>© 2025 Open Example</footer></body></html>"
    )
    assert lic == {"statement": "© 2025 Open Example", "source": "rel-license",
                   "url": "https://creativecommons.org/licenses/by/4.0/", "spdx": "CC-BY-4.0",
                   "redistributable": True}


def test_stray_cc_link_does_not_outweigh_all_rights_reserved() -> None:
    lic = license_of(
        "<html><body><p>Photo: <a href='https://creativecommons.org/licenses/by-sa/2.0/'>"
        "CC BY-SA</a></p><footer>© 2025 Example Ltd. All rights reserved.</footer></body></html>"
    )
    assert lic["spdx"] is None and lic["redistributable"] is False


def test_unrecognised_licence_link_is_kept_but_not_judged() -> None:
    lic = license_of("<html><body><a rel='license' href='/terms'>Terms</a></body></html>")
    assert lic["url"] == "/terms" and lic["source"] == "rel-license"
    assert lic["spdx"] is None and lic["redistributable"] is None


def test_json_ld_copyright_holder_and_year() -> None:
    lic = license_of(
        "<html><head><script type='application/ld+json'>{\"@type\": \"Article\", "
        "\"headline\": \"x\", \"copyrightHolder\": {\"@type\": \"Organization\", \"name\": "
        "\"Example News\"}, \"copyrightYear\": 2024}</script></head><body></body></html>"
    )
    assert lic["statement"] == "© 2024 Example News"
    assert lic["source"] == "json-ld" and lic["redistributable"] is False


def test_site_config_licence_applies_when_the_page_has_none() -> None:
    sites = SiteConfig.load()
    lic = license_of("<html><body><footer>© 2025 The Conversation</footer></body></html>",
                     sites, host="theconversation.com")
    assert lic["spdx"] == "CC-BY-ND-4.0" and lic["redistributable"] is True
    assert lic["source"] == "site-config"
    assert lic["statement"] == "© 2025 The Conversation"
