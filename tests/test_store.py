"""The store core: transactions, lookups, and records read back decoded, resolved, or skipped."""

from __future__ import annotations

import gzip
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from store_helpers import benchmark_pages, store_state, write_warc
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from warcpack.record import SkippedRecord, SourceRecord
from warcpack.store import Store, StoreError
from warcpack.store.ingest import ingest


@pytest.fixture(scope="module")
def page() -> bytes:
    return next(iter(benchmark_pages(1).values()))


def _chunked(data: bytes, size: int = 3000) -> bytes:
    return b"".join(
        b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size])
        for i in range(0, len(data), size)
    ) + b"0\r\n\r\n"


def _response(writer: WARCWriter, url: str, date: str, raw_http: bytes, extra=None):
    record = writer.create_warc_record(
        url, "response", payload=BytesIO(raw_http), length=len(raw_http),
        warc_headers_dict={"WARC-Date": date, **(extra or {})},
    )
    writer.write_record(record)
    return record


def test_chunked_gzip_response_is_decoded(tmp_path: Path, page: bytes) -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
        + _chunked(gzip.compress(page, mtime=0))
    )
    deflated = zlib.compress(page)
    raw_deflate = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: deflate\r\n"
        b"Content-Length: %d\r\n\r\n" % len(deflated) + deflated
    )
    source = tmp_path / "encoded.warc.gz"
    with open(source, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        _response(writer, "https://example.com/a", "2024-03-01T12:00:00Z", raw)
        _response(writer, "https://example.com/b", "2024-03-01T12:00:01Z", raw_deflate)
    assert page not in source.read_bytes() and b"\x1f\x8b" in gzip.decompress(source.read_bytes())
    ingest([source], tmp_path / "store")
    first, second = Store.open(tmp_path / "store").iter_records()
    assert isinstance(first, SourceRecord) and first.body == page
    assert first.http_status == 200 and first.content_type == "text/html; charset=utf-8"
    assert first.http_header("transfer-encoding") == "chunked"
    assert first.warc_header("WARC-Target-URI") == "https://example.com/a"
    assert first.ref.offset == 0 and first.ref.length > 0
    assert isinstance(second, SourceRecord) and second.body == page


def test_revisits_resolve_to_their_original(tmp_path: Path, page: bytes) -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + page
    first = tmp_path / "first.warc.gz"
    with open(first, "wb") as fh:  # the same page captured twice, ten days apart
        writer = WARCWriter(fh, gzip=True)
        original = _response(writer, "https://example.com/", "2024-01-01T00:00:00Z", raw)
        _response(writer, "https://example.com/", "2024-01-10T00:00:00Z", raw)
    digest = original.rec_headers.get_header("WARC-Payload-Digest")
    original_id = original.rec_headers.get_header("WARC-Record-ID")
    second = tmp_path / "second.warc.gz"
    with open(second, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        by_id = writer.create_revisit_record(
            "https://example.com/", digest, "https://example.com/", "2024-01-01T00:00:00Z",
            http_headers=http,
        )
        by_id.rec_headers.add_header("WARC-Refers-To", original_id)
        by_id.rec_headers.replace_header("WARC-Date", "2024-02-01T00:00:00Z")
        writer.write_record(by_id)
        by_date = writer.create_revisit_record(
            "https://example.com/", digest, "https://example.com/", "2024-01-01T00:00:00Z",
        )
        by_date.rec_headers.replace_header("WARC-Date", "2024-02-15T00:00:00Z")
        writer.write_record(by_date)
        for date, payload_digest in [("2024-03-01", digest), ("2024-04-01", "sha1:" + "A" * 32)]:
            bare = writer.create_revisit_record("https://example.com/", payload_digest, "-", "-")
            bare.rec_headers.remove_header("WARC-Refers-To-Target-URI")
            bare.rec_headers.remove_header("WARC-Refers-To-Date")
            bare.rec_headers.replace_header("WARC-Date", f"{date}T00:00:00Z")
            writer.write_record(bare)
    ingest([first, second], tmp_path / "store")
    st = Store.open(tmp_path / "store")
    orig, later, rev1, rev_date, rev2, gone = st.iter_records()
    assert isinstance(orig, SourceRecord) and orig.refers_to is None
    assert orig.ref.record_id == original_id
    for rev, target in ((rev1, orig), (rev_date, orig), (rev2, later)):
        assert isinstance(rev, SourceRecord) and rev.warc_type == "revisit"
        assert rev.refers_to == target.ref and rev.body == page
        assert rev.ref.warc_file == "second.warc.gz"
    assert rev1.http_status == 200 and rev2.http_status is None
    assert isinstance(gone, SkippedRecord) and gone.reason == "revisit-unresolved"
    assert gone.warc_file == "second.warc.gz" and gone.offset > rev2.ref.offset


def test_corrupt_middle_member_is_skipped_and_reading_goes_on(tmp_path: Path) -> None:
    pages = benchmark_pages(5)
    source = tmp_path / "five.warc.gz"
    offsets = write_warc(source, [
        {"url": f"https://example.com/{i}", "date": f"2024-01-0{i + 1}T00:00:00Z", "body": body}
        for i, body in enumerate(pages.values())
    ])
    data = bytearray(source.read_bytes())
    data[(offsets[2] + offsets[3]) // 2] ^= 0xFF  # in the deflate data of the third member
    damaged = tmp_path / "damaged.warc.gz"
    damaged.write_bytes(bytes(data))
    ingest([damaged], tmp_path / "store", accept_damaged=True)
    items = list(Store.open(tmp_path / "store").iter_records())
    assert [type(i).__name__ for i in items] == [
        "SourceRecord", "SourceRecord", "SkippedRecord", "SourceRecord", "SourceRecord"
    ]
    skipped = items[2]
    assert isinstance(skipped, SkippedRecord)
    assert (skipped.warc_file, skipped.offset, skipped.reason) == ("damaged.warc.gz", offsets[2],
                                                                   "damaged")
    bodies = list(pages.values())
    assert [i.body for i in items if isinstance(i, SourceRecord)] == [
        bodies[0], bodies[1], bodies[3], bodies[4]
    ]
    assert [i.offset if isinstance(i, SkippedRecord) else i.ref.offset for i in items] == offsets


def test_max_body_and_record_ranges(tmp_path: Path) -> None:
    pages = list(benchmark_pages(3).values())
    source = tmp_path / "three.warc.gz"
    offsets = write_warc(source, [
        {"url": f"https://example.com/{i}", "date": "2024-01-01T00:00:00Z", "body": body}
        for i, body in enumerate(pages)
    ])
    ingest([source], tmp_path / "store")
    st = Store.open(tmp_path / "store")
    limit = sorted(len(p) for p in pages)[1]
    got = list(st.iter_records(max_body=limit))
    assert [isinstance(g, SkippedRecord) and g.reason == "too-large" for g in got] == [
        len(p) > limit for p in pages
    ]
    middle = list(st.iter_records(["three.warc.gz"], start=offsets[1], stop=offsets[2]))
    assert [m.ref.offset for m in middle] == [offsets[1]] and middle[0].body == pages[1]
    tail = list(st.iter_records(["three.warc.gz"], start=offsets[1]))
    assert [t.body for t in tail] == pages[1:]
    with pytest.raises(ValueError):
        list(st.iter_records(["three.warc.gz"] * 2, start=offsets[1]))  # a range: one file


def test_captures_are_oldest_first_and_exact(tmp_path: Path) -> None:
    source = tmp_path / "caps.warc.gz"
    write_warc(source, [
        {"url": "https://example.com/a", "date": "2024-05-01T00:00:00Z", "body": b"may"},
        {"url": "https://www.example.com/a", "date": "2024-04-01T00:00:00Z", "body": b"www"},
        {"url": "https://example.com/a", "date": "2024-01-01T00:00:00Z", "body": b"jan"},
        {"url": "https://example.com/b", "date": "2023-01-01T00:00:00Z", "body": b"other"},
        {"url": "https://example.com/a", "date": "2024-03-01T00:00:00Z", "body": b"mar"},
    ])
    ingest([source], tmp_path / "store")
    st = Store.open(tmp_path / "store")
    caps = st.captures("https://example.com/a")
    assert [c.timestamp[:8] for c in caps] == ["20240101", "20240301", "20240501"]
    assert all(c.url == "https://example.com/a" and c.status == 200 for c in caps)
    assert all(c.record_type == "response" and c.digest.startswith("sha1:") for c in caps)
    assert [c.timestamp[:8] for c in st.captures("https://example.com/a", exact=False)] == [
        "20240101", "20240301", "20240401", "20240501"
    ]
    assert st.captures("https://example.com/zzz") == []
    headers = st.record_headers(caps[0].filename, caps[0].offset)
    assert headers["warc-date"] == "2024-01-01T00:00:00Z"
    assert headers["WARC-Record-ID"].startswith("<urn:uuid:")


def test_captures_in_a_large_index(tmp_path: Path) -> None:
    """The lookup is a binary search: check it on an index far larger than its read block."""
    source = tmp_path / "many.warc.gz"
    write_warc(source, [
        {"url": f"https://site{i % 97}.example/{i}", "date": "2024-01-01T00:00:00Z",
         "body": b"x"} for i in range(600)
    ])
    ingest([source], tmp_path / "store")
    st = Store.open(tmp_path / "store")
    assert st.index_path.stat().st_size > 100_000
    for i in (0, 1, 299, 598, 599):
        (cap,) = st.captures(f"https://site{i % 97}.example/{i}")
        assert cap.url == f"https://site{i % 97}.example/{i}"


def test_transactions(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no WARC store"):
        Store.open(tmp_path / "missing")
    st = Store.open(tmp_path / "store", create=True)
    assert st.warc_files() == [] and st.index_path.read_text() == ""
    before = store_state(st.root)
    with st.transaction() as txn:
        for bad in ("../x.warc.gz", "a/b.warc.gz", ".hidden.warc", "notes.txt"):
            with pytest.raises(StoreError):
                txn.stage(bad)
    with pytest.raises(RuntimeError):
        with st.transaction() as txn:
            write_warc(txn.stage("c.warc.gz"), [
                {"url": "https://example.com/", "date": "2024-01-01T00:00:00Z", "body": b"x"}
            ])
            raise RuntimeError("the caller failed")
    assert store_state(st.root) == before
    assert not any((st.root / ".staging").iterdir())

    with st.transaction() as txn:
        write_warc(txn.stage("c.warc.gz"), [
            {"url": "https://example.com/", "date": "2024-01-01T00:00:00Z", "body": b"x"}
        ])
        txn.log({"event": "test", "n": 1})
    assert st.warc_files() == ["c.warc.gz"]
    assert '"event": "test"' in st.log_path.read_text()
    with st.transaction() as txn, pytest.raises(StoreError, match="already in the store"):
        txn.stage("c.warc.gz")
    with st.transaction(), pytest.raises(StoreError, match="already open"):
        with Store.open(st.root).transaction():  # would wait for itself forever
            pass
    with pytest.raises(StoreError, match="never written"):
        with st.transaction() as txn:
            txn.stage("d.warc.gz")
    assert st.warc_files() == ["c.warc.gz"]

    (st.root / "loose.warc").write_bytes(b"")
    with pytest.raises(StoreError, match="holds WARC files but no SHA256SUMS"):
        (tmp_path / "bare").mkdir()
        (tmp_path / "bare" / "x.warc.gz").write_bytes(b"")
        Store.open(tmp_path / "bare")
