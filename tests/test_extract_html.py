"""HTML pages: main text against the benchmark's ground truth, metadata from structured data."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from warcpack.extract import SiteConfig, extract
from warcpack.record import RecordRef, SourceRecord
from warcpack.row import Extracted, make_row

SHARED = Path(__file__).resolve().parents[2] / "shared"
ARTICLES = SHARED / "benchmark" / "article-extraction"


def response(body: bytes, url: str, *, date: str = "2024-01-01T00:00:00Z",
             headers: tuple[tuple[str, str], ...] = ()) -> SourceRecord:
    return SourceRecord(
        ref=RecordRef("pages.warc.gz", 0, len(body) + 500, "<urn:uuid:0000-html>"),
        warc_type="response",
        url=url,
        warc_date=date,
        payload_digest=None,
        content_type="text/html; charset=utf-8",
        http_status=200,
        http_headers=headers,
        warc_headers=(),
        body=body,
    )


@cache
def ground_truth() -> dict[str, dict[str, str]]:
    return json.loads((ARTICLES / "ground-truth.json").read_text("utf-8"))


def benchmark_row(page_id: str, **kw: object) -> dict:
    body = gzip.decompress((ARTICLES / "html" / f"{page_id}.html.gz").read_bytes())
    rec = response(body, ground_truth()[page_id]["url"], **kw)  # type: ignore[arg-type]
    ext = extract(rec, strict=True)
    assert isinstance(ext, Extracted), ext
    return make_row(rec, ext)


def shingle_f1(truth: str, predicted: str) -> float:
    """The benchmark's own measure: 4-token shingles (\\w+ tokens) as multisets."""
    def shingles(text: str) -> Counter:
        tokens = re.findall(r"\w+", text)
        return Counter(tuple(tokens[i:i + 4]) for i in range(max(1, len(tokens) - 3)))
    t, p = shingles(truth), shingles(predicted)
    tp = sum((t & p).values())
    if not tp:
        return 0.0
    precision, recall = tp / sum(p.values()), tp / sum(t.values())
    return 2 * precision * recall / (precision + recall)


TECHCRUNCH = "1ace8c85aaee21b9d4505eca506d50c4721c29db62848b567a9703bfe0583892"
DECCAN = "39d5c43beb60605c3eec760c99500e62e7bd71ebbe4ae05edf382125e1b0b80a"
RUSSIAN = "c4a3637c6696f238cf9fe1c7fbb17bbb6731a71d4f5fe399b9b4fc3294a96a6b"
JAPANESE = "85439e26c41c75901820d01a13e8cea7836abb58635ea3986f71a163ab0311d3"
CNBC = "374ac9a59a85196cdacc1679fb8993521a7b7d9d6533720f102300be1c7face4"
NYPOST = "a1fca19b884e0e946ad3fbe2a7f5031e5e3b23372702a76db302b6143c77cb31"
PANARMENIAN = "d90bda7ed14df19574f4ca8b1ccde5752a78f40058af1393e81cc99adb3e8756"


@pytest.mark.parametrize("page_id", [TECHCRUNCH, DECCAN, RUSSIAN, JAPANESE, CNBC, NYPOST])
def test_main_text_matches_ground_truth(page_id: str) -> None:
    row = benchmark_row(page_id)
    assert shingle_f1(ground_truth()[page_id]["articleBody"], row["text"]) > 0.9
    assert "\n\n" in row["text"]  # paragraphs are separated by blank lines


BUSINESSINSIDER = "fde930b01859de8311c6a14f8aa8c72be0659b551367803deb6736cf3526cf2e"
WSJ = "042bb7b5fedab6eac7db576522b89b93904c237d344bcbe14a6a5ab7f7335856"
WIRED = "2f42ef1d3ea0c96e56355d3db93d0e06b47e760b74f6f4261278b8cd1c246dd6"
AUTORACING = "cc03ddb5ef7d5f1fdb8a87f5e6dfd058a2a70acedf2551655a898dc5c18eb79e"
MEAL_PREP = "5f03fc173ebc6abdfae50b96ce0b05a6137b7d3f2ef379be35a9bb8ca9f49e87"
CBSSPORTS = "08f793762792bd252c75fb57544cdf506ffcc04785136cb87503f02364b82b56"


def test_an_article_rendered_three_times_gives_one_copy() -> None:
    """The page template repeats the article (and metadata in between); trafilatura's balanced
    pass keeps all three copies, its precision pass one: the row has each item once."""
    row = benchmark_row(BUSINESSINSIDER)
    truth = ground_truth()[BUSINESSINSIDER]["articleBody"]
    item = "T-Mobile CEO John Legere is stepping down"
    assert row["text"].count(item) == truth.count(item) == 1
    assert "2019-11-19T08:57:40+01:00" not in row["text"]  # metadata between the copies
    assert shingle_f1(truth, row["text"]) > 0.95


def test_lines_a_recipe_repeats_are_kept() -> None:
    """Repeats the precision pass keeps too are the article's own (meal plans share lines)."""
    row = benchmark_row(MEAL_PREP)
    truth = ground_truth()[MEAL_PREP]["articleBody"]
    assert row["text"].count("Eat every 2–3 hours") == truth.count("Eat every 2–3 hours") > 5


def test_headline_and_standfirst_are_not_article_text() -> None:
    row = benchmark_row(WSJ)
    assert row["title"].startswith("Google Stadia, Microsoft xCloud, Apple Arcade")
    assert row["text"].startswith("Gaming used to be so simple.")
    assert shingle_f1(ground_truth()[WSJ]["articleBody"], row["text"]) > 0.98


def test_newsletter_box_and_related_links_are_cut() -> None:
    row = benchmark_row(CBSSPORTS)
    assert "Thanks for signing up!" not in row["text"]
    assert "Join our Free $1,000,000 Parlay Challenge" not in row["text"]
    assert shingle_f1(ground_truth()[CBSSPORTS]["articleBody"], row["text"]) > 0.95


def test_article_in_one_table_cell_is_split_into_paragraphs() -> None:
    """A table layout: the balanced pass returns one line with the title, date, article and
    sidebar; the precision pass's paragraphs replace it."""
    row = benchmark_row(PANARMENIAN)
    paragraphs = row["text"].split("\n\n")
    assert len(paragraphs) >= 7 and not row["text"].startswith("|")
    assert shingle_f1(ground_truth()[PANARMENIAN]["articleBody"], row["text"]) > 0.95


def test_article_body_cut_in_two_by_an_advert_is_read_whole() -> None:
    """The body continues in a second container of the same class after an ad row;
    trafilatura alone stops at the first."""
    row = benchmark_row(WIRED)
    assert "A second problem is more serious." in row["text"]
    assert shingle_f1(ground_truth()[WIRED]["articleBody"], row["text"]) > 0.95


def test_leading_date_line_and_closing_tag_list_are_cut() -> None:
    row = benchmark_row(AUTORACING)
    paragraphs = row["text"].split("\n\n")
    assert paragraphs[0] == "Calendário da Stock Car 2018"  # not the headline, not the date
    assert "Tags" not in paragraphs and "stock car cascavel" not in row["text"]
    assert "ATENÇÃO: Comentários" not in row["text"]


def test_when_the_fast_passes_find_little_the_compared_pass_reads_the_article() -> None:
    """trafilatura's fast mode finds only the standfirst on this page (67 words); its comparison
    with readability and jusText finds the 6,000-word essay."""
    dates = SHARED / "benchmark" / "dates"
    name = "b2a273097fea49e03b7fa9d58270228e2a8181e9"
    labels = json.loads((dates / "labels.json").read_text("utf-8"))
    body = gzip.decompress((dates / "html" / f"{name}.html.gz").read_bytes())
    row = make_row(rec := response(body, labels[name]["url"]), extract(rec, strict=True))
    assert "Depuis longtemps, les économistes et les gestionnaires" in row["text"]
    assert len(row["text"].split()) > 5000


def test_metadata_from_structured_data() -> None:
    row = benchmark_row(DECCAN)
    assert row["site"] == "deccanherald.com"
    assert row["title"] == "Beijing tariff demands may expand US-China trade deal"
    assert row["authors"] == ["Reuters"]
    assert row["section"] == "Economy & Business"
    assert row["tags"] == ["United States", "China", "trade war", "Trade deal"]
    assert row["language"] == "en"
    assert row["date_published"] == "2019-11-20T11:06:01+05:30"
    assert row["date_modified"] == "2019-11-20T15:24:40+05:30"
    assert row["dates"]["published"]["source"] == "json-ld"
    assert row["dates"]["published"]["timezone_source"] == "page"
    assert row["license"]["statement"] == "© 2019 The Printers (Mysore) Private Ltd."
    assert row["license"]["redistributable"] is False


def test_http_last_modified_is_kept_apart_from_page_dates() -> None:
    row = benchmark_row(TECHCRUNCH, headers=(("Last-Modified", "Tue, 19 Nov 2019 06:00:00 GMT"),))
    assert row["http_last_modified"] == "2019-11-19T06:00:00Z"
    assert row["date_published"] == "2019-11-19T04:58:46Z"
    assert benchmark_row(TECHCRUNCH)["http_last_modified"] is None
    bad = benchmark_row(TECHCRUNCH, headers=(("Last-Modified", "yesterday-ish"),))
    assert bad["http_last_modified"] is None


def test_rel_license_creative_commons_page() -> None:
    lic = benchmark_row(PANARMENIAN)["license"]
    assert lic["spdx"] == "CC-BY-3.0"
    assert lic["url"] == "https://creativecommons.org/licenses/by/3.0/"
    assert lic["redistributable"] is True
    assert lic["source"] == "rel-license"
    assert lic["statement"].startswith("Copyright © 2000—2019. PAN Media")


ARTICLE_TEXT = "".join(
    f"<p>Paragraph {i}: the harbour authority said on Monday that the new quay will open to "
    f"ferries next spring, after two years of delays and a long dispute over costs.</p>\n"
    for i in range(6)
)

GRAPH_PAGE = f"""<!doctype html>
<html><head><title>Harbour quay to open | Coast Herald</title>
<script type="application/ld+json">{{ "this is": not json, }}</script>
<script type="application/ld+json">
{{"@context": "https://schema.org", "@graph": [
  {{"@type": "Organization", "@id": "#org", "name": "Coast Herald Media"}},
  {{"@type": "Person", "@id": "#p1", "name": "Ana Lima"}},
  {{"@type": "WebPage", "@id": "#page", "datePublished": "2001-01-01"}},
  {{"@type": ["NewsArticle"], "headline": "Harbour quay to open",
    "author": [{{"@id": "#p1"}}, {{"@type": "Person", "name": "Rui Costa"}}],
    "publisher": {{"@id": "#org"}}, "articleSection": ["Ports", "Economy"],
    "keywords": "harbour, ferries, quay", "inLanguage": "pt-pt",
    "datePublished": "2024-03-10T09:00:00", "dateModified": "2024-07-01T08:30:00",
    "license": "https://creativecommons.org/licenses/by-nc-nd/4.0/"}}
]}}
</script></head>
<body><article><h1>Harbour quay to open</h1>{ARTICLE_TEXT}</article>
<footer><p>© 2024 Coast Herald Media</p></footer></body></html>"""

SITES = SiteConfig.parse('[sites."coastherald.example"]\ntimezone = "Europe/Lisbon"\n')


def test_json_ld_graph_with_references() -> None:
    rec = response(GRAPH_PAGE.encode(), "https://www.coastherald.example/ports/quay",
                   date="2024-08-01T00:00:00Z")
    ext = extract(rec, SITES, strict=True)
    row = make_row(rec, ext)
    assert row["title"] == "Harbour quay to open"
    assert row["authors"] == ["Ana Lima", "Rui Costa"]
    assert row["publisher"] == "Coast Herald Media"
    assert row["section"] == "Ports"
    assert row["tags"] == ["harbour", "ferries", "quay"]
    assert row["language"] == "pt-PT"
    # Local times with no offset: the site's zone for each date (Lisbon: WET in March, WEST
    # in July).
    assert row["date_published"] == "2024-03-10T09:00:00Z"
    assert row["date_modified"] == "2024-07-01T08:30:00+01:00"
    assert row["dates"]["published"]["timezone"] == "Europe/Lisbon"
    assert row["dates"]["published"]["timezone_source"] == "site-config"
    assert row["license"]["spdx"] == "CC-BY-NC-ND-4.0"
    assert row["license"]["redistributable"] is True
    assert row["license"]["source"] == "json-ld"
    assert row["license"]["statement"] == "© 2024 Coast Herald Media"
    # The article starts after its headline, paragraphs apart.
    assert row["text"].startswith("Paragraph 0: the harbour authority")
    assert "costs.\n\nParagraph 1: the harbour authority" in row["text"]
    assert row["text"].endswith("a long dispute over costs.")  # the footer is not text


def test_same_page_without_the_site_config_gives_days_only() -> None:
    rec = response(GRAPH_PAGE.encode(), "https://www.coastherald.example/ports/quay",
                   date="2024-08-01T00:00:00Z")
    row = make_row(rec, extract(rec, SiteConfig(), strict=True))
    assert row["date_published"] is None and row["date_modified"] is None
    assert row["date_published_day"] == "2024-03-10"
    assert row["date_modified_day"] == "2024-07-01"
    assert row["dates"]["published"]["precision"] == "second"


def test_opengraph_and_meta_tags() -> None:
    page = f"""<html lang="en-gb"><head>
    <meta property="og:title" content="Quay opens | Coast Herald">
    <meta property="og:site_name" content="Coast Herald">
    <meta property="article:section" content="Ports">
    <meta property="article:tag" content="harbour"><meta property="article:tag" content="ferries">
    <meta name="author" content="By Ana Lima">
    <meta name="description" content="The new quay opens.">
    <meta name="copyright" content="Coast Herald Ltd">
    <meta property="article:published_time" content="2024-03-10T09:00:00+00:00">
    </head><body><article>{ARTICLE_TEXT}</article></body></html>"""
    rec = response(page.encode(), "https://coastherald.example/q", date="2024-08-01T00:00:00Z")
    row = make_row(rec, extract(rec, SITES, strict=True))
    assert row["title"] == "Quay opens"  # the " | Coast Herald" suffix names the site
    assert row["publisher"] == "Coast Herald"
    assert row["section"] == "Ports"
    assert row["tags"] == ["harbour", "ferries"]
    assert row["authors"] == ["Ana Lima"]
    assert row["description"] == "The new quay opens."
    assert row["language"] == "en-GB"
    assert row["date_published"] == "2024-03-10T09:00:00Z"
    assert row["dates"]["published"]["source"] == "meta:article:published_time"
    assert row["dates"]["published"]["timezone"] == "+00:00"
    assert row["license"] == {"statement": "Coast Herald Ltd", "url": None, "spdx": None,
                              "redistributable": False, "source": "meta"}


def test_same_record_same_row() -> None:
    assert benchmark_row(NYPOST) == benchmark_row(NYPOST)


def test_fast_mode_reads_one_pass_and_says_so() -> None:
    """`text_mode="fast"` reads only trafilatura's balanced pass: the whole article is there,
    but what that pass keeps at the article's edges is not trimmed by the second pass. It names
    its extractor, and the rest of the row (metadata, dates, licence) is the same."""
    body = gzip.decompress((ARTICLES / "html" / f"{WSJ}.html.gz").read_bytes())
    rec = response(body, ground_truth()[WSJ]["url"])
    accurate, fast = (make_row(rec, extract(rec, strict=True, text_mode=m))  # type: ignore[arg-type]
                      for m in ("accurate", "fast"))
    truth = ground_truth()[WSJ]["articleBody"]
    assert (accurate["provenance"]["extractor"], fast["provenance"]["extractor"]) == (
        "warcpack-html", "warcpack-html-fast")
    assert set(accurate["text"].split("\n\n")) < set(fast["text"].split("\n\n"))
    assert shingle_f1(truth, fast["text"]) < 0.9 < shingle_f1(truth, accurate["text"])
    same = ("title", "authors", "date_published", "date_modified", "license", "tags")
    assert {k: fast[k] for k in same} == {k: accurate[k] for k in same}


def test_an_unknown_text_mode_is_refused() -> None:
    rec = response(b"<html><body><p>x</p></body></html>", "https://example.com/")
    with pytest.raises(ValueError, match="text_mode must be one of accurate, fast"):
        extract(rec, text_mode="fastest")
