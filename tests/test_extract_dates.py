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
    ],
)
def test_parse_date(text: str, day: date, clock: time | None, offset_minutes: int | None,
                    precision: str) -> None:
    p = parse_date(text)
    assert p is not None
    assert (p.day, p.clock, p.precision) == (day, clock, precision)
    expected = None if offset_minutes is None else timedelta(minutes=offset_minutes)
    assert p.offset == expected  # IST is ambiguous (India, Ireland, Israel): no offset


@pytest.mark.parametrize("text", ["", "hello", "2024-13-45", "31 February 2024", "12345-12-12"])
def test_unparseable(text: str) -> None:
    assert parse_date(text) is None


def test_url_date_and_http_date() -> None:
    assert url_date("https://x.example/2019/11/18/story/").day == date(2019, 11, 18)
    assert url_date("https://x.example/story/2019-11-19/slug").day == date(2019, 11, 19)
    assert url_date("https://x.example/a/12345") is None
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


# -- real pages ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("8ff3c2b4de34b0fe746f56f4dd4c846c8bff1926", "json-ld"),
        ("3c7cf7509d38b392fa03186df56b86e6bbd52ddb", "meta:article:published_time"),
        ("b63bb33e12d5fb1251a871be75b1783412e7d362", "microdata"),
        ("9c1703d265aae2953f5f0986658f841f5acc1e3c", "time-element"),
        ("789d6c00c80a17df9c939ad602671c2ba0a15ceb", "htmldate"),
        ("e1cb755aaceaf22532e05578541386c2253aed5c", "htmldate"),
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


def test_modified_date_is_never_reported_as_published() -> None:
    """On this page htmldate's only guess is the og:updated_time: no published date at all."""
    from htmldate import find_date

    name = "d612c7759aab6fb76d2f9ebb3ccc1670dbe8c793"
    html = gzip.decompress((DATES / "html" / f"{name}.html.gz").read_bytes()).decode()
    guess = find_date(html, original_date=True, extensive_search=True,
                      url=labels()[name]["url"], max_date="2024-01-01")
    row = dates_row(name)
    assert row["date_modified_day"] == guess == "2022-01-27"
    assert row["dates"]["modified"]["source"] == "meta:og:updated_time"
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
