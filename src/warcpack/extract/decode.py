"""Bytes to text: find the charset a page was really written in, and say where it came from.

Order: the HTTP Content-Type charset, a byte order mark, a `<meta charset>` / http-equiv (or XML
declaration) in the first 4 KB, detection with charset_normalizer, then UTF-8 with replacement.
A declared charset is used only if the bytes are valid in it (a handful of stray bytes are
tolerated): servers often label windows-1251 or latin-1 pages as UTF-8, and decoding those as
declared would fill the corpus with mojibake. A BOM overrides a header naming another charset,
as browsers do (WHATWG "decode"): it cannot appear by accident. Likewise bytes labelled with a
legacy single-byte charset that are valid UTF-8 (with non-ASCII) are taken as UTF-8.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

_PRESCAN = 4096
_DETECT_BYTES = 1_000_000  # detection looks at the start; the whole body is then decoded
_BAD_SHARE = 0.01  # invalid sequences tolerated in a declared charset, per non-ASCII byte

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CT_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:\-]+)""", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:\-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([\w.:\-]+)""", re.I)
# WHATWG maps these labels to windows-1252, a superset that browsers use in their place.
_ALIASES = {"iso8859-1": "cp1252", "ascii": "cp1252", "latin-1": "cp1252"}
_HIGH = bytes(range(0x80, 0x100))
_NAMES = {f"cp{n}": f"windows-{n}" for n in range(1250, 1259)}


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str  # label written to the row, e.g. "utf-8", "windows-1251"
    source: str  # http-header | bom | meta | detected | default (the schema's enum)


def charset_from_content_type(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type value, if any."""
    if not content_type:
        return None
    m = _CT_CHARSET.search(content_type)
    return m.group(1) if m else None


def _codec(label: str | None) -> str | None:
    """Python codec name for a charset label, or None if unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    return _ALIASES.get(name, name)


def _label(codec: str) -> str:
    return _NAMES.get(codec, codec)


def _try(body: bytes, codec: str) -> str | None:
    """Decode if the bytes are (nearly) valid in this codec; None if they clearly are not."""
    try:
        return body.decode(codec)
    except UnicodeDecodeError:
        pass
    except LookupError:
        return None
    text = body.decode(codec, errors="replace")
    bad = text.count("\ufffd") - body.count("\ufffd".encode("utf-8"))
    non_ascii = len(body) - len(body.translate(None, _HIGH))
    if codec.startswith("utf-16") or codec.startswith("utf-32"):
        return text if bad == 0 else None
    return text if bad <= max(1, non_ascii * _BAD_SHARE) else None


def _meta_charset(head: bytes) -> str | None:
    m = _XML_DECL.search(head) or _META_CHARSET.search(head)
    if not m:
        return None
    codec = _codec(m.group(1).decode("ascii", "ignore"))
    # A page that got as far as being parsed as ASCII cannot really be UTF-16 (WHATWG rule).
    if codec and codec.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return codec


def decode(body: bytes, content_type: str | None = None, sniff_meta: bool = True) -> Decoded:
    """Decode a payload; never raises, at worst replaces undecodable bytes in UTF-8."""
    header = _codec(charset_from_content_type(content_type))
    for bom, codec in _BOMS:
        if body.startswith(bom):
            text = body[len(bom):].decode(codec, errors="replace")
            same = header is not None and header.replace("-le", "").replace("-be", "") == (
                codec.replace("-le", "").replace("-be", "")
            )
            return Decoded(text, _label(codec), "http-header" if same else "bom")
    if header and not header.startswith("utf") and not body.isascii():
        # Legacy text is practically never valid UTF-8 by chance; mislabelled UTF-8 often is.
        try:
            return Decoded(body.decode("utf-8"), "utf-8", "detected")
        except UnicodeDecodeError:
            pass
    if header:
        text = _try(body, header)
        if text is not None:
            return Decoded(text, _label(header), "http-header")
    if sniff_meta:
        meta = _meta_charset(body[:_PRESCAN])
        if meta and meta != header:
            text = _try(body, meta)
            if text is not None:
                return Decoded(text, _label(meta), "meta")
    if body.isascii():
        return Decoded(body.decode("ascii"), "utf-8", "detected")
    try:
        return Decoded(body.decode("utf-8"), "utf-8", "detected")
    except UnicodeDecodeError:
        pass
    best = from_bytes(body[:_DETECT_BYTES]).best()
    codec = _codec(best.encoding) if best is not None else None
    if codec:
        return Decoded(body.decode(codec, errors="replace"), _label(codec), "detected")
    return Decoded(body.decode("utf-8", errors="replace"), "utf-8", "default")
