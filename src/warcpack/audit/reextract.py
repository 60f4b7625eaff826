"""Re-extraction: the chosen records give the rows the corpus has, field for field.

A row's content comes from its own record; its revision bookkeeping (`revision`, `previous_id`,
`changed`, `captures`, first and last capture) from all the captures of its URL. So a URL is
re-extracted whole: its records, in capture order, through the build's record-to-row step, then
folded into revisions by the build's own fold. The rows that come out must be the corpus's rows
of that URL: in the text config byte for byte, in the metadata config value for value. Records
that gave no row must give the same skip reason as the build recorded.

The sample (`--reextract N`) is reproducible: rows are ordered by sha256(manifest sha256 + row
id) and the first N taken, so the same release is always sampled the same way, and nobody can
know which rows will be checked without the manifest they cannot change unseen.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from itertools import groupby
from typing import Any

from warcpack.audit.corpus import differing, field_hashes
from warcpack.audit.findings import Ledger
from warcpack.extract import TIMEOUT_REASON
from warcpack.revisions import assign
from warcpack.write.columns import prepare
from warcpack.write.features import TEXT_COLUMN

_BATCH = 200


def chosen_urls(db: sqlite3.Connection, sample: int | None) -> set[str] | None:
    """URLs to re-extract: None for all, else those of the first `sample` rows in the
    sample order."""
    if sample is None:
        return None
    return {url for (url,) in db.execute(
        "SELECT url FROM rows ORDER BY sample_key LIMIT ?", (sample,))}


def _groups(db: sqlite3.Connection) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    cursor = db.execute("SELECT url, file, offset, record_id, line, reason, detail FROM reext "
                        "ORDER BY url, captured, file, offset")
    flat = (item for batch in iter(lambda: cursor.fetchmany(_BATCH), []) for item in batch)
    for url, items in groupby(flat, key=lambda r: r[0]):
        yield url, list(items)


def compare(db: sqlite3.Connection, ledger: Ledger) -> dict[str, int]:
    """Re-extracted rows against the corpus; returns the tallies."""
    tally = {"urls": 0, "records": 0, "rows": 0, "identical": 0, "skips": 0}
    for url, items in _groups(db):
        tally["urls"] += 1
        tally["records"] += len(items)
        made = [json.loads(line) for *_, line, _, _ in items if line is not None]
        for _, file, offset, record_id, line, reason, detail in items:
            if line is None:
                tally["skips"] += 1
                _check_skip(db, ledger, url, file, offset, record_id, reason, detail)
        corpus = {r[0]: r for r in db.execute(
            "SELECT id, revision, shard, fields, file, offset FROM rows WHERE url = ? "
            "ORDER BY revision", (url,))}
        produced = set()
        for row in assign(made):
            tally["rows"] += 1
            produced.add(row["id"])
            found = corpus.get(row["id"]) or db.execute(
                "SELECT id, revision, shard, fields, file, offset FROM rows WHERE id = ? "
                "ORDER BY position LIMIT 1", (row["id"],)).fetchone()
            if _check_row(db, ledger, row, found):
                tally["identical"] += 1
        for rid, (_, revision, shard, _, file, offset) in corpus.items():
            if rid not in produced:
                ledger.finding("provenance", "reextract-missing", f"re-extracting the records "
                               f"of {url} gives no row {rid} (revision {revision}, {shard})",
                               file=file, offset=offset, row=rid, url=url)
    return tally


def _check_skip(db: sqlite3.Connection, ledger: Ledger, url: str, file: str, offset: int,
                record_id: str, reason: str, detail: str) -> None:
    listed = db.execute("SELECT reason FROM skips WHERE file = ? AND offset = ?",
                        (file, offset)).fetchone()
    if reason == TIMEOUT_REASON:
        ledger.note("provenance", "reextract-timeout", f"re-extracting {record_id} ran out of "
                    f"time ({detail}): not compared", file=file, offset=offset, url=url)
    elif listed is not None and listed[0] != reason:
        ledger.finding("completeness", "reextract-skip-differs", f"re-extracting {record_id} "
                       f"gives no row ({reason}: {detail}); the build recorded {listed[0]!r}",
                       file=file, offset=offset, url=url)


def _check_row(db: sqlite3.Connection, ledger: Ledger, row: dict[str, Any],
               found: tuple[Any, ...] | None) -> bool:
    prov = row["provenance"]
    where = {"file": prov["warc_file"], "offset": prov["warc_offset"], "row": row["id"],
             "url": row["url"]}
    if found is None:
        ledger.finding("completeness", "reextract-extra", f"re-extracting the record gives row "
                       f"{row['id']} (revision {row['revision']}), which the corpus lacks",
                       **where)
        return False
    _, _, shard, meta_fields, _, _ = found
    prepared = prepare(row)
    fresh = field_hashes(prepared.values)
    fields = differing(json.loads(meta_fields), fresh, skip=frozenset({TEXT_COLUMN}))
    text = db.execute("SELECT shard, line_hash, fields FROM texts WHERE form = 'jsonl' AND "
                      "id = ? LIMIT 1", (row["id"],)).fetchone()
    if text is not None and hashlib.sha256(prepared.line).hexdigest() != text[1]:
        fields = sorted(set(fields) | set(differing(json.loads(text[2]), fresh)))
        shard = text[0] if not fields or fields == [TEXT_COLUMN] else shard
        if not fields:
            fields = ["(JSON bytes)"]
    if fields:
        verb = "differs" if len(fields) == 1 else "differ"
        ledger.finding("provenance", "reextract-differs", "re-extracting the row's record gives "
                       f"a different row: {', '.join(fields)} {verb} ({shard})", **where)
        return False
    return True
