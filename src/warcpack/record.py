"""The value that flows from the store to the extractors: one archived payload and where it lives.

The store builds these; extractors read them and never touch WARC files themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RecordRef:
    """Where a WARC record's bytes are: enough to re-read and re-check it."""

    warc_file: str  # path relative to the store root, with "/" separators
    offset: int  # byte offset of the record (its gzip member, if compressed) in the file
    length: int  # bytes of the record (its gzip member) in the file
    record_id: str  # WARC-Record-ID, e.g. "<urn:uuid:...>"


@dataclass(frozen=True)
class SourceRecord:
    """One archived payload, decoded from transfer and content encodings, ready to extract.

    For a revisit, `ref` is the revisit record itself and `refers_to` the record whose payload
    is in `body`; `http_headers` and `http_status` are those of the revisit's own response.
    """

    ref: RecordRef
    warc_type: str  # "response", "resource" or "revisit"
    url: str  # WARC-Target-URI
    warc_date: str  # WARC-Date as written, e.g. "2025-07-03T00:00:00Z"
    payload_digest: str | None  # WARC-Payload-Digest as written, e.g. "sha1:..."
    content_type: str | None  # HTTP Content-Type (response) or WARC Content-Type (resource)
    http_status: int | None
    http_headers: tuple[tuple[str, str], ...]  # in the order sent; empty for resources
    warc_headers: tuple[tuple[str, str], ...]  # the record's WARC headers, in order
    body: bytes  # the payload, de-chunked and content-decoded
    refers_to: RecordRef | None = None
    hints: dict[str, str] = field(default_factory=dict)  # e.g. {"publisher": ..., "site": ...}

    def http_header(self, name: str) -> str | None:
        """First HTTP header of that name (case-insensitive), or None."""
        lname = name.lower()
        for key, value in self.http_headers:
            if key.lower() == lname:
                return value
        return None

    def warc_header(self, name: str) -> str | None:
        """First WARC header of that name (case-insensitive), or None."""
        lname = name.lower()
        for key, value in self.warc_headers:
            if key.lower() == lname:
                return value
        return None


@dataclass(frozen=True)
class SkippedRecord:
    """A record the store could not hand over (damaged, unresolvable, over a limit), and why."""

    warc_file: str
    offset: int
    reason: str  # short key: "damaged", "too-large", "revisit-unresolved", ...
    detail: str = ""
