"""Fixity: are the WARC files the bytes the release was built from, record by record?

Each file's size and sha256 against release.json (and against the store's SHA256SUMS, which a
careful forger would have updated too); then every record's WARC-Block-Digest and
WARC-Payload-Digest. A payload sent with Transfer-Encoding: chunked is hashed in both forms,
as stored (chunked) and de-chunked, since crawlers disagree on which one the digest covers; the
report says which one matched.
"""

from __future__ import annotations

import hashlib
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warcio.bufferedreaders import ChunkedDataReader

from warcpack.audit.findings import Ledger
from warcpack.store.location import is_file, open_span, unreadable
from warcpack.store.manifest import MANIFEST_NAME, ManifestError, read_manifest, sha256_file
from warcpack.store.names import check_name
from warcpack.store.scan import Damage, Slot, digest_matches, scan

CHECK = "fixity"
_CHUNK = 1 << 16
_REVISIT_MAX = 1 << 20  # a revisit's block is HTTP headers: small


@dataclass
class FixityTally:
    """What the record-level checks saw, for the report's figures."""

    files: int = 0
    bytes: int = 0
    records: int = 0
    damaged: int = 0
    block: Counter[str] = field(default_factory=Counter)  # matched / failed / absent
    payload: Counter[str] = field(default_factory=Counter)  # as-stored / de-chunked / ...

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files, "bytes": self.bytes, "records": self.records,
                "damaged_stretches": self.damaged,
                "block_digest": dict(sorted(self.block.items())),
                "payload_digest": dict(sorted(self.payload.items()))}


def store_sums(root: Path, ledger: Ledger) -> dict[str, str] | None:
    """The store's SHA256SUMS, or None (with a finding) when it cannot be read."""
    try:
        return read_manifest(root / MANIFEST_NAME)
    except (ManifestError, OSError, UnicodeDecodeError) as exc:
        ledger.finding(CHECK, "store-sums-unreadable", f"the store's {MANIFEST_NAME} cannot be "
                       f"read: {exc}", file=MANIFEST_NAME)
        return None


def check_files(root: Path, files: list[dict[str, Any]], sums: dict[str, str] | None,
                ledger: Ledger, tally: FixityTally) -> list[str]:
    """Size and sha256 of each listed WARC file against the release (and SHA256SUMS); returns
    the names of the files present, to be read record by record."""
    present = []
    for entry in files:
        name = str(entry.get("name"))
        unsafe = check_name(name)
        if unsafe:
            ledger.finding(CHECK, "warc-name", f"the release names {unsafe}", file=name)
            continue
        path = root / name
        if not is_file(path):
            ledger.finding(CHECK, "warc-missing", f"{name} is in the release but not in the "
                           f"store {root}", file=name)
            continue
        try:
            size, digest = path.stat().st_size, sha256_file(path)
        except Exception as exc:  # a disk error, a lost connection, an object replaced meanwhile
            ledger.finding(CHECK, "warc-unreadable", f"cannot be read ({unreadable(exc)})",
                           file=name)
            continue
        present.append(name)
        tally.files += 1
        tally.bytes += size
        want_size, want_sha = entry.get("size", size), entry.get("sha256")
        want_size = size if want_size is None else want_size  # a plain build lists no sizes
        if size != want_size or digest != want_sha:
            how = (f"{size} bytes, the release says {want_size}: "
                   + ("cut short" if isinstance(want_size, int) and size < want_size else
                      "bytes added" if isinstance(want_size, int) and size > want_size
                      else "same size, different bytes")) if size != want_size else \
                "same size, different bytes"
            ledger.finding(CHECK, "warc-changed", f"sha256 {digest} is not the release's "
                           f"{want_sha} ({how})", file=name)
        if sums is not None:
            listed = sums.get(name)
            if listed is None:
                ledger.finding(CHECK, "store-sums-missing", f"the store's {MANIFEST_NAME} does "
                               "not list this file", file=name)
            elif listed != digest:
                ledger.finding(CHECK, "store-sums-differ", f"sha256 {digest} is not the one in "
                               f"the store's {MANIFEST_NAME} ({listed})", file=name)
    return present


def check_records(path: Path, name: str, ledger: Ledger, tally: FixityTally) -> None:
    """Every record's digests, and every stretch of the file that holds no readable record."""
    offset = None
    try:
        for item in scan(path, check_digests=True):
            offset = item.offset
            if isinstance(item, Damage):
                tally.damaged += 1
                ledger.finding(CHECK, "warc-damaged", f"unreadable bytes: {item.reason}",
                               file=name, offset=item.offset)
                continue
            tally.records += 1
            _check_slot(item, name, ledger, tally)
    except Exception as exc:  # the file could be read once, and no longer
        ledger.finding(CHECK, "warc-unreadable", f"reading stopped ({unreadable(exc)})",
                       file=name, offset=offset)


def _hasher(digest: str | None) -> Any:
    if not digest:
        return None
    try:
        return hashlib.new(digest.partition(":")[0].strip().lower().replace("-", ""))
    except ValueError:
        return None


def _check_slot(slot: Slot, name: str, ledger: Ledger, tally: FixityTally) -> None:
    record = slot.record
    rec_type = slot.rec_type
    block_digest = slot.header("WARC-Block-Digest")
    payload_digest = slot.header("WARC-Payload-Digest")
    http = record.http_headers
    chunked = http is not None and "chunked" in (
        http.get_header("transfer-encoding") or "").lower()
    dechunked = _hasher(payload_digest) if chunked and rec_type != "revisit" else None
    if dechunked is not None:
        # warcio hashes the payload as stored while it is read; this reads it de-chunked.
        reader = ChunkedDataReader(record.raw_stream)
        try:
            while data := reader.read(_CHUNK):
                dechunked.update(data)
        except Exception:  # framing that is not chunked after all: only the stored form counts
            dechunked = None
    problems = slot.finish()
    where = {"file": name, "offset": slot.offset}
    if slot.broken:
        tally.damaged += 1
        ledger.finding(CHECK, "warc-damaged", f"{rec_type} record "
                       f"{slot.header('WARC-Record-ID')}: {'; '.join(problems)}", **where)
        return
    checker = record.digest_checker
    said = [str(p) for p in (checker.problems if checker is not None else [])]
    block_failed = any(p.startswith("block digest failed") for p in said)
    payload_failed = any(p.startswith("payload digest failed") for p in said)
    for p in said:
        if p.startswith("unknown hash"):
            ledger.finding(CHECK, "digest-algorithm", p, **where)
    record_id = slot.header("WARC-Record-ID")
    # block
    if not block_digest:
        tally.block["absent"] += 1
    elif rec_type == "revisit":
        ok = _revisit_block(slot, block_digest)
        tally.block["matched" if ok else "failed" if ok is False else "not checked"] += 1
        if ok is False:
            ledger.finding(CHECK, "block-digest", f"revisit record {record_id}: "
                           f"WARC-Block-Digest {block_digest} does not match its block", **where)
    elif block_failed:
        tally.block["failed"] += 1
        ledger.finding(CHECK, "block-digest", f"{rec_type} record {record_id}: WARC-Block-Digest "
                       f"{block_digest} does not match its block", **where)
    else:
        tally.block["matched"] += 1
    # payload
    if not payload_digest:
        tally.payload["absent"] += 1
    elif rec_type == "revisit":
        tally.payload["revisit (names the original's payload)"] += 1
    elif not payload_failed:
        tally.payload["matched as stored"] += 1
        if chunked:
            ledger.info(CHECK, "payload-digest-form", f"{record_id}: WARC-Payload-Digest matches "
                        "the payload as stored (chunked)", **where)
    elif dechunked is not None and digest_matches(payload_digest, dechunked):
        tally.payload["matched de-chunked"] += 1
        ledger.info(CHECK, "payload-digest-form", f"{record_id}: WARC-Payload-Digest matches "
                    "the de-chunked payload (not the chunked form as stored)", **where)
    else:
        tally.payload["failed"] += 1
        tried = ("neither the payload as stored (chunked) nor the de-chunked payload matches"
                 if chunked else "the payload does not match")
        ledger.finding(CHECK, "payload-digest", f"{rec_type} record {record_id}: "
                       f"WARC-Payload-Digest {payload_digest}: {tried}", **where)


def _revisit_block(slot: Slot, expected: str) -> bool | None:
    """Check a revisit's block digest from its raw bytes (warcio leaves revisits unchecked);
    None when the record's bytes cannot be had alone (a file gzipped as one stream)."""
    if slot.shared or slot.record.length is None:
        return None
    hasher = _hasher(expected)
    if hasher is None:
        return None
    raw = _record_bytes(slot.path, slot.offset, slot.length, slot.gzipped)
    if raw is None:
        return None
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        return False
    block = raw[end + 4: end + 4 + slot.record.length]
    if len(block) != slot.record.length:
        return False
    hasher.update(block)
    return digest_matches(expected, hasher)


def _record_bytes(path: Path, offset: int, length: int, gzipped: bool) -> bytes | None:
    with open_span(path, offset, offset + length) as fh:
        fh.seek(offset)
        data = fh.read(min(length, 4 * _REVISIT_MAX))
    if not gzipped:
        return data
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflater.decompress(data, _REVISIT_MAX)
    except zlib.error:
        return None
    return out
