"""From one archived record to one row's worth of findings, or a counted reason to skip it.

`extract` is a pure function of the record's bytes, headers and the site config: no clock, no
network, no global mutable state, so the same store gives the same rows on any day.

    from warcpack.extract import extract
    result = extract(record)          # Extracted, or Skip(reason, detail)

Skip reasons: "redirect" (3xx), "http-status" (1xx, 4xx, 5xx), "empty", "not-html" (PDF, images,
scripts...; detail names the type), "no-text", "extract-error" (a bug or a page that broke a
parser: reported with its record, never fatal to a build), and the limits of
`warcpack.limits`: "too-large" and "too-many-elements", decided from the bytes before a parser
builds a tree, "too-deep", decided from the bytes when the tree is deep enough to stand for a
deeper page (libxml2 caps a tree's depth, so a deep page never costs a deep tree), and "timeout",
the wall-clock safety net (the one reason that depends on the machine: a build with such a skip
is not guaranteed to be reproducible).
"""

from __future__ import annotations

from dataclasses import replace

from warcpack.extract.decode import Decoded, decode
from warcpack.extract.html import extract_html
from warcpack.extract.page import Page
from warcpack.extract.sites import SiteConfig, SiteConfigError, SiteRule
from warcpack.extract.sniff import media_type
from warcpack.extract.textpage import extract_text
from warcpack.installation import extractor_versions
from warcpack.limits import DEFAULT_LIMITS, TIMEOUT_REASON, ExtractionTimeout, Limits, deadline
from warcpack.record import SourceRecord
from warcpack.row import Extracted, Skip
from warcpack.textmode import ACCURATE, FAST, TEXT_MODES, check_text_mode

__all__ = [
    "ACCURATE", "FAST", "MAX_CHARS", "TEXT_MODES", "TIMEOUT_REASON", "Decoded", "SiteConfig",
    "SiteConfigError", "SiteRule", "decode", "extract", "extractor_versions",
]

MAX_CHARS = DEFAULT_LIMITS.max_html_chars  # kept for callers that name it; see Limits
_HTML = ("text/html", "application/xhtml+xml")
_TEXT = ("text/plain",)


def extract(
    rec: SourceRecord,
    sites: SiteConfig | None = None,
    *,
    max_chars: int | None = None,
    strict: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    text_mode: str = ACCURATE,
) -> Extracted | Skip:
    """Extract text and metadata from one record, or say why it gives no row.

    An exception inside an extractor becomes Skip("extract-error") so one bad page cannot stop
    a build; `strict=True` lets it propagate instead (for tests and debugging). `max_chars`
    overrides `limits.max_html_chars`. `text_mode` ("accurate", the default, or "fast") says
    how an HTML page's main text is read: see `warcpack.extract.maintext`.
    """
    check_text_mode(text_mode)
    if max_chars is not None:
        limits = replace(limits, max_html_chars=max_chars)
    try:
        with deadline(limits.extraction_seconds):
            return _extract(rec, sites if sites is not None else SiteConfig.load(), limits,
                            text_mode)
    except ExtractionTimeout:
        return Skip(TIMEOUT_REASON, f"extraction ran past extraction_seconds="
                    f"{limits.extraction_seconds:g} (machine-dependent: the build is not "
                    "guaranteed to be reproducible)")
    except Exception as exc:
        if strict:
            raise
        return Skip("extract-error", f"{type(exc).__name__}: {exc}"[:500])


def _extract(rec: SourceRecord, sites: SiteConfig, limits: Limits,
             text_mode: str) -> Extracted | Skip:
    status = rec.http_status
    if status is not None:
        if 300 <= status < 400 and not (status == 304 and rec.refers_to is not None):
            location = rec.http_header("Location")
            return Skip("redirect", f"{status} -> {location}" if location else str(status))
        if status >= 400 or status < 200:
            return Skip("http-status", str(status))
    body = rec.body
    if not body.strip():
        return Skip("empty", f"{len(body)} bytes")
    mime, detail = media_type(rec.content_type, body)
    if mime not in _HTML + _TEXT:
        return Skip("not-html", detail)
    max_chars = limits.max_html_chars
    if len(body) > 4 * max_chars:  # no charset packs more than 4 bytes into a character
        return Skip("too-large", f"{len(body)} bytes")
    decoded = decode(body, rec.content_type, sniff_meta=mime in _HTML)
    if len(decoded.text) > max_chars:
        return Skip("too-large",
                    f"{len(decoded.text)} characters (limit {max_chars}: max_html_chars)")
    page = Page.of(rec, decoded, sites)
    if mime in _HTML:
        return extract_html(decoded.text, page, text_mode, limits)
    return extract_text(decoded.text, page)
