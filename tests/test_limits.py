"""Limits against hostile input: each hostile record ends as a counted skip with a message naming
the limit, memory stays bounded, and the records around it still give their rows.

The big cases (a gzip bomb, a 200 MB page, a 100,000-deep page) are written to WARC files in
streaming fashion and run through `ingest` and `build` with the default limits in a child
process, which reports its own peak memory (and that of its worker processes).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

import brotli
import pytest
from store_helpers import benchmark_pages, write_warc
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from warcpack.extract import extract
from warcpack.limits import DEFAULT_LIMITS, TIMEOUT_REASON, Limits
from warcpack.record import RecordRef, SkippedRecord, SourceRecord
from warcpack.row import Extracted, Skip
from warcpack.store import Store
from warcpack.store.ingest import ingest
from warcpack.store.reader import iter_records

GIB = 1 << 30
MIB = 1 << 20
PEAK_LIMIT_KIB = 1 << 20  # 1 GiB, as ru_maxrss counts it on Linux
OFFLINE = {"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}

CHILD = r"""
import json, resource, sys
from pathlib import Path
from warcpack.build import build
from warcpack.store.ingest import ingest
from warcpack.store.reader import iter_records
source, store, out = map(Path, sys.argv[1:4])
ingest([source], store)
summary = build(store, out, progress=False)
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
           resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"skipped": dict(summary.skipped_by_reason), "rows": summary.rows_written,
                  "peak_kib": peak, "notable": [s.detail for s in summary.notable]}))
"""


# --- streaming WARC writing ---------------------------------------------------------------------


def _b32(digest: hashlib._Hash) -> str:
    return "sha1:" + base64.b32encode(digest.digest()).decode()


def stream_record(out: BinaryIO, url: str, block: Callable[[], Iterable[bytes]],
                  record_id: str, rec_type: str = "response") -> None:
    """Append one gzip member holding one WARC record whose block comes from `block()` (called
    twice: once for the length and digest, once to write), never held in memory whole."""
    sha, length = hashlib.sha1(), 0
    for chunk in block():
        sha.update(chunk)
        length += len(chunk)
    head = (
        f"WARC/1.0\r\nWARC-Type: {rec_type}\r\nWARC-Record-ID: {record_id}\r\n"
        f"WARC-Date: 2024-05-01T00:00:00Z\r\nWARC-Target-URI: {url}\r\n"
        f"WARC-Block-Digest: {_b32(sha)}\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {length}\r\n\r\n"
    ).encode()
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    out.write(compressor.compress(head))
    for chunk in block():
        out.write(compressor.compress(chunk))
    out.write(compressor.compress(b"\r\n\r\n"))
    out.write(compressor.flush())


def zeros(total: int) -> Iterator[bytes]:
    block = bytes(MIB)
    for _ in range(total // MIB):
        yield block


def gzip_stream(chunks: Iterable[bytes]) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join(compressor.compress(c) for c in chunks) + compressor.flush()


def http_head(*headers: str) -> bytes:
    return ("HTTP/1.1 200 OK\r\n" + "".join(f"{h}\r\n" for h in headers) + "\r\n").encode()


def normal_page(out: BinaryIO, body: bytes) -> None:
    """A real benchmark page, written by warcio: its row must come through beside the skip."""
    writer = WARCWriter(out, gzip=True)
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                            protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(
        "https://example.com/normal", "response", payload=BytesIO(body), length=len(body),
        http_headers=http, warc_headers_dict={"WARC-Date": "2024-05-01T00:00:00Z"}))


def run_build(tmp_path: Path, source: Path) -> dict:
    env = {**os.environ, **OFFLINE, "HF_HOME": str(tmp_path / "hf")}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(source), str(tmp_path / "store"), str(tmp_path / "out")],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{source.name}: {result}")  # shown with -s: the peak memory of the run
    return result


@pytest.fixture(scope="module")
def page() -> bytes:
    return next(iter(benchmark_pages(1).values()))


# --- the three big cases --------------------------------------------------------------------------


def test_gzip_bombs_stop_at_the_record_limit(tmp_path: Path, page: bytes) -> None:
    """1 GiB of zeros as a gzip-encoded HTTP body (about 1 MB on disk), and 1 GiB of zeros as
    the block of a WARC record in a gzip member: both skipped as too large."""
    bomb = gzip_stream(zeros(GIB))
    assert len(bomb) < 2 * MIB
    source = tmp_path / "bombs.warc.gz"
    with open(source, "wb") as out:
        normal_page(out, page)
        head = http_head("Content-Type: text/html", "Content-Encoding: gzip",
                         f"Content-Length: {len(bomb)}")
        stream_record(out, "https://example.com/bomb", lambda: (head, bomb),
                      "<urn:uuid:00000000-0000-4000-8000-000000000001>")
        member_head = http_head("Content-Type: text/html", f"Content-Length: {GIB}")
        stream_record(out, "https://example.com/member-bomb",
                      lambda: (member_head, *zeros(GIB)),
                      "<urn:uuid:00000000-0000-4000-8000-000000000002>")
    assert source.stat().st_size < 8 * MIB
    result = run_build(tmp_path, source)
    assert result["skipped"] == {"too-large": 2}
    assert result["rows"] == 1
    assert result["peak_kib"] < PEAK_LIMIT_KIB


def test_a_200_mb_page_is_a_counted_skip(tmp_path: Path, page: bytes) -> None:
    paragraph = b"<p>" + b"A paragraph of a page far too long to be an article. " * 20 + b"</p>\n"
    count = 200_000_000 // len(paragraph) + 1
    head = http_head("Content-Type: text/html; charset=utf-8",
                     f"Content-Length: {13 + count * len(paragraph) + 14}")

    def block() -> Iterator[bytes]:
        yield head + b"<html><body>"
        for _ in range(count // 1000):
            yield paragraph * 1000
        yield paragraph * (count % 1000) + b"</body></html>"

    source = tmp_path / "huge.warc.gz"
    with open(source, "wb") as out:
        stream_record(out, "https://example.com/huge", block,
                      "<urn:uuid:00000000-0000-4000-8000-000000000003>")
        normal_page(out, page)
    result = run_build(tmp_path, source)
    assert result["skipped"] == {"too-large": 1} and result["rows"] == 1
    assert result["peak_kib"] < PEAK_LIMIT_KIB


def test_a_100000_deep_page_is_refused_in_bounded_memory(tmp_path: Path, page: bytes) -> None:
    depth = 100_000
    body = b"<html><body>" + b"<div>" * depth + b"deep" + b"</div>" * depth + b"</body></html>"
    source = tmp_path / "deep.warc.gz"
    with open(source, "wb") as out:
        head = http_head("Content-Type: text/html", f"Content-Length: {len(body)}")
        stream_record(out, "https://example.com/deep", lambda: (head, body),
                      "<urn:uuid:00000000-0000-4000-8000-000000000004>")
        normal_page(out, page)
    result = run_build(tmp_path, source)
    assert result["skipped"] == {"too-deep": 1} and result["rows"] == 1
    assert result["peak_kib"] < PEAK_LIMIT_KIB


# --- the other limits, in process ---------------------------------------------------------------


def record(body: bytes, ctype: str = "text/html; charset=utf-8") -> SourceRecord:
    return SourceRecord(
        ref=RecordRef("limits.warc.gz", 0, 1, "<urn:uuid:00000000-0000-4000-8000-00000000000a>"),
        warc_type="response", url="https://example.com/a", warc_date="2024-05-01T00:00:00Z",
        payload_digest=None, content_type=ctype, http_status=200,
        http_headers=(("Content-Type", ctype),), warc_headers=(), body=body,
    )


def test_depth_and_element_limits_are_settings(page: bytes) -> None:
    nested = b"<html><body>" + b"<div>" * 600 + b"<p>" + b"Some words of text. " * 40 + b"</p>"
    assert extract(record(nested), strict=True) == Skip(
        "too-deep", "elements nested over 500 deep (max_depth)")
    roomy = extract(record(nested), limits=Limits(max_depth=1000), strict=True)
    assert getattr(roomy, "reason", None) != "too-deep"
    # Deeper than the tree libxml2 builds (about 256), within the limit: measured, not refused.
    between = b"<html><body>" + b"<div>" * 300 + b"<p>" + b"Some words of text. " * 40 + b"</p>"
    assert getattr(extract(record(between), strict=True), "reason", None) != "too-deep"
    # A limit below that cap is read off the tree itself.
    shallow = b"<html><body>" + b"<div>" * 30 + b"<p>" + b"Some words of text. " * 40 + b"</p>"
    assert extract(record(shallow), limits=Limits(max_depth=20), strict=True) == Skip(
        "too-deep", "elements nested over 20 deep (max_depth)")
    assert getattr(extract(record(shallow), limits=Limits(max_depth=40), strict=True),
                   "reason", None) != "too-deep"
    # Implied end tags count as the parser sees them: 1,000 <p> in a row are not nested.
    flat = b"<html><body>" + b"<p>Some words of text in a paragraph." * 1000
    assert isinstance(extract(record(flat), strict=True), Extracted)
    few = Limits(max_elements=500)
    assert extract(record(page), limits=few, strict=True).reason == "too-many-elements"
    assert isinstance(extract(record(page), strict=True), Extracted)


def test_the_timeout_net_skips_a_spinning_page_with_its_own_reason() -> None:
    """A page that takes seconds against a net of 50 ms (the default net is 300 s)."""
    slow = b"<html><body><article>" + b"".join(
        b"<p>Paragraph %d, with some words in it to look like text.</p>" % i
        for i in range(20_000)) + b"</article></body></html>"
    result = extract(record(slow), limits=Limits(extraction_seconds=0.05))
    assert isinstance(result, Skip) and result.reason == TIMEOUT_REASON == "timeout"
    assert "not guaranteed to be reproducible" in result.detail
    assert DEFAULT_LIMITS.extraction_seconds >= 100


def test_external_entities_are_never_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-FILE-CONTENT")
    for decl in ('<?xml version="1.0"?>\n', ""):
        body = (decl + f'<!DOCTYPE html [<!ENTITY xxe SYSTEM "file://{secret}">]>'
                '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>T &xxe;</title></head>'
                "<body><article><h1>Heading &xxe;</h1>"
                + "<p>A paragraph long enough to be the main text of the page &xxe; here.</p>" * 8
                + "</article></body></html>").encode()
        for ctype in ("text/html", "application/xhtml+xml"):
            result = extract(record(body, ctype), strict=True)
            assert isinstance(result, Extracted) and "SECRET" not in repr(result)


def _raw_response(url: str, headers: list[str], body: bytes) -> bytes:
    http = http_head(*headers) + body
    return (
        f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:{url[-8:]:0>8}>\r\n"
        f"WARC-Date: 2024-05-01T00:00:00Z\r\nWARC-Target-URI: {url}\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(http)}\r\n\r\n"
    ).encode() + http + b"\r\n\r\n"


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "plain"])
def test_header_and_url_limits(tmp_path: Path, gz: bool) -> None:
    body = b"<html><body><p>fine</p></body></html>"
    records = [
        _raw_response("https://example.com/many-0000001", [f"X-H{i}: v" for i in range(2000)],
                      body),
        _raw_response("https://example.com/long-0000002", ["X-Long: " + "a" * 300_000], body),
        _raw_response("https://example.com/" + "u" * 9000 + "-0000003", ["X-A: b"], body),
        _raw_response("https://example.com/good-0000004", ["Content-Type: text/html"], body),
    ]
    source = tmp_path / ("limits.warc.gz" if gz else "limits.warc")
    source.write_bytes(b"".join(_gz(r) for r in records) if gz else b"".join(records))
    ingest([source], tmp_path / "store", accept_damaged=True)
    items = list(Store.open(tmp_path / "store").iter_records())
    skipped = [(i.reason, i.detail) for i in items if isinstance(i, SkippedRecord)]
    assert [reason for reason, _ in skipped] == ["header-limit", "header-limit", "url-too-long"]
    assert "max_headers=1000" in skipped[0][1]
    assert "max_header_bytes=262144" in skipped[1][1]
    assert "max_url_length=8192" in skipped[2][1]
    good = [i for i in items if isinstance(i, SourceRecord)]
    assert [g.url for g in good] == ["https://example.com/good-0000004"] and good[0].body == body
    roomy = Limits(max_headers=5000, max_header_bytes=1 << 20, max_url_length=10_000)
    again = list(iter_records(Store.open(tmp_path / "store"), limits=roomy))
    assert [i.body for i in again if isinstance(i, SourceRecord)] == [body] * 4


def _gz(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def test_brotli_and_deflate_bombs_in_the_body(tmp_path: Path) -> None:
    compressor = brotli.Compressor(quality=5)
    br = b"".join(compressor.process(c) for c in zeros(512 * MIB)) + compressor.finish()
    deflate = zlib.compressobj(9)
    df = b"".join(deflate.compress(c) for c in zeros(512 * MIB)) + deflate.flush()
    source = tmp_path / "bodies.warc.gz"
    write_warc(source, [
        {"url": "https://example.com/br", "date": "2024-05-01T00:00:00Z", "body": br,
         "headers": [("Content-Type", "text/html"), ("Content-Encoding", "br")]},
        {"url": "https://example.com/deflate", "date": "2024-05-01T00:00:00Z", "body": df,
         "headers": [("Content-Type", "text/html"), ("Content-Encoding", "deflate")]},
    ])
    ingest([source], tmp_path / "store")
    items = list(Store.open(tmp_path / "store").iter_records(max_body=100 * MIB))
    assert [(i.reason, i.detail) for i in items] == [
        ("too-large", "body over max_record_bytes=104857600")] * 2


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="max_depth"):
        Limits(max_depth=-1)
    assert DEFAULT_LIMITS == Limits()
