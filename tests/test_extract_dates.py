"""Dates: parsing, time zones, published vs modified, and the capture date as the upper bound."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path

import pytest

from warcpack.extract import SiteConfig, extract
from warcpack.extract.dates import (
    Candidate,
    choose,
    http_date,
    label_kind,
    latest_day,
    parse_date,
    resolve,
    url_date,
)
from warcpack.record import RecordRef, SourceRecord
from warcpack.row import Extracted, make_row

SHARED = Path(__file__).resolve().parents[2] / "shared"
DATES = SHARED / "benchmark" / "dates"
ARTICLES = SHARED / "benchmark" / "article-extraction"


def response(body: bytes, url: str, date: str = "2024-01-01T00:00:00Z") -> SourceRecord:
    return SourceRecord(
        ref=RecordRef("pages.warc.gz", 0, len(body) + 500, "<urn:uuid:0000-dates>"),
        warc_type="response", url=url, warc_date=date, payload_digest=None,
        content_type="text/html; charset=utf-8", http_status=200, http_headers=(),
        warc_headers=(), body=body,
    )


@cache
def labels() -> dict[str, dict[str, str]]:
    return json.loads((DATES / "labels.json").read_text("utf-8"))


def dates_row(name: str, date: str = "2024-01-01T00:00:00Z") -> dict:
    body = gzip.decompress((DATES / "html" / f"{name}.html.gz").read_bytes())
    rec = response(body, labels()[name]["url"], date)
    ext = extract(rec, strict=True)
    assert isinstance(ext, Extracted), ext
    return make_row(rec, ext)


# -- parsing ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "day", "clock", "offset_minutes", "precision"),
    [
        ("2024-12-06T17:55:00+06:00", date(2024, 12, 6), time(17, 55), 360, "second"),
        ("2019-11-19T04:58:46.000Z", date(2019, 11, 19), time(4, 58, 46), 0, "second"),
        ("2023-11-06T18:19+01:00", date(2023, 11, 6), time(18, 19), 60, "minute"),
        ("2024-12-06T10:00:00+0530", date(2024, 12, 6), time(10, 0), 330, "second"),
        ("2024-03-10", date(2024, 3, 10), None, None, "day"),
        ("06 December, 2024, 05:55 pm", date(2024, 12, 6), time(17, 55), None, "minute"),
        ("Dec. 6, 2024 5:55 PM EST", date(2024, 12, 6), time(17, 55), -300, "minute"),
        ("November 19, 2019 at 10:30 am", date(2019, 11, 19), time(10, 30), None, "minute"),
        ("Fri, 06 Dec 2024 17:55:00 +0600", date(2024, 12, 6), time(17, 55), 360, "second"),
        ("Updated 2024-12-06 10:00 GMT+6", date(2024, 12, 6), time(10, 0), 360, "minute"),
        ("6th of June 2023", date(2023, 6, 6), None, None, "day"),
        ("12 March 2024, 12:30 IST", date(2024, 3, 12), time(12, 30), None, "minute"),
        # European forms: dotted numeric dates are day-first; month names in six languages.
        ("Veröffentlicht am 16.08.2019", date(2019, 8, 16), None, None, "day"),
        ("Stand: 07.11.2023, 07:30 Uhr", date(2023, 11, 7), time(7, 30), None, "minute"),
        ("Karlsruhe, (12.11.2021). Traditionell", date(2021, 11, 12), None, None, "day"),
        ("26. Jan 2022", date(2022, 1, 26), None, None, "day"),
        ("16. August 2019 um 10:15", date(2019, 8, 16), time(10, 15), None, "minute"),
        ("mardi 10 décembre 2019", date(2019, 12, 10), None, None, "day"),
        ("1er mars 2020", date(2020, 3, 1), None, None, "day"),
        ("segunda-feira, 22 de janeiro de 2018 às 0:13", date(2018, 1, 22), time(0, 13), None,
         "minute"),
        ("Pubblicato il: 30 Settembre 2020", date(2020, 9, 30), None, None, "day"),
    ],
)
def test_parse_date(text: str, day: date, clock: time | None, offset_minutes: int | None,
                    precision: str) -> None:
    p = parse_date(text)
    assert p is not None
    assert (p.day, p.clock, p.precision) == (day, clock, precision)
    expected = None if offset_minutes is None else timedelta(minutes=offset_minutes)
    assert p.offset == expected  # IST is ambiguous (India, Ireland, Israel): no offset


@pytest.mark.parametrize("text", ["", "hello", "2024-13-45", "31 February 2024", "12345-12-12",
                                  "v1.2.2019", "05/10/2018", "Mai 2020", "32.01.2020"])
def test_unparseable(text: str) -> None:
    assert parse_date(text) is None  # slashed dates are ambiguous: day-first or month-first


@pytest.mark.parametrize(
    ("before", "kind"),
    [("Veröffentlicht am", "published"), ("Erschienen am\n  ", "published"),
     ("Posted on", "published"), ("Publié le", "published"), ("Pubblicato il:", "published"),
     ("Last updated on", "modified"), ("Aktualisiert:", "modified"), ("mis à jour le", "modified"),
     ("Stand: ", "version"), ("Redaktion", None), ("Updated daily since", None)],
)
def test_label_kind(before: str, kind: str | None) -> None:
    assert label_kind(before) == kind


def test_url_date_and_http_date() -> None:
    assert url_date("https://x.example/2019/11/18/story/").day == date(2019, 11, 18)
    assert url_date("https://x.example/story/2019-11-19/slug").day == date(2019, 11, 19)
    assert url_date("https://x.example/home/2017/7/12/slug").day == date(2017, 7, 12)
    assert url_date("https://x.example/a/12345") is None
    # A month folder and a slug starting with a number: no day in this path.
    assert url_date("https://blog.campact.de/2023/10/3-fragen-an-tina-musil/") is None
    assert http_date("Tue, 19 Nov 2019 06:00:00 GMT") == "2019-11-19T06:00:00Z"
    assert http_date("Tue, 19 Nov 2019 08:00:00 +0200") == "2019-11-19T06:00:00Z"
    assert http_date("not a date") is None and http_date(None) is None


# -- time zones ------------------------------------------------------------------------------

def _cand(text: str, source: str = "json-ld", weak: bool = False) -> Candidate:
    parsed = parse_date(text)
    assert parsed is not None
    return Candidate(text, source, parsed, weak)


def test_site_zone_follows_daylight_saving() -> None:
    winter = resolve(_cand("2024-01-15T10:00:00"), "Europe/Paris")
    summer = resolve(_cand("2024-07-15T10:00:00"), "Europe/Paris")
    assert winter.iso() == "2024-01-15T10:00:00+01:00"
    assert summer.iso() == "2024-07-15T10:00:00+02:00"
    assert summer.detail["timezone"] == "Europe/Paris"
    assert summer.detail["timezone_source"] == "site-config"


def test_page_offset_beats_site_zone_and_sets_the_local_day() -> None:
    r = resolve(_cand("2024-12-06T23:30:00-05:00"), "Asia/Dhaka")
    assert r.iso() == "2024-12-06T23:30:00-05:00"
    assert r.day == date(2024, 12, 6)  # the page's own local day, not the UTC one (7th)
    assert r.detail["timezone"] == "-05:00" and r.detail["timezone_source"] == "page"


def test_utc_stamp_is_dated_in_the_site_zone() -> None:
    r = resolve(_cand("2024-12-06T20:00:00Z"), "Asia/Dhaka")
    assert r.iso() == "2024-12-06T20:00:00Z"
    assert r.day == date(2024, 12, 7)  # 02:00 in Dhaka
    assert resolve(_cand("2024-12-06T20:00:00Z"), None).day == date(2024, 12, 6)


def test_time_without_zone_gives_no_instant() -> None:
    r = resolve(_cand("2024-12-06 17:55"), None)
    assert r.instant is None and r.day == date(2024, 12, 6)
    assert r.detail["timezone"] is None and r.detail["timezone_source"] is None


# -- choosing --------------------------------------------------------------------------------

CAPTURE = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def test_dates_after_capture_are_dropped() -> None:
    chosen = choose([_cand("2024-06-02T00:00:00Z"), _cand("2024-05-01", "url")],
                    [_cand("2024-06-01T13:00:00Z")], CAPTURE, None)
    assert chosen.published is not None and chosen.published.detail["source"] == "url"
    assert chosen.modified is None


def test_latest_day_is_the_capture_day_where_the_publisher_is() -> None:
    assert latest_day(datetime(2024, 6, 1, 20, 0, tzinfo=UTC), "Asia/Tokyo") == date(2024, 6, 2)
    assert latest_day(datetime(2024, 6, 1, 20, 0, tzinfo=UTC), "America/New_York") == date(
        2024, 6, 1)
    assert latest_day(datetime(2024, 6, 1, 20, 0, tzinfo=UTC), None) == date(2024, 6, 2)


def test_a_guess_on_the_modified_day_is_not_reported_as_published() -> None:
    chosen = choose([_cand("2024-05-20", "htmldate", weak=True)],
                    [_cand("2024-05-20T09:00:00+02:00", "meta:article:modified_time")],
                    CAPTURE, None)
    assert chosen.published is None
    assert chosen.modified is not None and chosen.modified.day == date(2024, 5, 20)


def test_modification_before_publication_is_ignored() -> None:
    chosen = choose([_cand("2024-05-20T10:00:00Z")], [_cand("2024-05-19T10:00:00Z")],
                    CAPTURE, None)
    assert chosen.published is not None and chosen.modified is None


def test_placeholder_dates_are_ignored() -> None:
    chosen = choose([_cand("0001-01-01T00:00:00Z"), _cand("1970-01-01T00:00:00Z"),
                     _cand("2024-05-02", "htmldate", weak=True)], [], CAPTURE, None)
    assert chosen.published is not None and chosen.published.detail["source"] == "htmldate"


def test_structured_data_keeps_a_tie_with_the_visible_date() -> None:
    chosen = choose([_cand("2024-05-02T10:00:00+02:00"), _cand("2024-05-03", "visible-headline")],
                    [], CAPTURE, None)
    assert chosen.published is not None and chosen.published.detail["source"] == "json-ld"


def test_the_date_more_sources_agree_on_wins() -> None:
    """JSON-LD alone says the 2nd; the page shows the 3rd and a <meta> says the 3rd too."""
    chosen = choose([_cand("2024-05-02T10:00:00+02:00"), _cand("2024-05-03", "meta:dc.date"),
                     _cand("2024-05-03", "visible-label")], [], CAPTURE, None)
    assert chosen.published is not None
    assert chosen.published.detail["source"] == "visible-label"
    assert chosen.published.day == date(2024, 5, 3)


def test_an_earlier_url_date_is_the_original_publication() -> None:
    later = choose([_cand("2024-05-20T10:00:00Z"), _cand("2024-03-01", "url")], [], CAPTURE, None)
    assert later.published is not None and later.published.detail["source"] == "url"
    # A URL a day off is a time zone, and a later URL date says nothing about publication.
    near = choose([_cand("2024-05-20T23:00:00Z"), _cand("2024-05-21", "url")], [], CAPTURE, None)
    assert near.published is not None and near.published.detail["source"] == "json-ld"


# -- real pages ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("8ff3c2b4de34b0fe746f56f4dd4c846c8bff1926", "json-ld"),
        ("3c7cf7509d38b392fa03186df56b86e6bbd52ddb", "meta:article:published_time"),
        ("b63bb33e12d5fb1251a871be75b1783412e7d362", "microdata"),
        ("9c1703d265aae2953f5f0986658f841f5acc1e3c", "time-element"),
        ("2ca1dd5705a49ce7f1f432318ae672fe5b43a6a0", "htmldate"),
        ("789d6c00c80a17df9c939ad602671c2ba0a15ceb", "visible-headline"),
        ("e1cb755aaceaf22532e05578541386c2253aed5c", "visible-label"),
        ("9c25e06c8911e228f0a686cb9d556d361fa19c42", "dateline"),
    ],
)
def test_published_day_matches_label(name: str, source: str) -> None:
    row = dates_row(name)
    assert row["date_published_day"] == labels()[name]["published"]
    assert row["dates"]["published"]["source"] == source


def test_page_offset_is_kept() -> None:
    row = dates_row("3c7cf7509d38b392fa03186df56b86e6bbd52ddb")
    assert row["date_published"] == "2020-01-16T18:20:33+01:00"
    assert row["dates"]["published"]["timezone"] == "+01:00"


def test_structured_data_wins_over_htmldate() -> None:
    """JSON-LD says 2023-10-31 (the label); htmldate alone picks 2023-10-03 from the page."""
    from htmldate import find_date

    name = "2edc30e2249440f29c9a36fe1bdde3f5198ed8b7"
    html = gzip.decompress((DATES / "html" / f"{name}.html.gz").read_bytes()).decode()
    assert find_date(html, original_date=True, extensive_search=True,
                     url=labels()[name]["url"], max_date="2024-01-01") == "2023-10-03"
    row = dates_row(name)
    assert row["date_published_day"] == labels()[name]["published"] == "2023-10-31"
    assert row["dates"]["published"]["source"] == "json-ld"


def test_a_labelled_time_element_is_the_publication_and_the_update_stays_apart() -> None:
    """bmel.de: `<span>Erschienen am</span> <time datetime="2022-01-26">`; og:updated_time says
    the 27th, which is all htmldate finds. The label makes the <time> the publication."""
    from htmldate import find_date

    name = "d612c7759aab6fb76d2f9ebb3ccc1670dbe8c793"
    html = gzip.decompress((DATES / "html" / f"{name}.html.gz").read_bytes()).decode()
    guess = find_date(html, original_date=True, extensive_search=True,
                      url=labels()[name]["url"], max_date="2024-01-01")
    row = dates_row(name)
    assert guess == row["date_modified_day"] == "2022-01-27"
    assert row["dates"]["modified"]["source"] == "meta:og:updated_time"
    assert row["date_published_day"] == labels()[name]["published"] == "2022-01-26"
    assert row["dates"]["published"]["source"] == "time-element"


def test_a_visible_label_beats_htmldate_reading_a_comment_date() -> None:
    """"Veröffentlicht am 16.08.2019" under the episode; htmldate takes a comment's <time>."""
    name = "0531144f75b5c5cb4a18e453379fc8b956b00fea"
    row = dates_row(name)
    assert row["date_published_day"] == labels()[name]["published"] == "2019-08-16"
    assert row["dates"]["published"]["source"] == "visible-label"
    assert row["dates"]["published"]["raw"] == "16.08.2019"


def test_the_date_under_the_headline_beats_an_unlabelled_meta_date() -> None:
    """`<h2>#RieslingBirthday ...</h2> <span class="date">27.01.2022</span>`; <meta name="date">
    (what htmldate reads) is the 20 December draft."""
    name = "c0ea17650bb30dac50e38cb46982d415d9897c76"
    row = dates_row(name)
    assert row["date_published_day"] == labels()[name]["published"] == "2022-01-27"
    assert row["dates"]["published"]["source"] == "visible-headline"


def test_the_headline_is_found_above_where_the_article_starts() -> None:
    """The page declares only the site's name as title; "2021-10-16 | Botschaft" sits above the
    heading that opens the extracted article (htmldate reads a 2016 sidebar link)."""
    name = "b8b1b9bd9bb7425e17b17424346e8243f60cf4eb"
    row = dates_row(name)
    assert row["date_published_day"] == labels()[name]["published"] == "2021-10-16"
    assert row["dates"]["published"]["source"] == "visible-headline"


def test_hatom_updated_class_on_the_publication_date_is_not_an_update() -> None:
    """`<span class="entry-meta-date updated">5. November 2021</span>` under the headline: hAtom
    asks every entry for an "updated" date, so the class alone names no update."""
    name = "9a77679dd62c0d379309a1da4a6893de3e110e36"
    row = dates_row(name)
    assert row["date_published_day"] == labels()[name]["published"] == "2021-11-05"


def test_structured_date_later_than_the_url_date_is_a_republication() -> None:
    """JSON-LD, microdata and <time pubdate> all say 2019-06-17; the address, minted when the
    article first appeared, says 2017/7/12 (the labelled publication)."""
    name = "f852efb0d0b2a7fa52707a97ffe317529f5e6a0c"
    row = dates_row(name)
    assert row["date_published_day"] == labels()[name]["published"] == "2017-07-12"
    assert row["dates"]["published"]["source"] == "url"
    assert row["date_published"] is None  # a day, not an instant


def test_visible_date_agreeing_with_a_second_source_beats_json_ld() -> None:
    """JSON-LD datePublished says 2023-11-06 18:19; the page shows "Stand: 07.11.2023, 07:30
    Uhr" under the headline and DC.Date says 2023-11-07 07:30: two sources against one."""
    name = "da70a68dc9daa7096f89576984e1509ceaaaed87"
    row = dates_row(name)
    assert row["date_published_day"] == labels()[name]["published"] == "2023-11-07"
    assert row["dates"]["published"]["source"].startswith("visible-")
    assert row["date_modified"] == "2023-11-07T10:14:00+01:00"  # JSON-LD dateModified


def test_a_date_labelled_as_an_update_is_never_the_publication() -> None:
    """"Aktualisiert: 11.04.2020" is what the page shows under its headline (and what the
    benchmark labels); JSON-LD and "Erstellt" say 3 April. The update stays an update."""
    name = "a380c7c9dcc8847b047ce5b98c763de70e68fe61"
    row = dates_row(name)
    assert row["date_published_day"] == "2020-04-03"
    assert row["date_modified_day"] == labels()[name]["published"] == "2020-04-11"


def test_a_page_dated_only_by_its_url() -> None:
    """An archived blog post with no date in its markup or text: the URL's /2013/08/07/."""
    name = "2cf4b812a7cd7f64e8b0c991ecbbff5f732d25ad"
    row = dates_row(name)
    assert row["date_published_day"] == labels()[name]["published"] == "2013-08-07"
    assert row["dates"]["published"]["source"] == "url"
    assert row["date_modified_day"] is None


def test_a_real_page_with_only_a_modified_date() -> None:
    """vortexcannon.org shows one date, in `<li class="modified-date"><time class="updated">`:
    it is reported as modified and the page gets no published date (htmldate would take it)."""
    from htmldate import find_date

    page = "95301fb7883e0ee5214d1111554d30dd97e08c6380d7699369c0b9c15f42e6aa"
    body = gzip.decompress((ARTICLES / "html" / f"{page}.html.gz").read_bytes())
    url = json.loads((ARTICLES / "ground-truth.json").read_text("utf-8"))[page]["url"]
    assert find_date(body.decode(), original_date=True, url=url,
                     max_date="2020-02-01") == "2018-08-13"
    row = make_row(rec := response(body, url, "2020-02-01T00:00:00Z"), extract(rec, strict=True))
    assert row["date_modified"] == "2018-08-13T08:04:08Z"
    assert row["dates"]["modified"]["source"] == "time-element"
    assert row["date_published"] is None and row["date_published_day"] is None


ONLY_MODIFIED = b"""<!doctype html><html lang="en"><head><title>Ferry timetable</title>
<meta property="article:modified_time" content="2024-03-05T10:00:00+01:00">
<meta property="og:updated_time" content="2024-03-05T10:00:00+01:00">
</head><body><article><h1>Ferry timetable</h1><p class="updated">Updated on March 5, 2024</p>
<p>The winter timetable for the island ferries has changed: boats now leave the harbour every
ninety minutes from seven in the morning until nine at night, weather permitting.</p>
<p>Tickets bought for the old timetable remain valid for any crossing on the same day, and the
ticket office on the quay keeps its usual opening hours throughout the season.</p>
</article></body></html>"""


def test_page_with_only_a_modified_date() -> None:
    rec = response(ONLY_MODIFIED, "https://ferries.example/timetable", "2024-04-01T00:00:00Z")
    row = make_row(rec, extract(rec, strict=True))
    assert row["date_published"] is None and row["date_published_day"] is None
    assert row["dates"]["published"]["source"] is None
    assert row["date_modified"] == "2024-03-05T10:00:00+01:00"


def test_capture_date_bounds_every_source() -> None:
    """Captured a week before the page's stated publication: no source may report it."""
    name = "3c7cf7509d38b392fa03186df56b86e6bbd52ddb"
    early = dates_row(name, date="2020-01-09T00:00:00Z")
    assert early["date_published_day"] is None or early["date_published_day"] <= "2020-01-09"
    assert early["dates"]["published"]["source"] != "meta:article:published_time"
    assert dates_row(name)["date_published_day"] == "2020-01-16"


def test_capture_bound_on_an_article_page() -> None:
    ids = json.loads((ARTICLES / "ground-truth.json").read_text("utf-8"))
    page = "1ace8c85aaee21b9d4505eca506d50c4721c29db62848b567a9703bfe0583892"
    body = gzip.decompress((ARTICLES / "html" / f"{page}.html.gz").read_bytes())
    url = ids[page]["url"]
    # JSON-LD: 2019-11-19T04:58:46Z; <meta name="sailthru.date" content="2019-11-18 20:58:46">
    on_time = make_row(rec := response(body, url, "2019-11-20T00:00:00Z"), extract(rec))
    assert on_time["date_published"] == "2019-11-19T04:58:46Z"
    early = make_row(rec := response(body, url, "2019-11-19T04:00:00Z"), extract(rec))
    assert early["date_published"] is None  # the instant is 58 minutes after the capture
    # A local time with no zone may be earlier than the capture: its day is kept, no instant.
    assert early["date_published_day"] == "2019-11-18"
    assert early["dates"]["published"]["source"] == "meta:sailthru.date"


def test_site_config_zone_on_a_real_page_without_offsets() -> None:
    """This page writes its JSON-LD time with no offset; the site config supplies the zone."""
    name = "40f4743c7e89982867d4b28fe514c0b0d8e7c5a1"
    body = gzip.decompress((DATES / "html" / f"{name}.html.gz").read_bytes())
    rec = response(body, labels()[name]["url"])
    plain = make_row(rec, extract(rec, SiteConfig(), strict=True))
    assert plain["date_published"] is None
    zoned = make_row(rec, extract(
        rec, SiteConfig.parse('[sites."faz.net"]\ntimezone = "Europe/Berlin"\n'), strict=True))
    assert zoned["date_published_day"] == plain["date_published_day"] == "2020-01-28"
    assert zoned["date_published"].endswith("+01:00")
    assert zoned["dates"]["published"]["timezone_source"] == "site-config"
