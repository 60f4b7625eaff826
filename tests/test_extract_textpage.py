"""Plain-text page renderings: the seed page end to end, and the same rules on another layout."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from warcpack.extract import extract
from warcpack.extract.textpage import date_line, parse_text_page
from warcpack.record import RecordRef, SourceRecord
from warcpack.row import Extracted, Skip, make_row

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = SHARED / "seed" / "000_14b711aa33428448.txt"


def snapshot(body: bytes, *, url: str | None = None, hints: dict[str, str] | None = None,
             date: str = "2025-07-03T00:00:00Z") -> SourceRecord:
    digest = hashlib.sha256(body).hexdigest()
    return SourceRecord(
        ref=RecordRef("snapshots.warc.gz", 0, len(body) + 400, f"<urn:uuid:{digest[:32]}>"),
        warc_type="resource",
        url=url or f"urn:sha256:{digest}",
        warc_date=date,
        payload_digest=None,
        content_type="text/plain; charset=utf-8",
        http_status=None,
        http_headers=(),
        warc_headers=(),
        body=body,
        hints=hints or {},
    )


@pytest.fixture(scope="module")
def seed_row() -> dict:
    rec = snapshot(
        SEED.read_bytes(), hints={"publisher": "The Business Standard", "site": "tbsnews.net"}
    )
    ext = extract(rec, strict=True)
    assert isinstance(ext, Extracted), ext
    return make_row(rec, ext)


def test_seed_dates_carry_the_publishers_offset(seed_row: dict) -> None:
    assert seed_row["date_published"] == "2024-12-06T17:55:00+06:00"
    assert seed_row["date_modified"] == "2024-12-09T14:49:00+06:00"
    assert seed_row["date_published_day"] == "2024-12-06"
    assert seed_row["date_modified_day"] == "2024-12-09"
    pub = seed_row["dates"]["published"]
    assert pub["raw"] == "06 December, 2024, 05:55 pm"
    assert pub["timezone"] == "Asia/Dhaka"
    assert pub["timezone_source"] == "site-config"
    assert pub["precision"] == "minute"
    # The page header's "Thursday July 03, 2025" is the render date, not a publication date.
    assert seed_row["date_captured"] == "2025-07-03T00:00:00Z"


def test_seed_metadata(seed_row: dict) -> None:
    assert seed_row["title"] == "Iran, Hezbollah aim to bolster Assad as rebels bear down on Homs"
    assert seed_row["authors"] == ["Reuters"]
    assert seed_row["publisher"] == "The Business Standard"
    assert seed_row["section"] == "Middle East"
    assert seed_row["tags"] == ["syria", "Iran", "Hezbollah", "Syrian President Bashar al-Assad"]
    assert seed_row["site"] == "tbsnews.net"
    assert seed_row["description"].startswith("Seizing Homs would cut off Syria's capital")


def test_seed_license_is_the_footer_claim(seed_row: dict) -> None:
    lic = seed_row["license"]
    assert lic["statement"] == "Copyright © 2025 The Business Standard All rights reserved"
    assert lic["redistributable"] is False
    assert lic["spdx"] is None and lic["url"] is None
    assert lic["source"] == "footer"


def test_seed_text_is_the_article_only(seed_row: dict) -> None:
    text = seed_row["text"]
    assert text.startswith("Iran will send missiles, drones and more advisers")
    assert text.endswith("killed by Israel over the past two months.")
    for noise in ("Latest", "Editor's Pick", "Related News", "Top Stories", "MOST VIEWED",
                  "moderation decisions are subjective", "Google News", "Copyright",
                  "REUTERS/Mahmoud Hassano", "More Videos", "Top News / World+Biz"):
        assert noise not in text, noise
    # Sub-headings between prose paragraphs are part of the article.
    assert "\n\nHOMS EMPTYING\n\n" in text
    assert "\n\n'YOUR TIME HAS COME'\n\n" in text
    assert "\n\n\n" not in text


def test_seed_without_site_config_keeps_the_day_but_gives_no_instant() -> None:
    """Same page, declared as an unknown site: a time with no zone cannot become an instant."""
    rec = snapshot(SEED.read_bytes(), hints={"site": "example.org"})
    ext = extract(rec, strict=True)
    row = make_row(rec, ext)
    assert row["date_published"] is None
    assert row["date_published_day"] == "2024-12-06"
    assert row["dates"]["published"]["timezone"] is None
    assert row["dates"]["published"]["timezone_source"] is None
    assert row["publisher"] == "The Business Standard"  # from the title's " | " suffix


GAZETTE = """\
Council approves new bike lanes | Springfield Gazette
Skip to content
  • News
  • Local
  • Sports
Council approves new bike lanes
Local
By Jane Doe and John Roe
March 5, 2024 at 10:30 AM
Updated: March 6, 2024

A photo of the council chamber
A photo of the council chamber

The city council voted 7-2 on Tuesday night to build protected bike lanes on three downtown \
streets, ending a debate that has run for more than two years.

Supporters said the lanes would make cycling safer for children and commuters alike.

Budget

The project will cost an estimated $4.2 million, most of it covered by a state transportation \
grant awarded last autumn.

Construction is expected to begin in the spring and to last about eight months.

Read more
  • Mayor opens new library branch
  • School board race heats up

Except where noted, our articles are licensed under https://creativecommons.org/licenses/by/4.0/
© 2024 Springfield Gazette
"""


def test_layout_rules_are_generic() -> None:
    rec = snapshot(GAZETTE.encode(), url="https://www.springfield.example/news/bike-lanes",
                   date="2024-03-07T12:00:00Z")
    ext = extract(rec, strict=True)
    row = make_row(rec, ext)
    assert row["title"] == "Council approves new bike lanes"
    assert row["publisher"] == "Springfield Gazette"
    assert row["site"] == "springfield.example"
    assert row["authors"] == ["Jane Doe", "John Roe"]
    assert row["section"] == "Local"
    assert row["date_published"] is None  # no zone for this site
    assert row["date_published_day"] == "2024-03-05"
    assert row["dates"]["published"]["precision"] == "minute"
    assert row["date_modified_day"] == "2024-03-06"
    assert row["dates"]["modified"]["precision"] == "day"
    assert row["text"].split("\n\n") == [
        "The city council voted 7-2 on Tuesday night to build protected bike lanes on three "
        "downtown streets, ending a debate that has run for more than two years.",
        "Supporters said the lanes would make cycling safer for children and commuters alike.",
        "Budget",
        "The project will cost an estimated $4.2 million, most of it covered by a state "
        "transportation grant awarded last autumn.",
        "Construction is expected to begin in the spring and to last about eight months.",
    ]
    lic = row["license"]
    assert lic["spdx"] == "CC-BY-4.0"
    assert lic["redistributable"] is True
    assert lic["statement"] == "© 2024 Springfield Gazette"


def test_a_page_without_prose_gives_no_row() -> None:
    menu = "Home | Example\n  • News\n  • Sport\n  • Weather\nContact us\n"
    assert extract(snapshot(menu.encode()), strict=True) == Skip(
        "no-text", "no run of prose paragraphs found"
    )


@pytest.mark.parametrize(
    ("line", "kind", "raw"),
    [
        ("06 December, 2024, 05:55 pm", "published", "06 December, 2024, 05:55 pm"),
        ("Last modified: 09 December, 2024, 02:49 pm", "modified", "09 December, 2024, 02:49 pm"),
        ("Published on Nov. 3, 2023", "published", "Nov. 3, 2023"),
        ("Updated 2024-01-02 10:00", "modified", "2024-01-02 10:00"),
        ("Thursday July 03, 2025", "published", "Thursday July 03, 2025"),
    ],
)
def test_date_lines(line: str, kind: str, raw: str) -> None:
    found = date_line(line)
    assert found is not None and found.kind == kind and found.raw == raw


@pytest.mark.parametrize(
    "line",
    ["Iran will send missiles on December 6, 2024, officials said.", "Top News / World+Biz",
     "Rebels captured Hama, in Syria December 5, 2024. REUTERS/Mahmoud Hassano"],
)
def test_sentences_with_dates_are_not_date_lines(line: str) -> None:
    assert date_line(line) is None


def test_parse_keeps_breadcrumbs_out_of_tags() -> None:
    page = parse_text_page(SEED.read_text("utf-8"))
    assert page.tags == ["syria", "Iran", "Hezbollah", "Syrian President Bashar al-Assad"]
    assert page.title_suffix == "The Business Standard"
    assert page.holder == "The Business Standard"


def test_a_uniform_margin_is_not_a_list() -> None:
    """Some renderers indent every line; only lines deeper than the margin are list items."""
    seed = SEED.read_text("utf-8")
    indented = "\n".join("   " + line if line else line for line in seed.splitlines())
    assert parse_text_page(indented).body == parse_text_page(seed).body != []
    assert parse_text_page(indented).tags == parse_text_page(seed).tags
