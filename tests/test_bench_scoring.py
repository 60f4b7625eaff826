"""The benchmark scripts' scoring (hand-checked against the benchmarks' rules) and their path from
benchmark pages to built rows: a real WARC written by warcio, a real store, the real build."""

from __future__ import annotations

import json
import math
import sys
from datetime import date
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import bench_dates  # noqa: E402
import bench_extraction  # noqa: E402
from benchlib import (  # noqa: E402
    DEFAULT_SHARED,
    BenchPage,
    aggregate,
    bootstrap_sd,
    build_pages,
    decode_html,
    match_page,
    resamples,
    score_dates,
    score_texts,
    shingles,
    tokens,
    write_warc,
)

SEVEN = "one two three four five six seven"  # 4 shingles: 1-4, 2-5, 3-6, 4-7


# --- shingles and one page -----------------------------------------------------------------------


def test_tokens_keep_case_and_unicode_words_and_drop_punctuation():
    assert tokens("Ça va? Très bien -- the_end, 2019!") == ["Ça", "va", "Très", "bien", "the_end",
                                                          "2019"]
    assert tokens(None) == tokens("") == []


def test_shingles_are_a_multiset_of_four_token_runs():
    assert shingles(SEVEN) == {
        ("one", "two", "three", "four"): 1, ("two", "three", "four", "five"): 1,
        ("three", "four", "five", "six"): 1, ("four", "five", "six", "seven"): 1,
    }
    assert shingles("a b c d a b c d a") == {("a", "b", "c", "d"): 2, ("b", "c", "d", "a"): 2,
                                            ("c", "d", "a", "b"): 1, ("d", "a", "b", "c"): 1}


def test_fewer_than_four_tokens_give_one_shorter_shingle_and_none_give_none():
    assert shingles("Hello, world!") == {("Hello", "world"): 1}
    assert shingles("  ...  ") == {}
    same = match_page("Hello, world!", "Hello world")
    assert (same.precision, same.recall, same.f1, same.exact) == (1.0, 1.0, 1.0, True)
    swapped = match_page("Hello, world!", "world Hello")
    assert (swapped.precision, swapped.recall, swapped.exact) == (0.0, 0.0, False)


def test_identical_texts_score_one_even_with_other_punctuation_and_spacing():
    page = match_page(SEVEN, "one two,\n\nthree (four) five; six seven.")
    assert (page.tp, page.fp, page.fn) == (1.0, 0.0, 0.0)
    assert (page.precision, page.recall, page.f1, page.exact) == (1.0, 1.0, 1.0, True)


def test_disjoint_texts_score_zero():
    page = match_page(SEVEN, "eight nine ten eleven twelve")
    assert page.tp == 0.0 and page.fp + page.fn == pytest.approx(1.0)
    assert (page.precision, page.recall, page.f1, page.exact) == (0.0, 0.0, 0.0, False)


def test_half_the_shingles_gives_full_precision_half_recall():
    page = match_page(SEVEN, "one two three four five")  # 2 of the 4 true shingles, nothing else
    assert (page.tp, page.fp, page.fn) == (0.5, 0.0, 0.5)  # normalised: 2, 0, 2 out of 4
    assert (page.precision, page.recall) == (1.0, 0.5)
    assert page.f1 == pytest.approx(2 / 3)
    assert not page.exact


def test_repeated_text_is_counted_as_many_times_as_it_appears():
    page = match_page(SEVEN, f"{SEVEN} {SEVEN}")  # 8 true-looking shingles + 3 across the seam
    assert page.tp == pytest.approx(4 / 11) and page.fp == pytest.approx(7 / 11)
    assert page.recall == 1.0 and page.precision == pytest.approx(4 / 11)


def test_an_empty_prediction_has_no_precision_and_zero_recall():
    page = match_page(SEVEN, None)
    assert (page.tp, page.fp, page.fn) == (0.0, 0.0, 1.0)
    assert page.precision is None and page.recall == 0.0 and page.f1 == 0.0
    both_empty = match_page("", "")
    assert both_empty.precision is None and both_empty.recall is None and both_empty.exact


# --- pages together ------------------------------------------------------------------------------


def test_f1_is_that_of_the_averages_and_empty_predictions_leave_precision_alone():
    pages = [match_page(SEVEN, SEVEN), match_page(SEVEN, "one two three four five"),
             match_page(SEVEN, None)]
    figures = aggregate(pages)
    assert figures["precision"] == 1.0  # the empty prediction is not averaged in
    assert figures["recall"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert figures["f1"] == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert figures["f1"] != pytest.approx(sum(p.f1 for p in pages) / 3)  # not a mean of page F1
    assert figures["accuracy"] == pytest.approx(1 / 3)


def test_score_texts_scores_every_page_and_refuses_missing_predictions():
    samples = resamples(2, n=50)
    scores, pages = score_texts([SEVEN, SEVEN], [SEVEN, None], samples)
    assert scores.pages == 2 and [p.recall for p in pages] == [1.0, 0.0]
    assert scores.figures["recall"] == 0.5 and scores.sd["recall"] > 0
    assert scores.sd["precision"] == 0.0  # every resample averages the same one page
    with pytest.raises(ValueError):
        score_texts([SEVEN, SEVEN], [SEVEN], samples)


def test_bootstrap_resamples_are_fixed_and_the_same_for_every_system():
    first, again = resamples(121), resamples(121)
    assert first == again and len(first) == 1000
    assert all(len(s) == 121 and 0 <= min(s) and max(s) < 121 for s in first)
    assert len({tuple(s) for s in first}) == 1000
    same = [match_page(SEVEN, SEVEN)] * 5
    assert bootstrap_sd(same, aggregate, resamples(5, n=20)) == {
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "accuracy": 0.0}


def test_a_system_that_predicts_nothing_has_no_precision_and_zero_recall():
    scores, _ = score_texts([SEVEN, SEVEN], [None, ""], resamples(2, n=20))
    assert math.isnan(scores.figures["precision"]) and math.isnan(scores.sd["precision"])
    assert scores.figures["recall"] == 0.0 and scores.figures["accuracy"] == 0.0


# --- dates ---------------------------------------------------------------------------------------


def test_dates_count_only_the_exact_day_and_none_as_a_miss():
    labels = ["2020-01-01", "2020-01-01", "2020-01-01", "2021-06-30"]
    found = ["2020-01-01", None, "2020-01-02", "2021-06-30"]
    scores, outcomes = score_dates(labels, found, resamples(4, n=50))
    assert outcomes == ["tp", "fn", "fp", "tp"]
    f = scores.figures
    assert (f["tp"], f["fp"], f["fn"]) == (2, 1, 1)
    assert f["accuracy"] == 0.5
    assert f["precision"] == pytest.approx(2 / 3) and f["recall"] == pytest.approx(2 / 3)


def test_capture_day_is_after_every_label_in_every_time_zone():
    assert bench_dates.capture_day(["2019-08-16", "2023-11-09", "2009-08-06"]) == \
        date(2023, 11, 11)


def test_pages_are_decoded_as_utf8_else_by_their_detected_charset():
    text = "Сегодня в городе прошёл большой праздник, на который пришли тысячи жителей. " * 5
    assert decode_html(text.encode("utf-8")) == text
    assert decode_html(text.encode("cp1251")) == text


# --- benchmark pages through the WARC, the store and the build -----------------------------------


def test_benchmark_pages_become_rows_with_their_urls(tmp_path):
    pages, truths = bench_extraction.load(DEFAULT_SHARED)
    chosen = [*pages[:3], BenchPage("empty", "https://example.org/empty", b"")]
    warc_date = bench_extraction.WARC_DATE

    write_warc(tmp_path / "alone.warc.gz", chosen, warc_date)
    with (tmp_path / "alone.warc.gz").open("rb") as fh:
        records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"),
                    r.rec_headers.get_header("WARC-Date"), r.http_headers.get_statuscode(),
                    r.http_headers.get_header("Content-Type"), r.content_stream().read())
                   for r in ArchiveIterator(fh)]
    assert records == [("response", p.url, warc_date, "200", "text/html; charset=utf-8", p.html)
                       for p in chosen]

    run = build_pages(chosen, tmp_path / "work", warc_date=warc_date, workers=1)
    assert sorted(run.rows) == sorted(p.url for p in pages[:3])
    assert list(run.skips) == ["https://example.org/empty"]
    assert run.skips["https://example.org/empty"].startswith("empty")
    for page in pages[:3]:
        assert run.rows[page.url]["date_captured"] == warc_date
    scores, per_page = score_texts(truths[:3], [run.rows[p.url]["text"] for p in pages[:3]],
                                   resamples(3, n=20))
    assert all(p.recall and p.recall > 0.5 for p in per_page)  # the article text, not the chrome
    summary = json.loads((tmp_path / "work" / "corpus" / "build-summary.json").read_text("utf-8"))
    assert summary["rows_written"] == 3

    with pytest.raises(SystemExit, match="not empty"):
        build_pages(chosen, tmp_path / "work", warc_date=warc_date, workers=1)
