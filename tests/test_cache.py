"""The result cache: a rebuild after new captures extracts only the new records and gives the same
bytes as a fresh build; every input of a row is in a record's key; what the store adds can change
a revisit's row, and the cache sees it; outcomes that may not repeat are never kept."""

from __future__ import annotations

import io
import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from store_helpers import benchmark_pages, tree, write_warc
from typer.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

import warcpack.cache
import warcpack.extract
from warcpack.build import build
from warcpack.cache import CACHE_DIR, CACHE_FILE, ResultCache, record_key
from warcpack.cli import app
from warcpack.record import SourceRecord
from warcpack.row import Skip
from warcpack.store import Store
from warcpack.store.ingest import ingest

PAGES = benchmark_pages(5)


pytestmark = pytest.mark.usefixtures("offline_hf")


def pages_warc(path: Path, names: list[str], day: int) -> Path:
    write_warc(path, [{"url": f"https://news.example.org/{name}", "date": f"2024-05-{day:02d}"
                       "T08:00:00Z", "body": PAGES[name]} for name in names])
    return path


@pytest.fixture
def store(tmp_path) -> Path:
    names = sorted(PAGES)
    ingest([pages_warc(tmp_path / "a.warc.gz", names[:3], 1)], tmp_path / "store")
    return tmp_path / "store"


def test_rebuild_after_new_captures_extracts_only_them_and_matches_a_fresh_build(store, tmp_path):
    first = build(store, tmp_path / "out", workers=1, unit_records=2, progress=False)
    assert first.records_extracted == 3 and first.units_cached == 0
    assert (store / CACHE_DIR / CACHE_FILE).is_file()  # beside the store, by default
    again = build(store, tmp_path / "out", workers=1, unit_records=2, progress=False)
    assert again.records_extracted == 0 and again.units_cached == again.units == 2

    names = sorted(PAGES)
    ingest([pages_warc(tmp_path / "b.warc.gz", names[3:], 2)], store)
    grown = build(store, tmp_path / "out", workers=2, unit_records=2, progress=False)
    assert grown.records_extracted == 2 and grown.units_cached == 2 and grown.rows_written == 5
    fresh = build(store, tmp_path / "fresh", workers=1, unit_records=2, progress=False,
                  use_cache=False)
    assert fresh.records_extracted == 5
    assert tree(tmp_path / "out") == tree(tmp_path / "fresh")
    assert not (tmp_path / "fresh" / ".tmp-build").exists()  # the private cache went with it


def test_units_cut_differently_still_reuse_every_record(store, tmp_path):
    build(store, tmp_path / "one", workers=1, unit_records=1, progress=False)
    other = build(store, tmp_path / "two", workers=1, unit_records=50, progress=False)
    assert other.units_cached == 0 and other.records_extracted == 0
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_every_input_of_a_row_is_in_the_record_key(store):
    rec = next(r for r in Store.open(store).iter_records() if isinstance(r, SourceRecord))
    fp = warcpack.cache.fingerprint()
    key = record_key(fp, rec)
    assert record_key(fp, replace(rec)) == key  # the same record, the same key
    headers = (*rec.http_headers, ("Last-Modified", "Tue, 07 May 2024 10:00:00 GMT"))
    variants = [
        replace(rec, body=rec.body + b" "),
        replace(rec, url=rec.url + "?page=2"),
        replace(rec, warc_date="2030-01-01T00:00:00Z"),
        replace(rec, http_headers=headers),
        replace(rec, content_type="text/html; charset=windows-1251"),
        replace(rec, http_status=404),
        replace(rec, hints={"publisher": "Someone"}),
        replace(rec, ref=replace(rec.ref, offset=rec.ref.offset + 1)),
    ]
    keys = {record_key(fp, v) for v in variants}
    assert key not in keys and len(keys) == len(variants)
    assert record_key("another extractor", rec) != key


def test_another_extractor_fingerprint_reuses_nothing_and_prunes_the_old(store, tmp_path,
                                                                         monkeypatch):
    build(store, tmp_path / "out", workers=1, progress=False)
    real = warcpack.cache.fingerprint_parts
    monkeypatch.setattr(warcpack.cache, "fingerprint_parts",
                        lambda *limits: {**real(*limits), "site_config_sha256": "edited"})
    changed = build(store, tmp_path / "out", workers=1, progress=False)
    assert changed.records_extracted == 3 and changed.units_cached == 0
    cache = ResultCache(store / CACHE_DIR / CACHE_FILE)
    assert cache.counts() == (1, 3)  # the first build's entries are gone
    cache.close()


def test_a_grown_store_can_resolve_a_revisit_and_the_cache_sees_it(tmp_path):
    """A revisit ingested before its original: unresolved at first, resolved once the original
    arrives in a newer file, though the revisit's own file did not change."""
    name = sorted(PAGES)[0]
    url = "https://news.example.org/late-original"
    original_buf = io.BytesIO()
    writer = WARCWriter(original_buf, gzip=True)
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                            protocol="HTTP/1.1")
    original = writer.create_warc_record(url, "response", payload=io.BytesIO(PAGES[name]),
                                         http_headers=http,
                                         warc_headers_dict={"WARC-Date": "2024-05-01T08:00:00Z"})
    writer.write_record(original)
    headers = original.rec_headers
    with (tmp_path / "revisit.warc.gz").open("wb") as fh:
        rewriter = WARCWriter(fh, gzip=True)
        rewriter.write_record(rewriter.create_revisit_record(
            url, headers.get_header("WARC-Payload-Digest"), url, "2024-05-01T08:00:00Z",
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                          protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": "2024-05-03T08:00:00Z",
                               "WARC-Refers-To": headers.get_header("WARC-Record-ID")}))
    (tmp_path / "original.warc.gz").write_bytes(original_buf.getvalue())
    store = tmp_path / "store"
    ingest([tmp_path / "revisit.warc.gz"], store)
    before = build(store, tmp_path / "out", workers=1, progress=False)
    assert before.rows_written == 0 and before.skipped_by_reason["revisit-unresolved"] == 1

    ingest([tmp_path / "original.warc.gz"], store)
    after = build(store, tmp_path / "out", workers=1, progress=False)
    assert after.rows_written == 1 and not after.skipped_by_reason
    [row] = [json.loads(line) for line in
             (tmp_path / "out/data/text/train-00000-of-00001.jsonl").read_text().splitlines()]
    assert row["captures"] == 2 and row["date_last_captured"] == "2024-05-03T08:00:00Z"
    build(store, tmp_path / "fresh", workers=1, progress=False, use_cache=False)
    assert tree(tmp_path / "out") == tree(tmp_path / "fresh")


def test_an_extractor_error_is_not_kept_and_the_next_build_retries(store, tmp_path, monkeypatch):
    real = warcpack.extract.extract
    victim = f"https://news.example.org/{sorted(PAGES)[1]}"

    def flaky(rec, sites=None, **settings):
        if rec.url == victim:
            return Skip("extract-error", "MemoryError: ")
        return real(rec, sites, **settings)

    same = warcpack.cache.fingerprint_parts()  # as if the failure came from the real extractor
    monkeypatch.setattr(warcpack.cache, "fingerprint_parts", lambda *limits: same)
    monkeypatch.setattr(warcpack.extract, "extract", flaky)
    failed = build(store, tmp_path / "out", workers=1, progress=False)
    assert failed.skipped_by_reason["extract-error"] == 1 and failed.rows_written == 2
    monkeypatch.setattr(warcpack.extract, "extract", real)
    retried = build(store, tmp_path / "out", workers=1, progress=False)
    assert retried.rows_written == 3 and not retried.skipped_by_reason
    assert retried.records_extracted == 1  # the two good pages came from the cache


def test_an_unreadable_cache_is_started_afresh(store, tmp_path):
    build(store, tmp_path / "out", workers=1, progress=False)
    path = store / CACHE_DIR / CACHE_FILE
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    summary = build(store, tmp_path / "again", workers=1, progress=False)
    assert summary.records_extracted == 3
    assert tree(tmp_path / "out") == tree(tmp_path / "again")
    assert sqlite3.connect(path).execute("SELECT count(*) FROM records").fetchone() == (3,)


def test_cli_cache_folder_and_no_cache(store, tmp_path):
    runner = CliRunner()
    elsewhere = tmp_path / "my-cache"
    result = runner.invoke(app, ["build", "--store", str(store), "--out", str(tmp_path / "a"),
                                 "--workers", "1", "--no-progress", "--cache", str(elsewhere)])
    assert result.exit_code == 0, result.output
    assert (elsewhere / CACHE_FILE).is_file() and not (store / CACHE_DIR).exists()
    result = runner.invoke(app, ["build", "--store", str(store), "--out", str(tmp_path / "b"),
                                 "--workers", "1", "--no-progress", "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "0 done before, 3 records extracted" in " ".join(result.output.split())
    assert not (store / CACHE_DIR).exists()
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_the_cards_features_are_derived_once_and_a_failure_reaches_the_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deriving the card's features imports `datasets`, so it runs on a thread while the workers
    do; the cache keeps the result, and an error in that thread is the build's error, not a
    hang or a card without features."""
    from warcpack.build import card_features
    from warcpack.write import features

    cache = ResultCache(tmp_path / "a.sqlite")
    derived = card_features(cache)()
    assert derived == {c: features.features_yaml(c) for c in features.CONFIGS}
    assert {f["name"] for f in derived["text"]} >= {"text", "url", "provenance"}

    def broken(config: str) -> list[dict[str, object]]:
        raise RuntimeError(f"cannot derive {config}")

    monkeypatch.setattr(features, "features_yaml", broken)
    assert card_features(cache)() == derived  # kept: nothing derived again
    cache.close()
    with pytest.raises(RuntimeError, match="cannot derive"):
        card_features(ResultCache(tmp_path / "b.sqlite"))()
