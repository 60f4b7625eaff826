"""`warcpack build`: every page of a store, extracted, validated and written as one corpus.

Two passes. First, the store is cut into work units (see `plan`); each unit is read, extracted
and validated by an engine (see `engines`: a local process pool, or Ray), and its rows go to a
spool on disk (see `write.spool`). Then the spool is read back by URL in capture order, the
captures of each URL are folded into revisions (see `revisions`), and the rows are written in
that order: by URL (code point order), then revision. Nothing in the output depends on the
engine, the number of workers, the order units finish in, the cache, the output path, the clock,
the time zone or the locale, only on the store, the config and the tool and library versions.

Every finished unit is committed to the result cache (see `cache`) before its rows are used, so
a build killed at any moment and run again reads only the units it had not finished, and a
rebuild after new captures extracts only the new records.

A record that cannot become a valid row is counted and reported with its file and offset; it
never stops the build and never reaches the output.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from warcpack import __version__
from warcpack.cache import (
    CACHE_DIR,
    CACHE_FILE,
    CacheError,
    Outcome,
    ResultCache,
    file_facts,
    fingerprint,
    unit_key,
)
from warcpack.engines import EngineError, make_engine
from warcpack.engines.unit import Job, UnitResult, process, run_unit
from warcpack.installation import extractor_versions
from warcpack.limits import DEFAULT_LIMITS, Limits
from warcpack.plan import MAX_RECORDS, NOT_IN_STORE, WorkUnit, plan, plan_records
from warcpack.revisions import RevisionStats, assign
from warcpack.row import schema_version
from warcpack.store import Store, StoreError
from warcpack.store.manifest import manifest_lines
from warcpack.textmode import ACCURATE, TEXT_MODES
from warcpack.write import features
from warcpack.write.columns import prepare
from warcpack.write.corpus import SHARD_ROWS, TEXT_POLICIES, CorpusWriter, writer_versions
from warcpack.write.outdir import Output, OutputError
from warcpack.write.parquet import warm_up as warm_up_writers
from warcpack.write.spool import RowSpool, Spooled
from warcpack.write.summary import BuildSummary, Skipped

__all__ = ["BuildError", "BuildSummary", "UnitResult", "build", "process", "run_unit"]

SPOOL = ".rows.sqlite"  # inside the staging folder; deleted before the commit
RESUME = ".resume"  # inside the staging folder: the cache of a build run without one


class BuildError(Exception):
    """The build cannot start or go on (missing store, unusable output folder, ...)."""


class _Rate(ProgressColumn):
    """Records per second (rich's own speed column counts bytes)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} records/s")


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("records"), _Rate(), TimeElapsedColumn(), TextColumn("eta"),
        TimeRemainingColumn(), console=console, transient=True,
    )


# --- inputs -------------------------------------------------------------------------------------


def _open_store(store: Path | str | Store) -> Store:
    if isinstance(store, Store):
        return store
    try:
        return Store.open(store)
    except StoreError as exc:
        raise BuildError(str(exc)) from None


def _check_apart(store: Store, out: Path) -> None:
    """Refuse an output folder that is, or holds, the store: a build replaces what is in OUT."""
    if store.remote:
        return
    store_root = store.root
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


def _manifest_sha256(manifest: dict[str, str]) -> str:
    return hashlib.sha256("".join(manifest_lines(manifest)).encode("utf-8")).hexdigest()


def _plan(store: Store, unit_records: int, names: list[str], records: Path | str | None
          ) -> tuple[list[WorkUnit], list[Skipped], dict[str, object] | None]:
    """(units, listed records the store lacks, the record list's summary entry)."""
    if records is None:
        return plan(store, unit_records, files=names), [], None
    from warcpack.recordlist import RecordListError, read_record_list, selection_sha256

    try:
        units, unlisted = plan_records(store, read_record_list(records), unit_records)
    except RecordListError as exc:
        raise BuildError(str(exc)) from None
    pairs = ((u.file, offset) for u in units for offset in (u.offsets or ()))
    entry: dict[str, object] = {"records": sum(u.records for u in units),
                                "sha256": selection_sha256(pairs)}
    missing = [Skipped(m.warc_file, m.offset, NOT_IN_STORE, m.detail) for m in unlisted]
    return units, missing, entry


def _open_cache(store: Store, output: Output, cache: Path | str | None, use_cache: bool,
                console: Console) -> tuple[ResultCache, bool]:
    """(the result cache, whether it outlives this build). Without a usable cache folder, the
    cache lives in OUT's staging folder: it still lets an interrupted build resume."""
    resume = output.staging / RESUME
    if use_cache and cache is None and store.remote:
        console.print(f"[yellow]note:[/] the store {store.root} is read-only, so this build "
                      "keeps its results only until it ends (use --cache DIR to keep them)")
    elif use_cache:
        folder = Path(cache) if cache is not None else store.root / CACHE_DIR
        path = folder / CACHE_FILE
        try:
            opened = ResultCache(path)
        except CacheError as exc:
            console.print(f"[yellow]note:[/] {exc}; this build keeps its results only until it "
                          "ends (use --cache DIR to keep them)")
        else:
            shutil.rmtree(resume, ignore_errors=True)  # an earlier cache-less build's leftovers
            return opened, True
    try:
        return ResultCache(resume / CACHE_FILE), False
    except CacheError as exc:
        raise BuildError(str(exc)) from None


# --- build -------------------------------------------------------------------------------------


def build(
    store: Path | str | Store,
    out: Path,
    *,
    workers: int | None = None,
    text_policy: str = "all",
    progress: bool = True,
    shard_rows: int = SHARD_ROWS,
    unit_records: int = MAX_RECORDS,
    files: list[str] | None = None,
    records: Path | str | None = None,
    engine: str = "local",
    address: str | None = None,
    cache: Path | str | None = None,
    use_cache: bool = True,
    limits: Limits = DEFAULT_LIMITS,
    text_mode: str = ACCURATE,
) -> BuildSummary:
    """Build the corpus of `store` into `out` and return what was done.

    `workers`: processes (default one per core; 1 runs in this process). `text_policy`: "all"
    (every row in the text config) or "redistributable" (only rows whose licence allows it; the
    metadata config keeps every row). `shard_rows` and `unit_records` size the output shards and
    the work units; neither changes which rows are written. `files`: build from these committed
    WARC files only (default: every one), as a rebuild of an older release does. `records`: a
    CSV or parquet record list (see `recordlist`): build from exactly those records.
    `store`: a store folder, a URL that fsspec reads (`s3://bucket/warcs`: read-only, every
    worker reads it, so a cluster needs no shared filesystem), or an open Store.
    `engine`: "local" or "ray" (`address`: the Ray cluster). `cache`: the folder of the result
    cache (default `<store>/.cache`; none for a store at a URL); `use_cache=False` starts
    afresh and keeps no results beyond this build (an interrupted run still resumes).
    `limits`: per-record bounds (see `warcpack.limits`); other than the defaults, they are
    named in build-summary.json.
    `text_mode`: how HTML main text is read, "accurate" (default) or "fast" (about half the
    extraction's cost; see `warcpack.extract.maintext`); named in the summary when "fast".
    """
    if text_policy not in TEXT_POLICIES:
        raise BuildError(f"unknown text policy {text_policy!r}: use one of {TEXT_POLICIES}")
    if shard_rows < 1 or unit_records < 1:
        raise BuildError("shard_rows and unit_records must be at least 1")
    if records is not None and files is not None:
        raise BuildError("give either a record list or a list of files, not both")
    if text_mode not in TEXT_MODES:
        raise BuildError(f"unknown text mode {text_mode!r}: use one of {TEXT_MODES}")
    if not isinstance(limits, Limits):
        raise BuildError(f"limits must be a warcpack.limits.Limits, not {type(limits).__name__}")
    try:
        runner = make_engine(engine, workers, address)
    except EngineError as exc:
        raise BuildError(str(exc)) from None
    opened = _open_store(store)
    out = Path(out)
    _check_apart(opened, out)
    try:
        whole = opened.manifest()
        manifest = _selected(whole, files, opened.root)
        units, unlisted, listed = _plan(opened, unit_records, sorted(manifest), records)
    except (StoreError, ValueError) as exc:
        raise BuildError(str(exc)) from None
    summary = BuildSummary(
        text_policy=text_policy,
        schema_version=schema_version(),
        tool_version=__version__,
        extractor_versions=extractor_versions(),
        writer_versions=writer_versions(),
        store={"warc_files": len(manifest), "manifest_sha256": _manifest_sha256(manifest)},
        records_list=listed,
        limits=None if limits == DEFAULT_LIMITS else asdict(limits),
        text_mode=None if text_mode == ACCURATE else text_mode,
        units=len(units),
    )
    console = Console(stderr=True)
    try:
        output = Output.open(out, keep=(RESUME,))
    except OutputError as exc:
        raise BuildError(str(exc)) from None
    with output, ExitStack() as stack:
        results, lasting = _open_cache(opened, output, cache, use_cache, console)
        stack.callback(results.close)
        features_yaml = card_features(results)
        spool = RowSpool(output.staging / SPOOL)
        stack.callback(spool.close)
        bar = _progress(console) if progress else None
        if bar is not None:
            stack.enter_context(bar)
            task = bar.add_task("extracting", total=sum(u.records for u in units))

        def done(records: int, outcomes: list[tuple[str | None, Outcome]]) -> None:
            summary.records_seen += records
            spool.add_all(o for _, o in outcomes if isinstance(o, Spooled))
            spool.add_skips((seq, o) for seq, (_, o) in enumerate(outcomes)
                            if isinstance(o, Skipped))
            if bar is not None:
                bar.advance(task, records)

        spool.add_skips((0, skip) for skip in unlisted)
        fp = fingerprint(limits, text_mode)
        store_sha256 = _manifest_sha256(whole)
        facts = {name: file_facts(opened.root, name, whole[name])  # one look per file
                 for name in sorted({u.file for u in units})}
        keys = {u.id: unit_key(fp, u.id, facts[u.file], store_sha256 if u.revisits else None)
                for u in units}
        present = {u.id for u in units if results.has_unit(keys[u.id])}
        cached = [u for u in units if u.id in present]
        todo = [u for u in units if u.id not in present]
        missed: list[WorkUnit] = []

        def take_cached() -> None:
            """The finished units' rows (while the engine runs the others), and the writers'
            warm-up; a unit whose records are gone from the cache runs after all."""
            for unit in cached:
                entry = results.unit(keys[unit.id])
                if entry is None:
                    missed.append(unit)
                else:
                    summary.units_cached += 1
                    done(entry.records, entry.outcomes)
            warm_up_writers()

        def tasks(units: list[WorkUnit]) -> Iterator[tuple[WorkUnit, Mapping[str, Outcome]]]:
            for unit in units:
                yield unit, results.known(fp, unit.file, unit.start, unit.stop)

        job = Job(str(opened.root if opened.remote else opened.root.resolve()), fp, limits,
                  text_mode, store_sha256)
        try:
            for batch, idle in ((todo, take_cached), (missed, None)):
                if not batch:
                    if idle is not None:
                        idle()
                    continue
                for unit, result in runner.run(job, tasks(batch), len(batch), idle):
                    results.put(keys[unit.id], fp, result.records, result.outcomes)
                    summary.records_extracted += result.extracted
                    done(result.records, result.outcomes)
        except (StoreError, EngineError) as exc:
            raise BuildError(str(exc)) from None
        _write(output, summary, spool, shard_rows, bar, features_yaml())
        if lasting:
            results.prune(fp)
            results.close()
        else:
            results.remove()
            shutil.rmtree(output.staging / RESUME, ignore_errors=True)
        output.commit()
    summary.out = out
    return summary


def card_features(results: ResultCache) -> Callable[[], dict[str, list[dict[str, object]]]]:
    """The card's features of each config, kept in the cache under what they derive from.
    Deriving them imports `datasets` (about a second), so when the cache lacks them they are
    derived on a thread while the workers start and run; the returned function waits for them."""
    name = f"features-yaml {features.features_key()}"
    found = results.recall(name)
    if found is not None:
        return lambda: found
    derived: Future[dict[str, list[dict[str, object]]]] = Future()

    def derive() -> None:
        try:
            derived.set_result({c: features.features_yaml(c) for c in features.CONFIGS})
        except BaseException as exc:  # raised again by the caller, in the build's thread
            derived.set_exception(exc)

    threading.Thread(target=derive, name="card-features", daemon=True).start()
    return lambda: results.memo(name, derived.result)


def _write(output: Output, summary: BuildSummary, spool: RowSpool, shard_rows: int,
           bar: Progress | None, features_yaml: dict[str, list[dict[str, object]]]) -> None:
    """The second pass: rows by URL and capture, folded into revisions, into every output."""
    writer = CorpusWriter(output.staging, summary, shard_rows, features_yaml)
    for skip in spool.skips():
        writer.add_skip(skip)
    if bar is not None:
        task = bar.add_task("writing", total=spool.count)
    folded = RevisionStats()
    for row in assign(spool.rows(), folded):
        # A page captured once is written as the worker made it: its line is reused as is.
        line = row.line if row["captures"] == 1 and row["revision"] == 1 else None
        writer.add_row(prepare(row, line))
        if bar is not None:
            bar.advance(task, row["captures"])
    spool.close()
    summary.urls, summary.recaptures = folded.urls, folded.recaptures
    writer.finish()
