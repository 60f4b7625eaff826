"""Provenance and completeness: the rows against the records, both ways.

Provenance: each row's `warc_file`, `warc_offset` and `warc_length` must find a record with the
row's `warc_record_id` and `payload_digest`, and the row's URL, capture time, record type, id
and (for a revisit) original must be that record's.

Completeness: each extractable record must be accounted for: it has its own row, the build
recorded why it gave none (the skipped list of build-summary.json), or it is an identical
re-capture counted in the `captures` of the revision before it. Walking each URL's records in
capture order tells which: the count of re-captures folded into each row must be its
`captures` minus one, and the last of them its `date_last_captured`.
"""

from __future__ import annotations

import sqlite3
from itertools import groupby
from typing import Any

from warcpack.audit.findings import Ledger
from warcpack.audit.target import Target
from warcpack.record import RecordRef
from warcpack.row import row_id

_BATCH = 500


def load_skips(target: Target, db: sqlite3.Connection, ledger: Ledger) -> int:
    """The build's skipped list into `skips`; returns how many."""
    n = 0
    batch = []
    try:
        for skip in target.skipped():
            batch.append((skip.warc_file, skip.offset, skip.reason, skip.detail))
            n += 1
            if len(batch) >= _BATCH:
                db.executemany("INSERT INTO skips VALUES (?,?,?,?)", batch)
                batch = []
    except (OSError, ValueError) as exc:
        ledger.finding("completeness", "skips-unreadable", f"the skipped list cannot be read: "
                       f"{exc}", file="build-summary.json")
    db.executemany("INSERT INTO skips VALUES (?,?,?,?)", batch)
    return n


def _records_at(db: sqlite3.Connection, file: str, offset: int) -> list[tuple[Any, ...]]:
    return db.execute(
        "SELECT kind, length, record_id, payload_digest, url, captured, warc_type, refers, "
        "reason, detail FROM records WHERE file = ? AND offset = ?", (file, offset)).fetchall()


def check_provenance(db: sqlite3.Connection, ledger: Ledger, release_files: set[str] | None,
                     present: set[str]) -> int:
    """Each row against the record it names; returns the rows whose record is as they say."""
    good = 0
    cursor = db.execute(
        "SELECT id, url, shard, file, offset, length, record_id, payload_digest, captured, "
        "warc_type, refers FROM rows ORDER BY position")
    while batch := cursor.fetchmany(_BATCH):
        for (rid, url, shard, file, offset, length, record_id, digest, captured, warc_type,
             refers) in batch:
            at = f"{file} at offset {offset}"
            where = {"file": file, "offset": offset, "row": rid, "url": url}
            if release_files is not None and file not in release_files:
                ledger.finding("provenance", "row-file", f"the row ({shard}) names {file}, which "
                               "is not a WARC file of the release", **where)
                continue
            if file not in present:
                ledger.finding("provenance", "row-record-missing", f"the row ({shard}) names "
                               f"{file}, which is missing from the store", **where)
                continue
            found = _records_at(db, file, offset)
            sources = [r for r in found if r[0] == "source"]
            if not found:
                ledger.finding("provenance", "row-record-missing", f"no record starts at {at}, "
                               f"where the row ({shard}) says its record {record_id} is",
                               **where)
                continue
            if not sources:
                _, _, _, _, _, _, _, _, reason, detail = found[0]
                ledger.finding("provenance", "row-record-unreadable", f"the row's record at {at}"
                               f" cannot be read now ({reason}: {detail})", **where)
                continue
            match = [r for r in sources if r[2] == record_id]
            if not match:
                ids = ", ".join(str(r[2]) for r in sources)
                ledger.finding("provenance", "row-record-id", f"the record at {at} is {ids}, not "
                               f"the row's {record_id}", **where)
                continue
            _, rlength, rid_, rdigest, rurl, rcaptured, rtype, rrefers, _, _ = match[0]
            problems = []
            for name, row_value, record_value in (
                ("warc_length", length, rlength), ("payload_digest", digest, rdigest),
                ("url", url, rurl), ("date_captured", captured, rcaptured),
                ("warc_type", warc_type, rtype), ("refers_to", refers, rrefers),
            ):
                if row_value != record_value:
                    problems.append(f"{name} {row_value!r}, the record's is {record_value!r}")
            expected_id = row_id(RecordRef(file, offset, rlength or 0, rid_))
            if rid != expected_id:
                problems.append(f"id {rid} is not the one its record gives ({expected_id})")
            if problems:
                ledger.finding("provenance", "row-record-differs", f"the row ({shard}) does not "
                               f"match its record at {at}: " + "; ".join(problems), **where)
            else:
                good += 1
    for file, offset, record_id, n, ids in db.execute(
            "SELECT file, offset, record_id, count(*), group_concat(id, ', ') FROM rows "
            "GROUP BY file, offset, record_id HAVING count(*) > 1 ORDER BY file, offset"):
        ledger.finding("provenance", "row-record-shared", f"{n} rows name the same record "
                       f"{record_id}: {ids}", file=file, offset=offset)
    return good


def check_completeness(db: sqlite3.Connection, ledger: Ledger, have_skips: bool) -> dict[str, int]:
    """Every record accounted for, and every skip naming a record; returns the tallies."""
    tally = {"own_rows": 0, "recaptures": 0, "skipped": 0, "unaccounted": 0}
    own = ("(SELECT w.id FROM rows w WHERE w.file = r.file AND w.offset = r.offset AND "
           "w.record_id = r.record_id ORDER BY w.position LIMIT 1)")
    skipped = ("(SELECT s.reason FROM skips s WHERE s.file = r.file AND s.offset = r.offset "
               "LIMIT 1)")
    # records the store cannot hand over: the build must have recorded them too
    for file, offset, reason, detail, listed in db.execute(
            f"SELECT r.file, r.offset, r.reason, r.detail, {skipped} FROM records r "
            "WHERE r.kind = 'skip' ORDER BY r.file, r.offset"):
        tally["skipped"] += 1
        if have_skips and listed is None and not _has_row(db, file, offset):
            ledger.finding("completeness", "record-unaccounted", f"the record cannot be read "
                           f"({reason}: {detail}) and the build's skipped list does not name it",
                           file=file, offset=offset)
    cursor = db.execute(
        f"SELECT r.url, r.captured, r.file, r.offset, r.record_id, {own}, {skipped} "
        "FROM records r WHERE r.kind = 'source' ORDER BY r.url, r.captured, r.file, r.offset")
    rows = iter(lambda: cursor.fetchmany(_BATCH), [])
    flat = (item for batch in rows for item in batch)
    for url, records in groupby(flat, key=lambda r: r[0]):
        _walk_url(db, ledger, url, list(records), tally, have_skips)
    for file, offset, reason in db.execute(
            "SELECT s.file, s.offset, s.reason FROM skips s WHERE NOT EXISTS (SELECT 1 FROM "
            "records r WHERE r.file = s.file AND r.offset = s.offset) ORDER BY s.file, s.offset"):
        ledger.finding("completeness", "skip-without-record", f"the build's skipped list names "
                       f"a record here ({reason}), but none starts at this offset",
                       file=file, offset=offset)
    return tally


def _has_row(db: sqlite3.Connection, file: str, offset: int) -> bool:
    return db.execute("SELECT 1 FROM rows WHERE file = ? AND offset = ? LIMIT 1",
                      (file, offset)).fetchone() is not None


def _walk_url(db: sqlite3.Connection, ledger: Ledger, url: str, records: list[tuple[Any, ...]],
              tally: dict[str, int], have_skips: bool) -> None:
    """One URL's records in capture order against its rows' `captures`."""
    rows = {rid: (captures, last, shard) for rid, captures, last, shard in db.execute(
        "SELECT id, captures, last, shard FROM rows WHERE url = ?", (url,))}
    current: str | None = None
    folded: list[tuple[Any, ...]] = []

    def close() -> None:
        if current is None or current not in rows:
            return
        captures, last, shard = rows[current]
        counted = 1 + len(folded)
        latest = folded[-1][0] if folded else own_captured
        if captures != counted:
            extra = ", ".join(f"{file} at offset {offset}" for _, file, offset in folded)
            ledger.finding("completeness", "captures-count", f"the row counts {captures} "
                           f"capture(s) of {url}; the store has {counted} up to the next "
                           "revision" + (f" (re-captures: {extra})" if extra else ""),
                           file=shard, row=current, url=url)
        elif last != latest:
            ledger.finding("completeness", "captures-last", f"date_last_captured {last} is not "
                           f"the last capture's ({latest})", file=shard, row=current, url=url)

    own_captured = None
    for _, captured, file, offset, record_id, own, skipped in records:
        if own is not None:
            close()
            current, folded, own_captured = own, [], captured
            tally["own_rows"] += 1
        elif skipped is not None and have_skips:
            tally["skipped"] += 1
        elif current is None:
            tally["unaccounted"] += 1
            expected = row_id(RecordRef(file, offset, 0, record_id))
            ledger.finding("completeness", "record-unaccounted", f"record {record_id} ({url}) "
                           f"has no row (expected id {expected}), no skip reason, and no earlier "
                           "revision of its URL it could be a re-capture of",
                           file=file, offset=offset, url=url)
        else:
            folded.append((captured, file, offset))
            tally["recaptures"] += 1
    close()
