"""Records out of the store, as the extractors want them: decoded bodies, resolved revisits.

Damage never stops the stream: a record that cannot be read becomes a SkippedRecord naming its
file and offset, and reading goes on with the next readable record. Skip reasons: "damaged",
"unknown-type" (a WARC-Type the standard does not define), "revisit-unresolved",
"undecodable", and the limits of `warcpack.limits` ("too-large", "header-limit",
"url-too-long").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from warcio.timeutils import iso_date_to_timestamp

from warcpack.limits import DEFAULT_LIMITS, Limits
from warcpack.record import RecordRef, SkippedRecord, SourceRecord
from warcpack.store.decode import TooLarge, Undecodable, read_body
from warcpack.store.index import IndexEntry
from warcpack.store.names import check_name
from warcpack.store.scan import DAMAGED, Damage, Slot, scan

if TYPE_CHECKING:
    from warcpack.store.store import Store

WANTED = ("response", "resource", "revisit")
KNOWN = WANTED + ("warcinfo", "request", "metadata", "conversion", "continuation")
HINT_HEADERS = (("X-Warcpack-Publisher", "publisher"), ("X-Warcpack-Site", "site"))


def iter_records(
    store: Store,
    files: list[str] | None = None,
    *,
    start: int = 0,
    stop: int | None = None,
    max_body: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[SourceRecord | SkippedRecord]:
    """Stream the response/resource/revisit records of `files` (default: all), in file order.

    `max_body` (default `limits.max_record_bytes`) bounds each decoded body.
    """
    if max_body is not None:
        limits = replace(limits, max_record_bytes=max_body)
    names = store.warc_files() if files is None else list(files)
    if (start or stop is not None) and len(names) != 1:
        raise ValueError("start/stop select records of a single file; pass exactly one file")
    resolver = _Resolver(store, limits)
    for name in names:
        unsafe = check_name(name)
        if unsafe:  # a hand-edited SHA256SUMS must not make the reader leave the store
            yield SkippedRecord(name, 0, "unsafe-name", unsafe)
            continue
        path = store.path_of(name)
        for item in scan(path, start=start, stop=stop, check_digests=True, limits=limits):
            if isinstance(item, Damage):
                yield SkippedRecord(name, item.offset, item.kind, item.reason)
                continue
            if item.rec_type not in WANTED:
                item.finish()
                if item.problems:
                    yield SkippedRecord(name, item.offset, DAMAGED, "; ".join(item.problems))
                elif item.rec_type not in KNOWN:
                    yield SkippedRecord(name, item.offset, "unknown-type",
                                        f"WARC-Type {item.rec_type!r} is not a WARC 1.1 type")
                continue
            yield _convert(name, item, limits, resolver)


def _record_id(name: str, slot: Slot) -> str:
    """WARC-Record-ID; ARC records have none, so one is derived from their place (stable)."""
    if name.endswith((".arc", ".arc.gz")):
        return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'warcpack:{name}#{slot.offset}')}>"
    return slot.header("WARC-Record-ID") or ""


def _read(slot: Slot, limits: Limits) -> tuple[bytes | None, str, str]:
    """(body, skip reason, detail): the decoded body, or why it cannot be had."""
    body: bytes | None = None
    reason = detail = ""
    max_body = limits.max_record_bytes
    try:
        body = read_body(slot.record, max_body)
    except TooLarge:
        reason, detail = "too-large", f"body over max_record_bytes={max_body}"
    except Undecodable as exc:
        reason, detail = "undecodable", str(exc)
    slot.finish()
    if slot.problems:  # damage wins over the other reasons: it is what the user must act on
        return None, DAMAGED, "; ".join(slot.problems)
    return body, reason, detail


def _header_problem(slot: Slot, limits: Limits) -> tuple[str, str] | None:
    """(reason, detail) if the record's headers cannot make a row: checked after the record
    is read, so that damage is reported as such first."""
    url = slot.header("WARC-Target-URI") or ""
    if len(url) > limits.max_url_length:
        return "url-too-long", f"{len(url)} characters (max_url_length={limits.max_url_length})"
    date = slot.header("WARC-Date")
    if not _stamp(date):
        return DAMAGED, f"WARC-Date {date!r} is not an ISO 8601 time"
    return None


def _http(record: Any) -> tuple[int | None, tuple[tuple[str, str], ...], str | None]:
    http = record.http_headers
    if http is None or record.rec_type == "resource":
        return None, (), None
    try:
        status: int | None = int(http.get_statuscode())
    except (TypeError, ValueError):
        status = None
    return status, tuple((k, v) for k, v in http.headers), http.get_header("content-type")


def _convert(
    name: str, slot: Slot, limits: Limits, resolver: _Resolver
) -> SourceRecord | SkippedRecord:
    record = slot.record
    record_id = _record_id(name, slot)
    warc_headers = tuple(
        (k, record_id if k.lower() == "warc-record-id" else v)
        for k, v in record.rec_headers.headers
    )
    status, http_headers, http_type = _http(record)
    refers_to: RecordRef | None = None
    if slot.rec_type == "revisit":
        slot.finish()
        if slot.problems:
            return SkippedRecord(name, slot.offset, DAMAGED, "; ".join(slot.problems))
        refused = _header_problem(slot, limits)
        if refused:
            return SkippedRecord(name, slot.offset, *refused)
        found = resolver.resolve(slot)
        if isinstance(found, _Unresolved):
            return SkippedRecord(name, slot.offset, found.reason, found.detail)
        original, body, original_type = found
        refers_to = original
        http_type = http_type or original_type
    else:
        body, reason, detail = _read(slot, limits)
        if reason != DAMAGED:
            refused = _header_problem(slot, limits)
            if refused:
                body, (reason, detail) = None, refused
        if body is None or reason:
            return SkippedRecord(name, slot.offset, reason, detail)
    content_type = http_type if slot.rec_type != "resource" else slot.header("Content-Type")
    hints = {key: value for header, key in HINT_HEADERS if (value := slot.header(header))}
    return SourceRecord(
        ref=RecordRef(name, slot.offset, slot.length, record_id),
        warc_type=slot.rec_type,
        url=slot.header("WARC-Target-URI") or "",
        warc_date=slot.header("WARC-Date") or "",
        payload_digest=slot.header("WARC-Payload-Digest"),
        content_type=content_type,
        http_status=status,
        http_headers=http_headers,
        warc_headers=warc_headers,
        body=body,
        refers_to=refers_to,
        hints=hints,
    )


@dataclass(frozen=True)
class _Unresolved:
    """Why a revisit's payload cannot be had."""

    reason: str = "revisit-unresolved"
    detail: str = ""


def _stamp(date: str | None) -> str:
    """14-digit timestamp of a WARC date, or "" if it is malformed (never raises)."""
    try:
        return iso_date_to_timestamp(date or "")
    except (TypeError, ValueError):
        return ""


def _same_digest(entry: IndexEntry, digest: str) -> bool:
    return not digest or not entry.digest or entry.digest.upper() == digest


class _Resolver:
    """Finds the record holding a revisit's payload, as the WARC standard describes."""

    def __init__(self, store: Store, limits: Limits = DEFAULT_LIMITS) -> None:
        self.store = store
        self.limits = limits
        self._by_digest: dict[str, IndexEntry] | None = None

    def resolve(self, slot: Slot) -> tuple[RecordRef, bytes, str | None] | _Unresolved:
        """(original's ref, decoded body, its HTTP Content-Type), or why it cannot be found."""
        refers_to = slot.header("WARC-Refers-To")
        target = slot.header("WARC-Refers-To-Target-URI") or slot.header("WARC-Target-URI") or ""
        date = slot.header("WARC-Refers-To-Date")
        digest = (slot.header("WARC-Payload-Digest") or "").upper()
        same_url = [e for e in self.store.captures(target) if e.record_type != "revisit"]
        entry: IndexEntry | None = None
        if refers_to:
            candidates = same_url + [e for e in self._digest_entries(digest) if e not in same_url]
            entry = next((e for e in candidates if self._record_id(e) == refers_to), None)
        if entry is None and date:
            stamp = _stamp(date)
            entry = next(
                (e for e in same_url if e.timestamp == stamp and _same_digest(e, digest)), None
            )
        if entry is None and digest:  # any capture with this payload has the same bytes
            matches = [e for e in same_url if (e.digest or "").upper() == digest]
            own = _stamp(slot.header("WARC-Date"))
            earlier = [e for e in matches if e.timestamp <= own] or matches
            entry = earlier[-1] if earlier else next(iter(self._digest_entries(digest)), None)
        if entry is None:
            wanted = refers_to or f"payload digest {digest or '(none)'}"
            return _Unresolved(detail=f"no capture of {target} with {wanted} in the store")
        return self._load(entry)

    def _record_id(self, entry: IndexEntry) -> str | None:
        try:
            headers = self.store.record_headers(entry.filename, entry.offset)
        except Exception:
            return None
        if headers.get("WARC-Target-URI") == entry.url:
            return headers.get("WARC-Record-ID")
        # The first record of a gzip member holding several (a file gzipped as one stream).
        slot = self._find(entry)
        return slot.header("WARC-Record-ID") if slot is not None else None

    def _find(self, entry: IndexEntry) -> Slot | None:
        """The record an index entry points at: the first at its offset whose URL and time are
        the entry's (records of one gzip member share an offset)."""
        path = self.store.path_of(entry.filename)
        for item in scan(path, start=entry.offset, stop=entry.offset + 1, check_digests=True,
                         limits=self.limits):
            if isinstance(item, Slot) and _matches(item, entry):
                return item
        return None

    def _digest_entries(self, digest: str) -> list[IndexEntry]:
        if not digest:
            return []
        if self._by_digest is None:
            table: dict[str, IndexEntry] = {}
            for entry in self.store.index_entries():
                if entry.record_type != "revisit" and entry.digest:
                    key = entry.digest.upper()
                    if key not in table or entry.timestamp < table[key].timestamp:
                        table[key] = entry
            self._by_digest = table
        found = self._by_digest.get(digest)
        return [found] if found else []

    def _load(self, entry: IndexEntry) -> tuple[RecordRef, bytes, str | None] | _Unresolved:
        where = f"{entry.filename} at offset {entry.offset}"
        path = self.store.path_of(entry.filename)
        for item in scan(path, start=entry.offset, stop=entry.offset + 1, check_digests=True,
                         limits=self.limits):
            if isinstance(item, Damage):
                return _Unresolved(detail=f"original record {where} is damaged: {item.reason}")
            if not _matches(item, entry):
                continue
            body, reason, detail = _read(item, self.limits)
            if reason == "too-large":  # the revisit's payload is just as large
                return _Unresolved("too-large", f"original record {where}: {detail}")
            if body is None or reason:
                return _Unresolved(detail=f"original record {where}: {reason}: {detail}")
            _, _, http_type = _http(item.record)
            record_id = _record_id(entry.filename, item)
            return RecordRef(entry.filename, item.offset, item.length, record_id), body, http_type
        return _Unresolved(detail=f"no record {where}")


def _matches(slot: Slot, entry: IndexEntry) -> bool:
    """Whether the record is the one the index entry describes (same URL and time): records
    of one gzip member share its offset."""
    return (slot.header("WARC-Target-URI") or "") == entry.url and _stamp(
        slot.header("WARC-Date")) == entry.timestamp
