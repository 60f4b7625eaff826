"""Damage tolerance: a seeded subset of the fault campaign (scripts/fault_campaign.py) run over
the reader, ingest, verify, the index and the build.

Every damaged record is reported with its file and an offset inside it, and every intact
record comes through exactly as it does from the clean file.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from warcpack.record import SkippedRecord, SourceRecord
from warcpack.store import Store
from warcpack.store.ingest import IngestError, ingest
from warcpack.store.verify import verify

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import fault_campaign as fc  # noqa: E402

SEED = 11
PER_KIND = 4


@pytest.fixture(scope="module")
def pages() -> list[tuple[str, bytes]]:
    return fc.load_pages()


def read_store(store: Path) -> tuple[dict[str, SourceRecord], list[SkippedRecord]]:
    records: dict[str, SourceRecord] = {}
    skipped: list[SkippedRecord] = []
    for item in Store.open(store).iter_records():
        if isinstance(item, SourceRecord):
            assert item.ref.record_id not in records
            records[item.ref.record_id] = item
        else:
            skipped.append(item)
    return records, skipped


def case_files(tmp_path: Path, pages, kind: str, index: int):
    case, clean, data = fc.make_case(SEED, index, pages, kind)
    (tmp_path / "clean").mkdir(exist_ok=True)
    (tmp_path / "damaged").mkdir(exist_ok=True)
    clean_path = tmp_path / "clean" / case.clean_name
    damaged_path = tmp_path / "damaged" / case.damaged_name
    clean_path.write_bytes(clean)
    damaged_path.write_bytes(data)
    return case, clean_path, damaged_path


@pytest.mark.parametrize("kind", list(fc.MUTATIONS))
def test_reader_over_each_mutation(tmp_path: Path, pages, kind: str) -> None:
    for index in range(PER_KIND):
        work = tmp_path / str(index)
        work.mkdir()
        case, clean_path, damaged_path = case_files(work, pages, kind, index)
        ingest([clean_path], work / "clean-store")
        clean_records, clean_skips = read_store(work / "clean-store")
        assert not [s for s in clean_skips if s.reason == "damaged"]
        clean_skip_at = {s.offset: s.reason for s in clean_skips}
        try:
            ingest([damaged_path], work / "store", accept_damaged=True)
        except IngestError as exc:  # no readable record at all: refused, with its reasons
            assert str(damaged_path) in str(exc)
            assert not any(case.spans[k] and k not in case.damaged
                           for k, r in enumerate(case.records) if r.kind == "page")
            continue
        records, skipped = read_store(work / "store")
        where = [(s.offset, s.reason) for s in skipped]
        for k, rec in enumerate(case.records):
            span = case.spans[k]
            if span is None:
                assert rec.record_id not in records
                continue
            inside = [reason for offset, reason in where if span[0] <= offset < span[1]]
            clean_rec = clean_records.get(rec.record_id)
            got = records.get(rec.record_id)
            if k not in case.damaged:
                if clean_rec is not None:
                    assert got is not None, (kind, index, k, where)
                    assert (got.body, got.url, got.warc_date, got.http_headers) == (
                        clean_rec.body, clean_rec.url, clean_rec.warc_date,
                        clean_rec.http_headers)
                else:
                    assert got is None
                    expected = clean_skip_at.get(case.clean_spans[k][0])
                    if expected:
                        assert expected in inside
                assert "damaged" not in inside or case.mutation == "one-stream"
            elif got is not None:  # damage no reader can see must change nothing
                assert clean_rec is not None and got.body == clean_rec.body
            else:
                assert inside, (kind, index, k, rec.kind, where, span)
        assert verify(work / "store").ok == (not skipped or all(
            s.reason == "unknown-type" for s in skipped))


def test_a_file_gzipped_as_one_stream_reads_whole(tmp_path: Path, pages) -> None:
    case, _, damaged_path = case_files(tmp_path, pages, "one-stream", 5)
    report = ingest([damaged_path], tmp_path / "store")
    assert report.problems == []
    st = Store.open(tmp_path / "store")
    size = damaged_path.stat().st_size
    got = [r for r in st.iter_records() if isinstance(r, SourceRecord)]
    pages_in = [r.record_id for r in case.records if r.kind == "page"]
    assert [r.ref.record_id for r in got] == pages_in
    assert {(r.ref.offset, r.ref.length) for r in got} == {(0, size)}
    entries = [e for e in st.index_entries() if e.record_type == "response"]
    assert len(entries) == len(pages_in)
    assert {(e.offset, e.length) for e in entries} == {(0, size)}
    assert verify(st).ok


def test_encoded_bodies_are_kept_raw_and_decoded_for_extraction(tmp_path: Path, pages) -> None:
    encodings: Counter[str] = Counter()
    for index in range(12):
        work = tmp_path / str(index)
        work.mkdir()
        case, clean_path, _ = case_files(work, pages, "none", index)
        ingest([clean_path], work / "store")
        stored = (work / "store" / case.clean_name).read_bytes()
        assert stored == clean_path.read_bytes()  # the store keeps the bytes as they came
        records, _ = read_store(work / "store")
        html = {url: body for url, body in pages}
        for rec in case.records:
            if rec.kind != "page":
                continue
            encodings[rec.detail] += 1
            got = records[rec.record_id]
            assert got.body == html[got.url.rsplit("?fault=", 1)[0].rsplit("&fault=", 1)[0]]
    assert set(encodings) == set(fc.ENCODINGS)


def test_junk_between_records_is_reported_where_it_is(tmp_path: Path, pages) -> None:
    for index in range(6):
        work = tmp_path / str(index)
        work.mkdir()
        case, _, damaged_path = case_files(work, pages, "junk", index)
        ingest([damaged_path], work / "store", accept_damaged=True)
        records, skipped = read_store(work / "store")
        gaps = [(a[1], b[0]) for a, b in zip(case.spans, case.spans[1:], strict=False)
                if a and b and a[1] < b[0]]
        gaps += [(case.spans[-1][1], damaged_path.stat().st_size)] if case.spans[-1][
            1] < damaged_path.stat().st_size else []
        damaged = [s for s in skipped if s.reason == "damaged"]
        assert damaged and all(any(a <= s.offset < b for a, b in gaps) for s in damaged)
        pages_in = {r.record_id for r in case.records if r.kind == "page"}
        assert pages_in <= set(records)


def test_campaign_subset_through_the_build(tmp_path: Path, pages, monkeypatch) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    kinds = list(fc.MUTATIONS)
    fig = fc.run_campaign(SEED, len(kinds), tmp_path, workers=2, pages=pages, mutations=kinds)
    assert fig.lost == 0, fig.losses
    assert fig.false_reports == 0
    assert fig.recovered == fig.intact > 0
    assert fig.reported + fig.harmless == fig.damaged and fig.reported > 0
    assert fig.refused_files >= 1  # the empty file
    assert set(fig.mutations) == set(kinds)
    assert fig.damaged_build_skips.get("damaged", 0) >= fig.reported - fig.refused_files


def test_the_generator_is_reproducible(pages) -> None:
    first = fc.make_case(5, 3, pages)
    again = fc.make_case(5, 3, pages)
    assert first[1:] == again[1:] and first[0] == again[0]
    other = fc.make_case(6, 3, pages)
    assert other[2] != first[2]
