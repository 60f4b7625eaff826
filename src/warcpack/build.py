"""`warcpack build`: every page of a store, extracted, validated and written as one corpus.

Records stream from the store in work units (see `plan`); each unit is read, extracted and turned
into written rows by a worker process, and the results come back in (file, offset) order whatever
the number of workers, so the output bytes depend only on the store and the tool versions.
A record that cannot become a valid row is counted and reported with its file and offset; it
never stops the build and never reaches the output.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import islice
from multiprocessing.pool import Pool
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from warcpack import __version__
from warcpack.plan import MAX_RECORDS, WorkUnit, plan
from warcpack.record import SkippedRecord, SourceRecord
from warcpack.row import RowError, Skip, make_row, schema_version
from warcpack.store import Store, StoreError
from warcpack.store.manifest import manifest_lines
from warcpack.write.corpus import (
    SHARD_ROWS,
    TEXT_POLICIES,
    CorpusWriter,
    Prepared,
    prepare,
    writer_versions,
)
from warcpack.write.outdir import Output, OutputError
from warcpack.write.summary import BuildSummary, Skipped

__all__ = ["BuildError", "BuildSummary", "build", "process", "run_unit"]


class BuildError(Exception):
    """The build cannot start or go on (missing store, unusable output folder, ...)."""


@dataclass
class UnitResult:
    """What one work unit gave, in file order."""

    records: int  # records the store handed over (rows + skips)
    items: list[Prepared | Skipped]


def process(rec: SourceRecord) -> Prepared | Skipped:
    """One record to its written row, or to the reason it gives none."""
    from warcpack.extract import extract

    where = (rec.ref.warc_file, rec.ref.offset)
    result = extract(rec)  # never raises: a failing page comes back as Skip("extract-error")
    if isinstance(result, Skip):
        return Skipped(*where, result.reason, result.detail)
    try:
        return prepare(make_row(rec, result))
    except RowError as exc:
        return Skipped(*where, "invalid-row", "; ".join(exc.problems))
    except Exception as exc:  # e.g. an unparsable WARC-Date or an Extracted of the wrong shape
        return Skipped(*where, "invalid-row", f"{type(exc).__name__}: {exc}")


def run_unit(store: Store, unit: WorkUnit) -> UnitResult:
    """Read, extract and prepare every record of one unit."""
    items: list[Prepared | Skipped] = []
    for rec in store.iter_records([unit.file], start=unit.start, stop=unit.stop):
        if isinstance(rec, SkippedRecord):
            items.append(Skipped(rec.warc_file, rec.offset, rec.reason, rec.detail))
        else:
            items.append(process(rec))
    return UnitResult(len(items), items)


# --- running units -------------------------------------------------------------------------------

_worker_store: Store | None = None


def _init_worker(root: str) -> None:
    global _worker_store
    _worker_store = Store.open(root)


def _run_in_worker(unit: WorkUnit) -> UnitResult:
    assert _worker_store is not None
    return run_unit(_worker_store, unit)


def _pool(store: Store, processes: int) -> Pool | None:
    """Worker processes, each with its own Store; None when the build runs in this process."""
    if processes <= 1:
        return None
    return multiprocessing.Pool(processes, _init_worker, (os.fspath(store.root),))


def _results(store: Store, units: list[WorkUnit], pool: Pool | None,
             window: int) -> Iterator[UnitResult]:
    """Unit results in unit order: an ordered imap that keeps at most `window` units in flight,
    so results never pile up in memory when writing is slower than extracting."""
    if pool is None:
        for unit in units:
            yield run_unit(store, unit)
        return
    todo = iter(units)
    pending = deque(pool.apply_async(_run_in_worker, (unit,)) for unit in islice(todo, window))
    while pending:
        result = pending.popleft().get()
        following = next(todo, None)
        if following is not None:
            pending.append(pool.apply_async(_run_in_worker, (following,)))
        yield result


class _Rate(ProgressColumn):
    """Records per second (rich's own speed column counts bytes)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} records/s")


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("building"), BarColumn(), MofNCompleteColumn(), TextColumn("records"),
        _Rate(), TimeRemainingColumn(), console=console, transient=True,
    )


# --- build -------------------------------------------------------------------------------------


def _open_store(store: Path | Store) -> Store:
    if isinstance(store, Store):
        return store
    try:
        return Store.open(store)
    except StoreError as exc:
        raise BuildError(str(exc)) from None


def _check_apart(store_root: Path, out: Path) -> None:
    """Refuse an output folder that is, or holds, the store: a build replaces what is in OUT."""
    store_abs, out_abs = store_root.resolve(), out.resolve()
    if store_abs == out_abs or out_abs in store_abs.parents:
        raise BuildError(f"the output folder {out} must not be or contain the store {store_root}")


def build(
    store: Path | Store,
    out: Path,
    *,
    workers: int | None = None,
    text_policy: str = "all",
    progress: bool = True,
    shard_rows: int = SHARD_ROWS,
    unit_records: int = MAX_RECORDS,
) -> BuildSummary:
    """Build the corpus of `store` into `out` and return what was done.

    `workers`: processes (default one per core; 1 runs in this process). `text_policy`: "all"
    (every row in the text config) or "redistributable" (only rows whose licence allows it; the
    metadata config keeps every row). `shard_rows` and `unit_records` size the output shards and
    the work units; neither changes which rows are written.
    """
    if text_policy not in TEXT_POLICIES:
        raise BuildError(f"unknown text policy {text_policy!r}: use one of {TEXT_POLICIES}")
    if shard_rows < 1 or unit_records < 1:
        raise BuildError("shard_rows and unit_records must be at least 1")
    from warcpack.extract import extractor_versions

    opened = _open_store(store)
    out = Path(out)
    _check_apart(opened.root, out)
    try:
        manifest = opened.manifest()
    except ValueError as exc:
        raise BuildError(str(exc)) from None
    units = plan(opened, unit_records, files=sorted(manifest))
    summary = BuildSummary(
        text_policy=text_policy,
        schema_version=schema_version(),
        tool_version=__version__,
        extractor_versions=dict(extractor_versions()),
        writer_versions=writer_versions(),
        store={
            "warc_files": len(manifest),
            "manifest_sha256": hashlib.sha256(
                "".join(manifest_lines(manifest)).encode("utf-8")).hexdigest(),
        },
    )
    processes = max(1, min(workers or os.cpu_count() or 1, len(units)))
    try:
        output = Output.open(out)
    except OutputError as exc:
        raise BuildError(str(exc)) from None
    # The pool starts before the progress bar's thread: a fork never copies a held lock.
    with output, ExitStack() as stack:
        pool = _pool(opened, processes)
        if pool is not None:
            stack.enter_context(pool)
        bar = _progress(Console(stderr=True)) if progress else None
        if bar is not None:
            stack.enter_context(bar)
            task = bar.add_task("build", total=sum(u.records for u in units))
        writer = CorpusWriter(output.staging, summary, shard_rows)
        results = _results(opened, units, pool, window=2 * processes)
        try:
            for unit, result in zip(units, results, strict=True):
                summary.records_seen += result.records
                for item in result.items:
                    if isinstance(item, Skipped):
                        writer.add_skip(item)
                    else:
                        writer.add_row(item)
                if bar is not None:
                    bar.advance(task, unit.records)
        except StoreError as exc:
            raise BuildError(str(exc)) from None
        writer.finish()
        output.commit()
    summary.out = out
    return summary
