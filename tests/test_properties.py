"""Properties, checked on generated input (hypothesis; bounded examples, no deadline):

- any list of pages captured by warcpack from a real server reads back from the store exactly
  as it was sent (status, headers in order, decoded body), and the store's index equals what
  `cdxj-indexer --sort` prints for the file;
- any list of records reads back the same from a WARC gzipped per record, an uncompressed one,
  or one gzipped as a single stream, and the index lists each of them;
- a row assembled from any extracted values either validates and can be written, or is refused
  with an error naming its record; never written invalid.
"""

from __future__ import annotations

import gzip
import itertools
import json
import tempfile
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from servers import Page, TestServer
from store_helpers import cdxj_indexer  # the real CLI, in its own process
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from warcpack.record import RecordRef, SourceRecord
from warcpack.row import Extracted, RowError, make_row, schema
from warcpack.store import Store
from warcpack.store.capture import capture
from warcpack.store.ingest import ingest
from warcpack.write.columns import prepare

FAST = settings(max_examples=12, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_paths = itertools.count()

token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
header_value = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E),
                       max_size=40).map(str.strip)
bodies = st.binary(max_size=4000) | st.text(max_size=2000).map(lambda t: t.encode("utf-8"))


@st.composite
def pages(draw) -> Page:
    extra = draw(st.lists(st.tuples(token.map(lambda t: "X-" + t), header_value), max_size=4))
    ctype = draw(st.sampled_from(["text/html; charset=utf-8", "text/plain", "image/png",
                                  "application/octet-stream"]))
    return Page(
        body=draw(bodies),
        status=draw(st.sampled_from([200, 200, 200, 404, 500])),
        reason="Whatever",
        headers=[("Content-Type", ctype), *extra],
        gzip=draw(st.booleans()),
        chunk_size=draw(st.sampled_from([0, 0, 1, 7, 500])),
    )


@given(st.lists(pages(), min_size=1, max_size=4))
@FAST
def test_captured_pages_read_back_as_sent(served: list[Page]) -> None:
    with TestServer() as server, tempfile.TemporaryDirectory() as tmp:
        urls = []
        for page in served:
            path = f"/p{next(_paths)}"
            server.pages[path] = page
            urls.append(server.url(path))
        store = Path(tmp) / "store"
        report = capture(urls, store, allow_private=True, delay=0, timeout=10.0,
                         respect_robots=False)
        st_ = Store.open(store)
        got = [r for r in st_.iter_records() if r.warc_type == "response"]
        assert [r.url for r in got] == urls
        for rec, page, path in zip(got, served, [u[len(server.url("")):] for u in urls],
                                   strict=True):
            wire = server.sent[path][0]
            head = wire.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            assert rec.http_status == page.status
            assert list(rec.http_headers) == [tuple(h.split(": ", 1)) for h in head[1:]]
            assert rec.body == page.body
        file = store / report.warc_file
        assert st_.index_path.read_text("utf-8") == cdxj_indexer([file])


@st.composite
def records(draw) -> list[dict]:
    count = draw(st.integers(1, 5))
    out = []
    for i in range(count):
        out.append({
            "url": f"https://example.com/{draw(token)}/{i}",
            "date": f"20{draw(st.integers(10, 29))}-0{draw(st.integers(1, 9))}-1"
                    f"{draw(st.integers(0, 9))}T0{draw(st.integers(0, 9))}:00:00Z",
            "body": draw(bodies),
            "type": draw(st.sampled_from(["response", "resource"])),
        })
    return out


def _serialised(recs: list[dict]) -> list[bytes]:
    raws = []
    for i, rec in enumerate(recs):
        out = BytesIO()
        writer = WARCWriter(out, gzip=False)
        extra = {"WARC-Date": rec["date"], "WARC-Record-ID": f"<urn:uuid:{i:08d}-0000-4000-8000-"
                                                             f"000000000000>"}
        if rec["type"] == "response":
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                rec["url"], "response", payload=BytesIO(rec["body"]), length=len(rec["body"]),
                http_headers=http, warc_headers_dict=extra)
        else:
            record = writer.create_warc_record(
                rec["url"], "resource", payload=BytesIO(rec["body"]), length=len(rec["body"]),
                warc_content_type="text/plain", warc_headers_dict=extra)
        writer.write_record(record)
        raws.append(out.getvalue())
    return raws


@given(records(), st.sampled_from(["per-record", "plain", "one-stream"]))
@FAST
def test_records_read_back_whatever_the_container(recs: list[dict], form: str) -> None:
    raws = _serialised(recs)
    data = {
        "per-record": b"".join(gzip.compress(r, mtime=0) for r in raws),
        "plain": b"".join(raws),
        "one-stream": gzip.compress(b"".join(raws), mtime=0),
    }[form]
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / ("in.warc" if form == "plain" else "in.warc.gz")
        source.write_bytes(data)
        report = ingest([source], Path(tmp) / "store")
        assert report.problems == []
        st_ = Store.open(Path(tmp) / "store")
        got = list(st_.iter_records())
        assert [(r.url, r.warc_date, r.warc_type, r.body) for r in got] == [
            (r["url"], r["date"], r["type"], r["body"]) for r in recs]
        entries = list(st_.index_entries())
        assert sorted(e.url for e in entries) == sorted(r["url"] for r in recs)
        if form != "one-stream":  # cdxj-indexer refuses a file gzipped as one stream
            assert st_.index_path.read_text("utf-8") == cdxj_indexer([source])
            assert sorted(e.offset for e in entries) == sorted(r.ref.offset for r in got)


maybe_text = st.none() | st.text(max_size=30)
instants = st.none() | st.sampled_from([
    "2024-05-01T10:00:00Z", "2024-05-01T10:00:00+06:00", "2024-05-01", "yesterday",
    "2024-13-45T99:00:00Z", "2024-05-01T10:00:00.123456-03:30", ""])
days = st.none() | st.sampled_from(["2024-05-01", "2024-5-1", "2024-02-30", "", "01/05/2024"])
detail = st.fixed_dictionaries({
    "raw": maybe_text, "source": maybe_text,
    "precision": st.sampled_from([None, "day", "minute", "second", "hour"]),
    "timezone": maybe_text, "timezone_source": st.sampled_from([None, "page", "site-config", "x"]),
})


@st.composite
def extracted(draw) -> Extracted:
    return Extracted(
        text=draw(st.text(max_size=200)),
        title=draw(maybe_text),
        language=draw(st.none() | st.sampled_from(["en", "en-US", "zh-Hant-TW", "", "x" * 40])),
        authors=draw(st.lists(st.text(max_size=20), max_size=3)),
        publisher=draw(maybe_text),
        section=draw(maybe_text),
        tags=draw(st.lists(st.text(max_size=10), max_size=3)),
        description=draw(maybe_text),
        site=draw(maybe_text),
        date_published=draw(instants),
        date_modified=draw(instants),
        date_published_day=draw(days),
        date_modified_day=draw(days),
        dates=draw(st.fixed_dictionaries({}, optional={"published": detail, "modified": detail})),
        http_last_modified=draw(instants),
        license=draw(st.fixed_dictionaries({}, optional={
            "statement": maybe_text, "url": maybe_text, "spdx": maybe_text,
            "redistributable": st.none() | st.booleans(), "source": maybe_text})),
        charset=draw(st.sampled_from(["utf-8", "windows-1251", None])),
        charset_source=draw(st.sampled_from(["http-header", "meta", "detected", "bom", "default",
                                             None, "guess"])),
        extractor=draw(st.sampled_from(["trafilatura", "text", ""])),
        extractor_version=draw(st.sampled_from(["2.0", ""])),
    )


@given(extracted(), st.sampled_from(["2024-05-01T10:00:00Z", "2024-05-01T10:00:00.5Z",
                                     "2024-05-01", "not a date"]),
       st.none() | st.integers(100, 599))
@settings(max_examples=100, deadline=None)
def test_a_row_validates_or_is_refused(ext: Extracted, warc_date: str, status: int | None) -> None:
    ref = RecordRef("a.warc.gz", 0, 10, "<urn:uuid:00000000-0000-4000-8000-000000000001>")
    rec = SourceRecord(ref, "response", "https://example.com/a", warc_date, "sha1:ABC",
                       "text/html", status, (), (), b"")
    try:
        row = make_row(rec, ext)
    except RowError as exc:
        assert exc.ref == ref and exc.problems and "a.warc.gz at offset 0" in str(exc)
        return
    except ValueError:  # an unreadable WARC-Date: the build counts it as an invalid row
        assert warc_date == "not a date"
        return
    validator = Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert list(validator.iter_errors(json.loads(json.dumps(row)))) == []
    try:
        prepare(row)  # what the build does next: a row it cannot write is refused, not written
    except ValueError as exc:
        assert "date" in str(exc).lower() or "time" in str(exc).lower() or "month" in str(exc)


def test_an_impossible_instant_is_refused_by_the_schema() -> None:
    ref = RecordRef("a.warc.gz", 0, 10, "<urn:uuid:00000000-0000-4000-8000-000000000001>")
    rec = SourceRecord(ref, "response", "https://example.com/a", "2024-05-01T10:00:00Z", None,
                       "text/html", 200, (), (), b"")
    with pytest.raises(RowError):
        make_row(rec, Extracted(text="t", http_last_modified="2024-13-45T99:00:00Z"))
