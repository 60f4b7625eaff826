"""The one function every engine runs: a work unit in, its records' outcomes out.

`run_unit` is pure: it reads the unit's records from the store, and for each one either takes
the outcome the driver already knows (cached under the record's key) or extracts, assembles and
validates the row. It writes nothing and keeps nothing, so where it runs (this process, a local
worker, a Ray task on another machine) cannot change what it returns.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from warcpack.cache import Outcome, process_fingerprint, record_key
from warcpack.engines.base import unit_place
from warcpack.limits import DEFAULT_LIMITS, Limits
from warcpack.plan import WorkUnit
from warcpack.record import SkippedRecord, SourceRecord
from warcpack.revisions import row_order
from warcpack.row import RowError, Skip, make_row
from warcpack.store import Store, StoreError
from warcpack.store.location import unreadable
from warcpack.textmode import ACCURATE
from warcpack.write.columns import prepare
from warcpack.write.spool import Spooled
from warcpack.write.summary import Skipped


@dataclass(frozen=True)
class Job:
    """What every unit of one build shares: where the store is (as the workers see it), the
    fingerprint of the driver's extractor, which every worker must match, the limits, how
    main text is read (`warcpack.extract.TEXT_MODES`) and the state of the store's SHA256SUMS
    the driver planned from (a worker that outlives a build, as Ray's do, opens the store
    again when it has grown)."""

    store: str
    fingerprint: str
    limits: Limits = DEFAULT_LIMITS
    text_mode: str = ACCURATE
    store_state: str = ""


@dataclass
class UnitResult:
    """What one work unit gave, in file order."""

    records: int  # records the store handed over (rows + skips)
    outcomes: list[tuple[str | None, Outcome]] = field(default_factory=list)
    extracted: int = 0  # records extracted here (the others were known)

    @property
    def items(self) -> list[Outcome]:
        return [outcome for _, outcome in self.outcomes]


class VersionMismatch(RuntimeError):
    """A worker's extractor differs from the driver's (other versions on a cluster node)."""


def process(rec: SourceRecord, limits: Limits = DEFAULT_LIMITS,
            text_mode: str = ACCURATE) -> Outcome:
    """One record to its validated row (one capture, revision 1), or to the reason it gives
    none. The row is checked to be writable exactly here, in the worker."""
    from warcpack.extract import extract

    where = (rec.ref.warc_file, rec.ref.offset)
    result = extract(rec, limits=limits, text_mode=text_mode)  # a failing page: a Skip
    if isinstance(result, Skip):
        return Skipped(*where, result.reason, result.detail)
    try:
        row = make_row(rec, result)
        return Spooled(row["url"], row_order(row), prepare(row).line)
    except RowError as exc:
        return Skipped(*where, "invalid-row", "; ".join(exc.problems))
    except Exception as exc:  # e.g. an unparsable WARC-Date or an Extracted of the wrong shape
        return Skipped(*where, "invalid-row", f"{type(exc).__name__}: {exc}")


def records_of(store: Store, unit: WorkUnit, limits: Limits = DEFAULT_LIMITS
               ) -> Iterator[SourceRecord | SkippedRecord]:
    """The unit's records: its whole range, or exactly its selected offsets."""
    if unit.offsets is None:
        yield from store.iter_records([unit.file], start=unit.start, stop=unit.stop,
                                      limits=limits)
        return
    for offset in unit.offsets:
        yield from store.iter_records([unit.file], start=offset, stop=offset + 1, limits=limits)


def _read(store: Store, unit: WorkUnit, limits: Limits
          ) -> Iterator[SourceRecord | SkippedRecord]:
    """The unit's records; a failure to fetch the store's bytes (a disk error, a lost network,
    an object store refusing) stops the unit with the place and the cause, never a row."""
    records = records_of(store, unit, limits)
    while True:
        try:
            rec = next(records)
        except StopIteration:
            return
        except StoreError:
            raise
        except Exception as exc:  # OSError, aiohttp's, botocore's...: whatever the backend raises
            raise StoreError(
                f"cannot read {unit_place(unit)} of the store {store.root} "
                f"({unreadable(exc)}); the units finished before are kept: run the "
                "build again to resume") from None
        yield rec


def run_unit(store: Store, unit: WorkUnit, fingerprint: str,
             known: Mapping[str, Outcome] | None = None,
             limits: Limits = DEFAULT_LIMITS, text_mode: str = ACCURATE) -> UnitResult:
    """Read every record of one unit; take known outcomes by record key, extract the rest."""
    known = known or {}
    result = UnitResult(0)
    for rec in _read(store, unit, limits):
        result.records += 1
        if isinstance(rec, SkippedRecord):
            result.outcomes.append((None, Skipped(rec.warc_file, rec.offset, rec.reason,
                                                  rec.detail)))
            continue
        key = record_key(fingerprint, rec)
        outcome = known.get(key)
        if outcome is None:
            outcome = process(rec, limits, text_mode)
            result.extracted += 1
        result.outcomes.append((key, outcome))
    return result


def check_fingerprint(expected: str, limits: Limits = DEFAULT_LIMITS,
                      text_mode: str = ACCURATE) -> None:
    """Refuse to work for a driver whose extractor differs from this process's."""
    mine, parts = process_fingerprint(limits, text_mode)
    if mine != expected:
        raise VersionMismatch(
            "this worker's warcpack, libraries or settings differ from the driver's, so its "
            "rows could differ: install the same versions everywhere. Worker: "
            + json.dumps(json.loads(parts), sort_keys=True)[:2000])


@lru_cache(maxsize=4)
def open_store(root: str, state: str = "") -> Store:
    """The store, opened once per worker process and state of its SHA256SUMS (a store at a URL
    reads it only when opened)."""
    return Store.open(root)


def run_job_unit(job: Job, unit: WorkUnit, known: Mapping[str, Outcome] | None) -> UnitResult:
    """What a worker runs: check the extractor, open the store (once), run the unit."""
    check_fingerprint(job.fingerprint, job.limits, job.text_mode)
    store = open_store(job.store, job.store_state)
    return run_unit(store, unit, job.fingerprint, known, job.limits, job.text_mode)
