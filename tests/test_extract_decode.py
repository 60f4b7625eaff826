"""Charset decoding: the declared charset only when the bytes agree with it."""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

import pytest

from warcpack.extract import decode, extract
from warcpack.record import RecordRef, SourceRecord
from warcpack.row import Extracted, make_row

SHARED = Path(__file__).resolve().parents[2] / "shared"
RUSSIAN = (SHARED / "benchmark" / "article-extraction" / "html"
           / "c4a3637c6696f238cf9fe1c7fbb17bbb6731a71d4f5fe399b9b4fc3294a96a6b.html.gz")
RUSSIAN_URL = "https://gto-normativy.ru/skajrim-skorost-bega-kak-uvelichit/"


def response(body: bytes, content_type: str | None) -> SourceRecord:
    return SourceRecord(
        ref=RecordRef("pages.warc.gz", 0, len(body) + 500, "<urn:uuid:0000-decode>"),
        warc_type="response", url=RUSSIAN_URL, warc_date="2019-11-20T00:00:00Z",
        payload_digest=None, content_type=content_type, http_status=200, http_headers=(),
        warc_headers=(), body=body,
    )


def test_windows_1251_served_as_utf8_is_detected() -> None:
    """A real Russian page re-encoded to windows-1251; header and <meta> both still say UTF-8."""
    original = gzip.decompress(RUSSIAN.read_bytes())
    text = original.decode("utf-8")
    cp1251 = text.encode("cp1251")
    assert b'<meta charset="UTF-8">' in cp1251

    decoded = decode(cp1251, "text/html; charset=utf-8")
    assert decoded.text == text
    assert (decoded.charset, decoded.source) == ("windows-1251", "detected")

    rec = response(cp1251, "text/html; charset=utf-8")
    ext = extract(rec, strict=True)
    assert isinstance(ext, Extracted)
    row = make_row(rec, ext)
    assert row["provenance"]["charset"] == "windows-1251"
    assert row["provenance"]["charset_source"] == "detected"
    reference = extract(ref_rec := response(original, "text/html; charset=utf-8"), strict=True)
    assert isinstance(reference, Extracted)
    make_row(ref_rec, reference)
    assert ext.text == reference.text
    assert ext.text.startswith("Характеристики бега можно увеличить")
    assert ext.title == reference.title


def test_meta_charset_used_when_the_header_is_wrong() -> None:
    text = gzip.decompress(RUSSIAN.read_bytes()).decode("utf-8")
    body = text.replace('<meta charset="UTF-8">', '<meta charset="windows-1251">').encode("cp1251")
    decoded = decode(body, "text/html; charset=utf-8")
    assert (decoded.charset, decoded.source) == ("windows-1251", "meta")
    assert "Нормы ГТО" in decoded.text


def test_header_charset_when_valid() -> None:
    body = gzip.decompress(RUSSIAN.read_bytes())
    assert decode(body, "text/html; charset=UTF-8").source == "http-header"
    assert decode(body, None).source == "meta"  # its <meta charset="UTF-8">


@pytest.mark.parametrize(
    ("body", "content_type", "text", "charset", "source"),
    [
        (codecs.BOM_UTF8 + "café".encode(), "text/html; charset=utf-8", "café", "utf-8",
         "http-header"),
        (codecs.BOM_UTF8 + "café".encode(), "text/html; charset=iso-8859-1", "café", "utf-8",
         "bom"),
        (codecs.BOM_UTF16_LE + "café".encode("utf-16-le"), None, "café", "utf-16-le", "bom"),
        ("café".encode("latin-1"), "text/html; charset=ISO-8859-1", "café", "windows-1252",
         "http-header"),
        # UTF-8 labelled latin-1: valid UTF-8 with non-ASCII bytes is not latin-1 by chance.
        ("café".encode(), "text/html; charset=iso-8859-1", "café", "utf-8", "detected"),
        (b"<meta http-equiv='Content-Type' content='text/html; charset=koi8-r'>"
         + "Привет".encode("koi8-r"), "text/html", "Привет", "koi8-r", "meta"),
        (b"plain ascii", None, "plain ascii", "utf-8", "detected"),
        ("naïve".encode(), "text/html; charset=x-no-such-charset", "naïve", "utf-8", "detected"),
    ],
)
def test_decode_cases(body: bytes, content_type: str | None, text: str, charset: str,
                      source: str) -> None:
    decoded = decode(body, content_type)
    assert decoded.text.endswith(text)
    assert (decoded.charset, decoded.source) == (charset, source)


def test_a_stray_bad_byte_does_not_discard_a_declared_utf8() -> None:
    body = ("Заголовок статьи и длинный текст. " * 40).encode() + b"\xff" + "конец".encode()
    decoded = decode(body, "text/html; charset=utf-8")
    assert decoded.source == "http-header" and decoded.charset == "utf-8"
    assert decoded.text.endswith("\ufffdконец")


def test_undecodable_bytes_never_raise() -> None:
    body = bytes(range(256)) * 20
    decoded = decode(body, "text/html; charset=utf-8")
    assert decoded.source in ("detected", "default") and decoded.text
