"""Results of earlier builds, kept so a rebuild extracts only what is new, and an interrupted
build resumes where it stopped.

One SQLite database (by default `<store>/.cache/extract.sqlite`), written in transactions by the
build's driver process only; workers never open it. Two tables:

- `records`: the outcome of one record (its finished row as a JSON line, or why it gives none),
  under its *record key*: sha256 of the extractor fingerprint, the record's decoded payload and
  every other input of extraction and of the row: URL, WARC-Date, WARC type, HTTP status and
  headers (charset, Last-Modified, Content-Language...), Content-Type, the store's hints, the
  WARC headers, the payload digest and the record's place in the store (file, offset, length,
  record id; for a revisit, the record it refers to). A record whose key is unchanged gives the
  same bytes, so a cached build and a fresh one are byte-identical.
- `units`: a finished work unit, under a hash of the fingerprint, the unit's file and range, the
  file's sha256, size and mtime (and, for a unit holding revisits, the whole store's manifest):
  the unit's record keys and the store's own skips, in file order. A unit found here is not read
  at all; committing a unit is the build's progress record.

The *fingerprint* covers everything else extraction depends on: warcpack's version and a hash
of its source, the versions of every library that shapes the output (and of Python), the site
config, the limits, the text mode, the row schema version and which extract function runs.
Any change starts afresh. Outcomes that depend on the machine (a timeout) or may be transient
(an extractor error) are never cached. After a successful build, entries of other
fingerprints are removed, so the cache stays about the size of one compressed corpus.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from warcpack.limits import DEFAULT_LIMITS, Limits
from warcpack.record import SourceRecord
from warcpack.store.location import Place, file_identity
from warcpack.textmode import ACCURATE
from warcpack.write.jsonl import loads
from warcpack.write.spool import Spooled
from warcpack.write.summary import Skipped

CACHE_DIR = ".cache"  # inside the store
CACHE_FILE = "extract.sqlite"
UNCACHED_REASONS = frozenset({"timeout", "extract-error"})  # machine-dependent or transient
_FORMAT = "1"  # bump when the tables change
_CHUNK = 500  # keys per SELECT ... IN (...)

Outcome = Spooled | Skipped


# --- fingerprint -----------------------------------------------------------------------------


def fingerprint_parts(limits: Limits = DEFAULT_LIMITS, text_mode: str = ACCURATE
                      ) -> dict[str, Any]:
    """Everything besides the record itself that the rows depend on, by name."""
    from warcpack import __version__
    from warcpack.installation import dependency_versions, site_config_sha256, source_sha256
    from warcpack.row import schema_version

    return {
        "cache_format": _FORMAT,
        "warcpack": __version__,
        "source_sha256": source_sha256(),
        "dependencies": dependency_versions(),
        "site_config_sha256": site_config_sha256(),
        "limits": asdict(limits),
        "text_mode": text_mode,
        "schema_version": schema_version(),
        "extract": extract_function(),
    }


def extract_function() -> str:
    """Which extract function runs: the default, or one put in its place (a test, a plug-in).
    Read without importing the extractors (seconds): never imported, it is the default."""
    module = sys.modules.get("warcpack.extract")
    function = getattr(module, "extract", None)
    if function is None:
        return "warcpack.extract.extract"
    return f"{function.__module__}.{function.__qualname__}"


def fingerprint_of(parts: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def fingerprint(limits: Limits = DEFAULT_LIMITS, text_mode: str = ACCURATE) -> str:
    """The extractor fingerprint of this process with these settings (see the module
    docstring)."""
    return fingerprint_of(fingerprint_parts(limits, text_mode))


@cache
def process_fingerprint(limits: Limits = DEFAULT_LIMITS, text_mode: str = ACCURATE
                        ) -> tuple[str, str]:
    """(fingerprint, its parts as JSON) of this process, computed once per limits: a worker
    compares it with the driver's before running a unit (a cluster node with other versions
    must not add its rows to the build)."""
    parts = fingerprint_parts(limits, text_mode)
    return fingerprint_of(parts), json.dumps(parts, sort_keys=True)


def record_key(fp: str, rec: SourceRecord) -> str:
    """The cache key of one record: every input of its row (see the module docstring)."""
    ref, refers = rec.ref, rec.refers_to
    fields = [
        ref.warc_file, ref.offset, ref.length, ref.record_id, rec.warc_type, rec.url,
        rec.warc_date, rec.payload_digest, rec.content_type, rec.http_status,
        rec.http_headers, rec.warc_headers, sorted(rec.hints.items()),
        None if refers is None else [refers.warc_file, refers.offset, refers.length,
                                     refers.record_id],
    ]
    digest = hashlib.sha256(fp.encode("ascii"))
    digest.update(json.dumps(fields).encode("ascii"))  # ensure_ascii: any header text is safe
    digest.update(b"\n")
    digest.update(rec.body)
    return digest.hexdigest()


def cacheable(outcome: Outcome) -> bool:
    return not (isinstance(outcome, Skipped) and outcome.reason in UNCACHED_REASONS)


# --- the database ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitEntry:
    """A cached unit: how many records the store handed over, and its outcomes in file order."""

    records: int
    outcomes: list[tuple[str | None, Outcome]]  # (record key or None for a store skip, outcome)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, file TEXT NOT NULL, offset INTEGER NOT NULL,
    url TEXT, captured TEXT, reason TEXT, detail TEXT, line BLOB);
CREATE INDEX IF NOT EXISTS records_at ON records (fingerprint, file, offset);
CREATE TABLE IF NOT EXISTS memo (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units (
    key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, records INTEGER NOT NULL,
    items BLOB NOT NULL);
"""


class CacheError(Exception):
    """The cache folder cannot be used (not writable, not a folder)."""


def _row_values(outcome: Outcome) -> tuple[Any, ...]:
    if isinstance(outcome, Spooled):
        return (outcome.url, outcome.order[0], None, None, zlib.compress(outcome.line, 1))
    return (None, None, outcome.reason, outcome.detail, None)


# A record's key and what `_outcome` reads back, in its parameters' order.
_OUTCOME_COLUMNS = "key, file, offset, url, captured, reason, detail, line"


def _outcome(file: str, offset: int, url: str | None, captured: str | None,
             reason: str | None, detail: str | None, line: bytes | None) -> Outcome:
    if reason is not None:
        return Skipped(file, offset, reason, detail or "")
    assert url is not None and captured is not None and line is not None
    return Spooled(url, (captured, file, offset), zlib.decompress(line))


class ResultCache:
    """The cache database, open in the driver for one build."""

    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(f"cannot create the cache folder {path.parent}: {exc}") from None
        try:
            self._db = self._connect()
        except sqlite3.OperationalError as exc:  # locked, read-only, unreachable: leave it be
            raise CacheError(f"cannot use the cache {path}: {exc}") from None
        except sqlite3.DatabaseError:
            # Not a database, or a damaged one: a cache can always be rebuilt, so start afresh.
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=60)
        try:
            db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;" + _SCHEMA)
            found = db.execute("SELECT value FROM meta WHERE name = 'format'").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        if found is None:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (_FORMAT,))
        elif found[0] != _FORMAT:
            db.executescript("DELETE FROM records; DELETE FROM units; DELETE FROM memo;")
            db.execute("UPDATE meta SET value = ? WHERE name = 'format'", (_FORMAT,))
        return db

    def close(self) -> None:
        self._db.close()

    def remove(self) -> None:
        """Close and delete the database (a build's private resume cache, once committed)."""
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    # --- reading ----------------------------------------------------------------------------
    def has_unit(self, key: str) -> bool:
        return self._db.execute("SELECT 1 FROM units WHERE key = ?", (key,)).fetchone() is not None

    def unit(self, key: str) -> UnitEntry | None:
        """A finished unit with every one of its records' outcomes, or None."""
        found = self._db.execute("SELECT records, items FROM units WHERE key = ?",
                                 (key,)).fetchone()
        if found is None:
            return None
        records, blob = found
        items = loads(zlib.decompress(blob))
        keys = [item[1] for item in items if item[0] == "k"]
        outcomes = self._by_key(keys)
        if len(outcomes) != len(set(keys)):
            return None  # records pruned or lost: read the unit again
        result: list[tuple[str | None, Outcome]] = []
        for item in items:
            if item[0] == "k":
                result.append((item[1], outcomes[item[1]]))
            else:
                result.append((None, Skipped(*item[1:])))
        return UnitEntry(records, result)

    def _by_key(self, keys: list[str]) -> dict[str, Outcome]:
        out: dict[str, Outcome] = {}
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, *values in self._db.execute(
                    f"SELECT {_OUTCOME_COLUMNS} FROM records WHERE key IN ({marks})", chunk):
                out[key] = _outcome(*values)
        return out

    def known(self, fp: str, file: str, start: int, stop: int | None) -> dict[str, Outcome]:
        """Cached outcomes of the records of `file` in [start, stop), by record key: a unit that
        must be read again (its file range was cut differently, or it holds a revisit and the
        store grew) still extracts only the records whose keys are not among them."""
        query = (f"SELECT {_OUTCOME_COLUMNS} FROM records "
                 "WHERE fingerprint = ? AND file = ? AND offset >= ?")
        params: list[Any] = [fp, file, start]
        if stop is not None:
            query += " AND offset < ?"
            params.append(stop)
        return {key: _outcome(*values) for key, *values in self._db.execute(query, params)}

    def recall(self, name: str) -> Any:
        """The value `memo` keeps under `name`, or None."""
        found = self._db.execute("SELECT value FROM memo WHERE name = ?", (name,)).fetchone()
        return None if found is None else json.loads(found[0])

    def memo(self, name: str, compute: Callable[[], Any]) -> Any:
        """A JSON value derived from versions alone (`name` must say which), computed once."""
        found = self.recall(name)
        if found is not None:
            return found
        value = compute()
        self._db.execute("INSERT OR REPLACE INTO memo VALUES (?, ?)", (name, json.dumps(value)))
        return value

    # --- writing ----------------------------------------------------------------------------
    def put(self, key: str, fp: str, records: int,
            outcomes: Iterable[tuple[str | None, Outcome]]) -> None:
        """Commit one finished unit and its records' outcomes, in one transaction. A unit with
        an outcome that must not be cached keeps its other records but is not marked done."""
        items: list[list[Any]] = []
        rows: list[tuple[Any, ...]] = []
        complete = True
        for record_key_, outcome in outcomes:
            if record_key_ is None:
                assert isinstance(outcome, Skipped)
                items.append(["s", outcome.warc_file, outcome.offset, outcome.reason,
                              outcome.detail])
            elif cacheable(outcome):
                items.append(["k", record_key_])
                file, offset = _place(outcome)
                rows.append((record_key_, fp, file, offset, *_row_values(outcome)))
            else:
                complete = False
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if complete:
                blob = zlib.compress(json.dumps(items, ensure_ascii=False).encode("utf-8"), 1)
                self._db.execute("INSERT OR REPLACE INTO units VALUES (?, ?, ?, ?)",
                                 (key, fp, records, blob))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def prune(self, fp: str) -> None:
        """Drop the entries of every other fingerprint (older versions, other settings)."""
        self._db.execute("BEGIN IMMEDIATE")
        self._db.execute("DELETE FROM records WHERE fingerprint != ?", (fp,))
        self._db.execute("DELETE FROM units WHERE fingerprint != ?", (fp,))
        self._db.execute("COMMIT")

    def counts(self) -> tuple[int, int]:
        """(units, records) held, for tests and reports."""
        units = self._db.execute("SELECT count(*) FROM units").fetchone()[0]
        records = self._db.execute("SELECT count(*) FROM records").fetchone()[0]
        return units, records


def _place(outcome: Outcome) -> tuple[str, int]:
    if isinstance(outcome, Spooled):
        return outcome.order[1], outcome.order[2]
    return outcome.warc_file, outcome.offset


def unit_key(fp: str, unit_id: str, file_facts: str, store_digest: str | None) -> str:
    """Key of a finished unit: the fingerprint, the unit, its file's facts, and for a unit
    holding revisits the digest of the whole store (its rows may depend on any file)."""
    text = f"{fp}\n{unit_id}\n{file_facts}\n{store_digest or ''}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_facts(root: Place, name: str, sha256: str) -> str:
    """What identifies a committed file's bytes: its sha256 from SHA256SUMS, and its size and
    mtime (an object's ETag), so a file changed behind the store's back is read again, never
    served stale."""
    identity = file_identity(root / name)
    return f"{sha256} {identity}" if identity is not None else f"{sha256} missing"
