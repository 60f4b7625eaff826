"""What kind of payload a record holds: the declared media type, checked against the bytes,
and for HTML the shape of the page (nesting depth, element count), measured before any parser
builds a tree of it.

The declared type is trusted unless it is missing or generic (application/octet-stream), or the
bytes start with the signature of a binary format (a PNG served as text/html is still a PNG).
"""

from __future__ import annotations

import re
from functools import lru_cache

from lxml import etree

_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"\x00\x00\x01\x00", "image/x-icon"),
    (b"OggS", "application/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"wOFF", "font/woff"),
    (b"wOF2", "font/woff2"),
    (b"\x00asm", "application/wasm"),
)
_GENERIC = {"", "application/octet-stream", "binary/octet-stream", "unknown/unknown",
            "application/unknown", "*/*", "application/x-unknown-content-type"}
# WHATWG MIME sniffing: tags that mark a document as HTML when nothing is declared.
_HTML_START = re.compile(
    rb"^\s*<(?:!doctype\s+html|html|head|body|script|iframe|h1|div|font|table|a|style|title|b"
    rb"|br|p|!--|meta|link)[\s>/]",
    re.I,
)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def declared_type(content_type: str | None) -> str:
    """The media type of a Content-Type value, lowercased, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def sniff(body: bytes) -> str:
    """Media type guessed from the first bytes."""
    head = body[:1024]
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom):]
            if bom != b"\xef\xbb\xbf":  # UTF-16: look at it as text
                head = head.decode("utf-16", "ignore").encode("utf-8", "ignore")
            break
    if _HTML_START.match(head):
        return "text/html"
    if re.match(rb"^\s*<\?xml", head) and re.search(rb"<html[\s>]", head, re.I):
        return "application/xhtml+xml"
    if b"\x00" not in head:
        return "text/plain"
    return "application/octet-stream"


def media_type(content_type: str | None, body: bytes) -> tuple[str, str]:
    """(media type to act on, description for a skip message)."""
    declared = declared_type(content_type)
    sniffed = sniff(body)
    binary = sniffed not in ("text/html", "application/xhtml+xml", "text/plain")
    if declared in _GENERIC:
        return sniffed, f"{sniffed} (sniffed; declared {declared or 'nothing'})"
    if binary and sniffed != "application/octet-stream" and sniffed != declared:
        return sniffed, f"{sniffed} (sniffed; declared {declared})"
    return declared, declared


class _Shape:
    """lxml parser target that counts elements and nesting, and stops at the limits.

    It builds no tree and ignores text, so it costs a small part of a real parse. End tags are
    only counted, by a C-level `list.append` rather than a Python method: it runs once per
    element of every page.
    """

    def __init__(self, max_depth: int, max_elements: int) -> None:
        self.max_depth = max_depth
        self.max_elements = max_elements
        self.elements = 0
        self._ends: list[str] = []
        self.end = self._ends.append  # lxml calls target.end(tag) for each closed element

    @property
    def depth(self) -> int:
        """Elements open now: started minus ended."""
        return self.elements - len(self._ends)

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.elements = elements = self.elements + 1
        if elements - len(self._ends) > self.max_depth or elements > self.max_elements:
            raise _OverLimit

    def close(self) -> None:
        return None


class _OverLimit(Exception):
    pass


_FEED = 1 << 20  # characters per feed: the pass stops soon after a limit is crossed
# libxml2 builds an HTML tree at most about 256 elements deep (deeper markup is laid out flat):
# a parsed tree this deep may stand for a deeper page.
_TREE_DEPTH = 250


def html_shape(text: str, max_depth: int, max_elements: int) -> tuple[str, str] | None:
    """(skip reason, detail) if the page nests deeper than `max_depth` or has more than
    `max_elements` elements, else None.

    Measured by libxml2's HTML parser, which the extractors use too, so implied end tags
    (`<p>` closing the previous `<p>`) count as the extractors would see them. A pure function
    of the text: the same page gives the same answer on every machine.
    """
    shape = _Shape(max_depth, max_elements)
    parser = etree.HTMLParser(target=shape, no_network=True, recover=True)
    try:
        for i in range(0, len(text), _FEED):
            parser.feed(text[i : i + _FEED])
        parser.close()
    except _OverLimit:
        pass
    except etree.LxmlError:  # a page libxml2 cannot read at all: left to the extractors
        return None
    if shape.depth > max_depth:
        return "too-deep", f"elements nested over {max_depth} deep (max_depth)"
    if shape.elements > max_elements:
        return "too-many-elements", f"over {max_elements} elements (max_elements)"
    return None


def may_hold_too_many(text: str, max_elements: int) -> bool:
    """Could the page parse into more than `max_elements` elements? Every element starts at a
    "<" except those the parser implies: html, head, body, and a <p> before a text run, at most
    one per tag. Only such pages need `html_shape` before a tree is built (the count is C speed;
    `html_shape` costs a Python call per element)."""
    return 2 * text.count("<") + 4 > max_elements


@lru_cache(maxsize=8)
def _deeper_than(depth: int) -> etree.XPath:
    return etree.XPath("/" + "/".join(["*"] * (depth + 1)))  # one step per level, in C


def may_nest_too_deep(tree: etree._Element, max_depth: int) -> bool:
    """Could the page behind this parsed tree nest deeper than `max_depth`? The tree shows the
    page's nesting up to libxml2's own depth cap, so a tree deeper than `max_depth`, or than
    that cap, is the only sign; `html_shape` then measures the page itself."""
    return bool(_deeper_than(min(max_depth, _TREE_DEPTH))(tree))
