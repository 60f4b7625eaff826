"""The release's records as the build saw them, and, for the rows chosen, what they give now.

The records are read exactly as a build reads them (`Store.iter_records`: decoded bodies,
revisits resolved through the index), so the set of extractable records is the build's. Each
goes into the audit's scratch database with its place, id, digest, URL and capture instant; a
record the store cannot hand over goes in with its reason. A record whose URL is chosen for
re-extraction is extracted afresh (never from a build's cache) and made into a row as a build
makes it (`extract`, `make_row`, the writers' `prepare`), and the row (or the reason it gives
none) is kept beside it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from warcpack.audit.corpus import instant, refers_key
from warcpack.audit.findings import Ledger
from warcpack.limits import DEFAULT_LIMITS, Limits
from warcpack.record import SkippedRecord, SourceRecord
from warcpack.row import warc_date_to_rfc3339
from warcpack.store import Store, StoreError
from warcpack.textmode import ACCURATE
from warcpack.write.summary import Skipped

RECORDS_TABLE = """
CREATE TABLE records (
  kind TEXT, file TEXT, offset INTEGER, length INTEGER, record_id TEXT, payload_digest TEXT,
  url TEXT, captured TEXT, warc_type TEXT, refers TEXT, reason TEXT, detail TEXT);
CREATE TABLE reext (
  file TEXT, offset INTEGER, record_id TEXT, url TEXT, captured TEXT, line BLOB, reason TEXT,
  detail TEXT);
CREATE TABLE skips (file TEXT, offset INTEGER, reason TEXT, detail TEXT);
"""
RECORD_INDEXES = """
CREATE INDEX records_place ON records (file, offset);
CREATE INDEX records_url ON records (url, captured, file, offset);
CREATE INDEX reext_url ON reext (url, captured, file, offset);
CREATE INDEX skips_place ON skips (file, offset);
"""
_BATCH = 200


class ReleaseStore(Store):
    """The store, read without opening it for writing, with the release's WARC files readable
    whether or not its SHA256SUMS still lists them (the audit compares them itself)."""

    def __init__(self, root: Path, names: list[str]) -> None:
        super().__init__(root)
        self._names = set(names)

    def path_of(self, name: str) -> Path:
        if name in self._names:
            return self.root / name
        return super().path_of(name)


def read_records(store: ReleaseStore, names: list[str], db: sqlite3.Connection,
                 ledger: Ledger, chosen: Callable[[str], bool],
                 limits: Limits = DEFAULT_LIMITS, text_mode: str = ACCURATE) -> int:
    """Every extractable record of `names` into `records`; re-extract those whose URL is
    `chosen` into `reext`, with the build's limits and text mode. Returns the records read."""
    seen = 0
    for name in names:
        records: list[tuple[object, ...]] = []
        again: list[tuple[object, ...]] = []
        try:
            for item in store.iter_records([name], limits=limits):
                seen += 1
                if isinstance(item, SkippedRecord):
                    records.append(("skip", item.warc_file, item.offset, None, None, None, None,
                                    None, None, None, item.reason, item.detail))
                else:
                    records.append(_source(item))
                    if chosen(item.url):
                        again.append(_again(item, *row_of(item, limits, text_mode)))
                if len(records) >= _BATCH:
                    _flush(db, records, again)
        except (StoreError, OSError, ValueError) as exc:
            ledger.finding("completeness", "warc-unreadable", f"reading the records stopped: "
                           f"{exc}", file=name)
        _flush(db, records, again)
    return seen


def _flush(db: sqlite3.Connection, records: list[tuple[object, ...]],
           again: list[tuple[object, ...]]) -> None:
    db.executemany("INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", records)
    db.executemany("INSERT INTO reext VALUES (?,?,?,?,?,?,?,?)", again)
    records.clear()
    again.clear()


def captured_instant(warc_date: str) -> str | None:
    try:
        return instant(warc_date_to_rfc3339(warc_date))
    except (ValueError, TypeError):
        return None


def _source(rec: SourceRecord) -> tuple[object, ...]:
    ref, refers = rec.ref, rec.refers_to
    return ("source", ref.warc_file, ref.offset, ref.length, ref.record_id, rec.payload_digest,
            rec.url, captured_instant(rec.warc_date), rec.warc_type,
            refers_key(refers.warc_file, refers.offset, refers.record_id) if refers else None,
            None, None)


def row_of(rec: SourceRecord, limits: Limits = DEFAULT_LIMITS, text_mode: str = ACCURATE
           ) -> tuple[bytes | None, str | None, str | None]:
    """(JSONL line, None, None) of the record's row (one capture, revision 1), or (None,
    reason, detail): what a build gets from the record, refusals included (the build's own
    function, with the build's settings)."""
    from warcpack.engines.unit import process

    outcome = process(rec, limits, text_mode)
    if isinstance(outcome, Skipped):
        return None, outcome.reason, outcome.detail
    return outcome.line, None, None


def _again(rec: SourceRecord, line: bytes | None, reason: str | None, detail: str | None
           ) -> tuple[object, ...]:
    ref = rec.ref
    return (ref.warc_file, ref.offset, ref.record_id, rec.url, captured_instant(rec.warc_date),
            line, reason, detail)
