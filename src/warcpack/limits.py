"""Bounds on the work one record may cost, so hostile or broken input ends as a counted skip.

Every limit but one is *deterministic*: it is measured on the record's bytes before the
expensive step runs (a decompressed size, a character count, a nesting depth counted by a
streaming pass), so whether a record passes never depends on the machine or its load, and the
same store always gives the same rows. The one exception is `extraction_seconds`, a wall-clock
safety net for a page that makes a parser spin although it is within every other bound. It is
set far above what any page within those bounds takes; when it fires, the record is skipped
with the reason `TIMEOUT_REASON`, and a build that has such a skip is not guaranteed to be
reproducible (another machine might have finished the page).

    from warcpack.limits import DEFAULT_LIMITS, Limits
    strict = Limits(max_record_bytes=10_000_000)

The store reader reads `max_record_bytes`, `max_headers`, `max_header_bytes` and
`max_url_length`; the extractor reads `max_html_chars`, `max_depth`, `max_elements` and
`extraction_seconds`.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

TIMEOUT_REASON = "timeout"  # the one skip reason that depends on the machine, not the bytes


@dataclass(frozen=True)
class Limits:
    """Per-record limits; each hit is a counted skip with a message naming the limit."""

    max_record_bytes: int = 100_000_000
    """Decoded payload bytes of one record (after de-chunking and Content-Encoding). Bodies are
    decompressed in chunks and the read stops at the limit, so a gzip bomb costs at most this
    much memory (skip reason "too-large"). 100 MB is far above any real HTML page."""

    max_html_chars: int = 20_000_000
    """Decoded characters handed to a parser (HTML or plain text), skip reason "too-large".
    20 M characters is a few hundred times a long article; parse time and memory grow with it."""

    max_depth: int = 500
    """Element nesting depth, counted by a streaming lxml pass (which applies HTML's implied end
    tags) before trafilatura extracts from the page: skip reason "too-deep". Real pages stay
    under 60 (the deepest benchmark page is 51); libxml2 cuts trees off at 256, so the pass runs
    only on a page whose parsed tree reaches this depth or that cut."""

    max_elements: int = 100_000
    """Elements in the page, counted by the same pass, before the page is parsed, on a page
    whose text has enough "<" to hold this many: skip reason "too-many-elements". The largest
    benchmark page has 3,334; trafilatura takes about 40 s at 100,000 on one core."""

    max_headers: int = 1_000
    """Header lines in one header block (the WARC headers, or the HTTP headers) of a record:
    skip reason "header-limit". Servers send a few dozen."""

    max_header_bytes: int = 262_144
    """Bytes of one header block, and so of any header line (256 KiB): skip reason
    "header-limit". Web servers refuse requests with more than 8-64 KiB of headers."""

    max_url_length: int = 8_192
    """Characters of WARC-Target-URI: skip reason "url-too-long" (browsers and servers
    commonly stop at 2-8 K)."""

    extraction_seconds: float = 300.0
    """Wall-clock safety net for extracting one record, far above the ~40 s of the slowest
    page within the limits above: skip reason "timeout" (see the module docstring). Only armed
    in a process's main thread (it uses SIGALRM); 0 disables it."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not value >= 0:
                raise ValueError(f"limit {name} must be >= 0, got {value!r}")


DEFAULT_LIMITS = Limits()


class ExtractionTimeout(BaseException):
    """Raised inside an extraction that ran past `extraction_seconds`.

    A BaseException, so the `except Exception` blocks of parsing libraries cannot swallow it.
    """


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise ExtractionTimeout in this thread if the block runs longer than `seconds`.

    A no-op outside the main thread, when `seconds` is 0, or when another interval timer is
    already running (it is left alone).
    """
    armed = (
        seconds > 0
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    )
    if not armed:
        yield
        return

    def _fire(signum: int, frame: object) -> None:
        raise ExtractionTimeout(f"extraction ran past {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
