"""Which records give a row and which a counted skip, and that none of them raises."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

import warcpack
from warcpack.extract import SiteConfig, extract, extractor_versions
from warcpack.record import RecordRef, SourceRecord
from warcpack.row import Extracted, Skip, make_row

SHARED = Path(__file__).resolve().parents[2] / "shared"

ARTICLE = (
    "<!doctype html><html lang='en'><head><title>Quay</title></head><body><article><h1>Quay</h1>"
    + "".join(
        f"<p>Paragraph {i}: the harbour authority said on Monday that the new quay will open "
        "to ferries next spring, after two years of delays and a long dispute over costs.</p>"
        for i in range(5)
    )
    + "</article></body></html>"
).encode()


def record(body: bytes, content_type: str | None = "text/html; charset=utf-8", *,
           status: int | None = 200, headers: tuple[tuple[str, str], ...] = (),
           warc_type: str = "response", refers_to: RecordRef | None = None,
           date: str = "2024-01-01T00:00:00Z") -> SourceRecord:
    return SourceRecord(
        ref=RecordRef("pages.warc.gz", 1234, len(body) + 500, "<urn:uuid:0000-dispatch>"),
        warc_type=warc_type, url="https://www.example.com/news/quay", warc_date=date,
        payload_digest="sha1:AAAA", content_type=content_type, http_status=status,
        http_headers=headers, warc_headers=(), body=body, refers_to=refers_to,
    )


def row_of(rec: SourceRecord, sites: SiteConfig | None = None, **kw: int) -> dict:
    """Extract strictly and build the schema-checked row."""
    ext = extract(rec, sites, strict=True, **kw)  # type: ignore[arg-type]
    assert isinstance(ext, Extracted), ext
    return make_row(rec, ext)


def tiny_pdf() -> bytes:
    """A valid one-page PDF: header, three objects, cross-reference table, trailer."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return out


def tiny_png() -> bytes:
    """A valid 1x1 grey PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


def test_html_gives_a_valid_row() -> None:
    row = row_of(record(ARTICLE))
    assert row["site"] == "example.com"
    assert row["provenance"]["extractor"] == "warcpack-html"
    assert row["provenance"]["extractor_version"] == warcpack.__version__
    assert row["provenance"]["charset_source"] == "http-header"


@pytest.mark.parametrize(
    ("rec", "expected"),
    [
        (record(b"<html><body>Not found</body></html>", status=404), Skip("http-status", "404")),
        (record(b"oops", status=503), Skip("http-status", "503")),
        (record(b"", status=301, headers=(("Location", "https://example.com/new"),)),
         Skip("redirect", "301 -> https://example.com/new")),
        (record(b"", status=302), Skip("redirect", "302")),
        (record(b""), Skip("empty", "0 bytes")),
        (record(b" \r\n\t "), Skip("empty", "5 bytes")),
        (record(tiny_pdf(), "application/pdf"), Skip("not-html", "application/pdf")),
        (record(tiny_pdf(), None),
         Skip("not-html", "application/pdf (sniffed; declared nothing)")),
        (record(tiny_png(), "text/html"),
         Skip("not-html", "image/png (sniffed; declared text/html)")),
        (record(tiny_png(), "image/png"), Skip("not-html", "image/png")),
        (record(b"function f() { return 1; }", "application/javascript"),
         Skip("not-html", "application/javascript")),
        (record(b"body { color: red }", "text/css"), Skip("not-html", "text/css")),
        (record(b"<html><body><script>go()</script><img src='a.png'></body></html>"),
         Skip("no-text", "no main text found")),
    ],
    ids=["404", "503", "301", "302", "empty", "blank", "pdf", "pdf-undeclared", "png-as-html",
         "png", "js", "css", "no-text"],
)
def test_skips(rec: SourceRecord, expected: Skip) -> None:
    assert extract(rec, strict=True) == expected


def test_undeclared_html_is_sniffed() -> None:
    for content_type in (None, "application/octet-stream"):
        row = row_of(record(ARTICLE, content_type))
        assert row["provenance"]["charset_source"] == "detected"


def test_revisit_not_modified_uses_the_original_payload() -> None:
    original = RecordRef("pages.warc.gz", 0, 900, "<urn:uuid:original>")
    row = row_of(record(ARTICLE, status=304, warc_type="revisit", refers_to=original))
    assert row["provenance"]["refers_to"]["warc_record_id"] == "<urn:uuid:original>"
    assert extract(record(ARTICLE, status=304), strict=True) == Skip("redirect", "304")


def test_resource_without_status() -> None:
    row = row_of(record(ARTICLE, status=None, warc_type="resource"))
    assert row["provenance"]["http_status"] is None and row["text"]


def test_a_30_mb_page_is_skipped_not_parsed() -> None:
    paragraph = b"<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do.</p>\n"
    body = b"<html><body>" + paragraph * (30_000_000 // len(paragraph) + 1) + b"</body></html>"
    assert len(body) > 30_000_000
    result = extract(record(body), strict=True)
    assert isinstance(result, Skip) and result.reason == "too-large"
    assert "limit 20000000" in result.detail
    huge = extract(record(body * 3), max_chars=1000, strict=True)
    assert huge == Skip("too-large", f"{len(body) * 3} bytes")


def test_limit_is_a_setting() -> None:
    assert extract(record(ARTICLE), max_chars=100, strict=True).reason == "too-large"
    assert row_of(record(ARTICLE), max_chars=len(ARTICLE))["text"]


def test_malformed_html_and_json_ld_do_not_raise() -> None:
    body = (b"<html><head><script type='application/ld+json'>{\"@type\": \"NewsArticle\", "
            b"\"datePublished\": [1, {\"x\": null}], \"author\": {\"name\": [\"\"]}}</script>"
            b"<script type='application/ld+json'>[[[[{]]]</script>"
            b"<meta property='article:published_time' content='not a date'>"
            b"</head><body><div><p>" + ARTICLE[200:] + b"<table><tr><td>&bogus; &#xFFFFFF;"
            b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>&e;")
    assert "root:" not in row_of(record(body))["text"]


def test_an_extractor_failure_is_a_counted_skip() -> None:
    broken = record(ARTICLE, date="not a WARC date")
    result = extract(broken)
    assert isinstance(result, Skip) and result.reason == "extract-error"
    assert "ValueError" in result.detail
    with pytest.raises(ValueError):
        extract(broken, strict=True)


def test_site_config_is_an_input() -> None:
    sites = SiteConfig.parse('[sites."example.com"]\npublisher = "Example Post"\n')
    assert row_of(record(ARTICLE), sites)["publisher"] == "Example Post"
    assert row_of(record(ARTICLE), SiteConfig())["publisher"] is None


def test_extractor_versions() -> None:
    versions = extractor_versions()
    assert sorted(versions) == ["charset_normalizer", "htmldate", "lxml", "trafilatura"]
    assert all(v and v != "unknown" for v in versions.values())
