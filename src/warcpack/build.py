"""`warcpack build`: every page of a store, extracted, validated and written as one corpus.

Two passes. First, records stream from the store in work units (see `plan`); each unit is read,
extracted and validated by a worker process, and its rows go to a spool on disk (see
`write.spool`). Then the spool is read back by URL in capture order, the captures of each URL
are folded into revisions (see `revisions`), and the rows are written in that order: by URL
(code point order), then revision. Nothing in the output depends on the number of workers, the
output path, the clock, the time zone or the locale, only on the store, the config and the tool
and library versions.

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
from warcpack.revisions import RevisionStats, assign, row_order
from warcpack.row import RowError, Skip, make_row, schema_version
from warcpack.store import Store, StoreError
from warcpack.store.manifest import manifest_lines
from warcpack.write.corpus import (
    SHARD_ROWS,
    TEXT_POLICIES,
    CorpusWriter,
    prepare,
    writer_versions,
)
from warcpack.write.outdir import Output, OutputError
from warcpack.write.spool import RowSpool, Spooled
from warcpack.write.summary import BuildSummary, Skipped

__all__ = ["BuildError", "BuildSummary", "build", "process", "run_unit"]

SPOOL = ".rows.sqlite"  # inside the staging folder; deleted before the commit


class BuildError(Exception):
    """The build cannot start or go on (missing store, unusable output folder, ...)."""


@dataclass
class UnitResult:
    """What one work unit gave, in file order."""

    records: int  # records the store handed over (rows + skips)
    items: list[Spooled | Skipped]


def process(rec: SourceRecord) -> Spooled | Skipped:
    """One record to its validated row (one capture, revision 1), or to the reason it gives
    none. The row is checked to be writable exactly here, in the worker."""
    from warcpack.extract import extract

    where = (rec.ref.warc_file, rec.ref.offset)
    result = extract(rec)  # never raises: a failing page comes back as Skip("extract-error")
    if isinstance(result, Skip):
        return Skipped(*where, result.reason, result.detail)
    try:
        row = make_row(rec, result)
        return Spooled(row["url"], row_order(row), prepare(row).line)
    except RowError as exc:
        return Skipped(*where, "invalid-row", "; ".join(exc.problems))
    except Exception as exc:  # e.g. an unparsable WARC-Date or an Extracted of the wrong shape
        return Skipped(*where, "invalid-row", f"{type(exc).__name__}: {exc}")


def run_unit(store: Store, unit: WorkUnit) -> UnitResult:
    """Read, extract and prepare every record of one unit."""
    items: list[Spooled | Skipped] = []
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
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("records"), _Rate(), TimeRemainingColumn(), console=console, transient=True,
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


def _selected(manifest: dict[str, str], files: list[str] | None,
              store_root: Path) -> dict[str, str]:
    """The committed files to build from: all, or exactly `files` (each must be committed)."""
    if files is None:
        return manifest
    missing = sorted(set(files) - set(manifest))
    if missing:
        raise BuildError(f"{missing[0]} is not a committed file of the store {store_root}"
                         + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    return {name: manifest[name] for name in files}


def build(
    store: Path | Store,
    out: Path,
    *,
    workers: int | None = None,
    text_policy: str = "all",
    progress: bool = True,
    shard_rows: int = SHARD_ROWS,
    unit_records: int = MAX_RECORDS,
    files: list[str] | None = None,
) -> BuildSummary:
    """Build the corpus of `store` into `out` and return what was done.

    `workers`: processes (default one per core; 1 runs in this process). `text_policy`: "all"
    (every row in the text config) or "redistributable" (only rows whose licence allows it; the
    metadata config keeps every row). `shard_rows` and `unit_records` size the output shards and
    the work units; neither changes which rows are written. `files`: build from these committed
    WARC files only (default: every one), as a rebuild of an older release does.
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
        manifest = _selected(opened.manifest(), files, opened.root)
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
            task = bar.add_task("extracting", total=sum(u.records for u in units))
        writer = CorpusWriter(output.staging, summary, shard_rows)
        spool = RowSpool(output.staging / SPOOL)
        stack.callback(spool.close)
        results = _results(opened, units, pool, window=2 * processes)
        try:
            for unit, result in zip(units, results, strict=True):
                summary.records_seen += result.records
                for item in result.items:
                    if isinstance(item, Skipped):
                        writer.add_skip(item)
                spool.add_all(item for item in result.items if isinstance(item, Spooled))
                if bar is not None:
                    bar.advance(task, unit.records)
        except StoreError as exc:
            raise BuildError(str(exc)) from None
        if bar is not None:
            task = bar.add_task("writing", total=spool.count)
        folded = RevisionStats()
        for row in assign(spool.rows(), folded):
            writer.add_row(prepare(row))
            if bar is not None:
                bar.advance(task, row["captures"])
        spool.close()
        summary.urls, summary.recaptures = folded.urls, folded.recaptures
        writer.finish()
        output.commit()
    summary.out = out
    return summary
