"""The `warcpack` command line: each command is a few lines over a library call of the same name."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from warcpack.limits import Limits

app = typer.Typer(
    help="Archive web pages losslessly as WARC and package them as a research corpus.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True, soft_wrap=True)  # file names in messages stay whole

# A string, not a Path: a URL given by mistake must reach the store's own check whole (a Path
# would turn s3://bucket/warcs into a local folder named "s3:").
StoreOpt = typer.Option("warcs", "--store", "-s", help="The WARC store folder.")
ReadStoreOpt = typer.Option(
    "warcs", "--store", "-s", help="The WARC store: a folder, or a URL read through fsspec "
    "(s3://bucket/warcs, gs://..., https://...; read-only; its backend comes with the "
    "extra s3, gcs or azure: pip install 'warcpack\\[s3]').")

TextModeOpt = typer.Option(
    "accurate", help="How HTML main text is read: accurate (two trafilatura passes reconciled) "
    "| fast (one pass: about half the extraction's cost, a little less precise).")
# The main per-record limits (see warcpack.limits; None: the default). A hit is a counted skip.
MaxRecordBytesOpt = typer.Option(
    None, help="Largest decoded payload of a record, in bytes (default 100,000,000).")
MaxHtmlCharsOpt = typer.Option(
    None, help="Most characters of a page handed to a parser (default 20,000,000).")
MaxDepthOpt = typer.Option(None, help="Deepest element nesting of a page (default 500).")
MaxElementsOpt = typer.Option(None, help="Most elements in a page (default 100,000).")
ExtractionSecondsOpt = typer.Option(
    None, help="Wall-clock seconds to extract one record (default 300; 0: no limit). A build "
    "where it fires is marked not reproducible.")


def _limits(**given: int | float | None) -> Limits:
    """The default limits with the ones given on the command line; exit 2 on a bad value."""
    from dataclasses import replace

    from warcpack.limits import DEFAULT_LIMITS

    try:
        return replace(DEFAULT_LIMITS, **{k: v for k, v in given.items() if v is not None})
    except ValueError as exc:
        _fail(str(exc), 2)
    raise AssertionError("unreachable")


def _check_text_options(text_policy: str, text_mode: str) -> None:
    """Exit 2 on a text policy or text mode build and release do not know."""
    from warcpack.textmode import TEXT_MODES

    if text_policy not in ("all", "redistributable"):
        _fail("--text-policy must be 'all' or 'redistributable'", 2)
    if text_mode not in TEXT_MODES:
        _fail(f"--text-mode must be {' or '.join(repr(m) for m in TEXT_MODES)}", 2)


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


# --- capture (store) ---------------------------------------------------------------------------
@app.command()
def capture(
    urls: list[str] = typer.Argument(..., help="URLs to fetch."),
    store: str = StoreOpt,
    allow_private: bool = typer.Option(
        False, help="Allow private, loopback and link-local addresses (refused by default)."
    ),
    delay: float = typer.Option(1.0, help="Seconds between requests to the same host."),
    timeout: float = typer.Option(30.0, help="Seconds to wait for a connection or data."),
    max_size: int = typer.Option(
        50_000_000,
        help="Largest response body to read, in bytes; a longer one is stored cut at this size, "
        "marked WARC-Truncated, and reported as truncated.",
    ),
    max_redirects: int = typer.Option(10, help="Redirect hops to follow."),
    ignore_robots: bool = typer.Option(False, help="Do not fetch or obey robots.txt."),
    user_agent: str = typer.Option(
        None, help="User-Agent to send, e.g. 'warcpack/0.1 (+mailto:you@example.org)' "
        "(default: warcpack and its version with a placeholder contact URL)."
    ),
) -> None:
    """Fetch pages over HTTP(S) and append them to the store as WARC records.

    One new WARC file per call, committed at the end; exit 1 if a URL failed or was truncated.
    """
    from warcpack.store.capture import CaptureError
    from warcpack.store.capture import capture as do_capture

    try:
        report = do_capture(
            urls, store, allow_private=allow_private, delay=delay, timeout=timeout,
            max_size=max_size, max_redirects=max_redirects, respect_robots=not ignore_robots,
            user_agent=user_agent,
        )
    except CaptureError as exc:
        _fail(str(exc))
    report.print(err)
    if report.failed:
        raise typer.Exit(1)


# --- ingest (store) ----------------------------------------------------------------------------
@app.command()
def ingest(
    paths: list[Path] = typer.Argument(
        ..., help="WARC/ARC files, or one snapshot file with --url."
    ),
    store: str = StoreOpt,
    url: str = typer.Option(None, help="Store PATH as a snapshot (resource record) of this URI."),
    captured: str = typer.Option(None, help="Capture time of the snapshot (ISO 8601)."),
    content_type: str = typer.Option(
        None, help="Content-Type of the snapshot (guessed if absent)."
    ),
    publisher: str = typer.Option(None, help="Publisher of the snapshot, kept in its record."),
    site: str = typer.Option(None, help="Host name of the snapshot's site, kept in its record."),
    accept_damaged: bool = typer.Option(
        False, help="Take a damaged WARC whole and list its damaged records in the store log."
    ),
) -> None:
    """Bring WARC files (or a local snapshot) into the store, byte for byte."""
    from warcpack.store.ingest import IngestError, ingest_snapshot
    from warcpack.store.ingest import ingest as do_ingest

    try:
        if url is not None:
            if len(paths) != 1 or captured is None:
                _fail("a snapshot needs exactly one FILE, --url and --captured", 2)
            ref = ingest_snapshot(
                paths[0], store, url=url, captured=captured, content_type=content_type,
                publisher=publisher, site=site,
            )
            err.print(f"stored {paths[0]} as {ref.warc_file} at offset {ref.offset}")
            return
        report = do_ingest(paths, store, accept_damaged=accept_damaged)
    except IngestError as exc:
        _fail(str(exc))
    report.print(err)


# --- verify (store) ----------------------------------------------------------------------------
@app.command()
def verify(store: str = ReadStoreOpt) -> None:
    """Check the store: every file against its checksum, the index against the files, digests."""
    from warcpack.store.verify import verify as do_verify

    report = do_verify(store)
    report.print(err)
    if not report.ok:
        raise typer.Exit(1)


# --- build -------------------------------------------------------------------------------------
@app.command()
def build(
    store: str = ReadStoreOpt,
    out: Path = typer.Option(Path("corpus"), "--out", "-o", help="Output folder of the corpus."),
    workers: int = typer.Option(
        0, help="Worker processes (local engine), or tasks at once (ray); 0: one per core."
    ),
    text_policy: str = typer.Option(
        "all", help="Which rows carry text in the 'text' config: all | redistributable."
    ),
    records: str = typer.Option(
        None, "--records", help="Build only the records a CSV or parquet table (a file or a "
        "URL) names by (warc_file, offset, length), e.g. a Common Crawl columnar index query "
        "result."
    ),
    engine: str = typer.Option("local", help="Where work units run: local | ray."),
    address: str = typer.Option(
        None, help="Ray cluster to run on (ray engine; default: $RAY_ADDRESS, else a new local "
        "Ray instance)."
    ),
    cache: Path = typer.Option(
        None, help="Folder of the result cache (default: STORE/.cache; none for a store at a "
        "URL): a rebuild extracts only records it has not seen."
    ),
    use_cache: bool = typer.Option(
        True, "--use-cache/--no-cache", help="Reuse earlier results (--no-cache: extract "
        "everything again; an interrupted build still resumes)."
    ),
    text_mode: str = TextModeOpt,
    max_record_bytes: int = MaxRecordBytesOpt,
    max_html_chars: int = MaxHtmlCharsOpt,
    max_depth: int = MaxDepthOpt,
    max_elements: int = MaxElementsOpt,
    extraction_seconds: float = ExtractionSecondsOpt,
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Normalise every page of the store into a validated JSONL corpus and a HF dataset.

    Writes OUT atomically (an empty folder or a previous build); exit 1 if a record gave a row
    the schema refuses (it is listed with its WARC file and offset; every other row is written).
    A build killed at any point resumes when run again.
    """
    _check_text_options(text_policy, text_mode)
    if workers < 0:
        _fail("--workers must be 0 (one per core) or more", 2)
    limits = _limits(max_record_bytes=max_record_bytes, max_html_chars=max_html_chars,
                     max_depth=max_depth, max_elements=max_elements,
                     extraction_seconds=extraction_seconds)
    if engine == "local":  # its worker processes get ready while the rest is imported
        from warcpack.engines.forkserver import prestart

        prestart(workers or None)
    from warcpack.build import BuildError
    from warcpack.build import build as do_build
    from warcpack.write.parquet import forgo_pandas

    forgo_pandas()  # this process ends with the build

    try:
        summary = do_build(
            store, out, workers=workers or None, text_policy=text_policy, progress=progress,
            records=records, engine=engine, address=address, cache=cache, use_cache=use_cache,
            limits=limits, text_mode=text_mode,
        )
    except BuildError as exc:
        _fail(str(exc))
    summary.print(err)
    if not summary.ok:
        _fail(f"{summary.error_count} records gave no valid row (listed above and in "
              f"{out / 'build-summary.json'}); the corpus holds every other row")


# --- release -----------------------------------------------------------------------------------
@app.command()
def release(
    version: str = typer.Argument(..., help="Semantic version of the release, e.g. 1.0.0."),
    store: str = ReadStoreOpt,
    out: Path = typer.Option(
        Path("releases"), "--out", "-o",
        help="Releases folder: the release goes to OUT/VERSION, its entry to OUT/CHANGELOG.md.",
    ),
    workers: int = typer.Option(0, help="Worker processes (0: one per core)."),
    text_policy: str = typer.Option(
        "all", help="Which rows carry text in the 'text' config: all | redistributable."
    ),
    text_mode: str = TextModeOpt,
    max_record_bytes: int = MaxRecordBytesOpt,
    max_html_chars: int = MaxHtmlCharsOpt,
    max_depth: int = MaxDepthOpt,
    max_elements: int = MaxElementsOpt,
    extraction_seconds: float = ExtractionSecondsOpt,
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Build the store as release VERSION: OUT/VERSION with its release.json, and a CHANGELOG entry.

    VERSION must be greater than every release in OUT; a release is never replaced.
    """
    from warcpack.release import ReleaseError
    from warcpack.release import release as do_release

    _check_text_options(text_policy, text_mode)
    limits = _limits(max_record_bytes=max_record_bytes, max_html_chars=max_html_chars,
                     max_depth=max_depth, max_elements=max_elements,
                     extraction_seconds=extraction_seconds)
    try:
        report = do_release(version, store, out, workers=workers or None,
                            text_policy=text_policy, progress=progress,
                            limits=limits, text_mode=text_mode)
    except ReleaseError as exc:
        _fail(str(exc))
    report.print(err)


# --- rebuild -----------------------------------------------------------------------------------
@app.command()
def rebuild(
    manifest: Path = typer.Argument(..., help="A release's release.json."),
    store: str = ReadStoreOpt,
    out: Path = typer.Option(..., "--out", "-o", help="Folder to rebuild into (new or a build)."),
    workers: int = typer.Option(0, help="Worker processes (0: one per core)."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Rebuild a release from its WARC files and check every output hash.

    Exit 0 when identical, 1 when files differ (each is listed), 2 when it cannot run.
    """
    from warcpack.release import RebuildError, load_manifest, print_versions, version_differences
    from warcpack.release import rebuild as do_rebuild

    try:
        loaded = load_manifest(manifest)
        print_versions(version_differences(loaded), str(loaded["release"]), err)
        report = do_rebuild(manifest, store, out, workers=workers or None, progress=progress)
    except RebuildError as exc:
        _fail(str(exc), 2)
    report.print(_stdout())
    if not report.identical:
        raise typer.Exit(1)


# --- diff --------------------------------------------------------------------------------------
@app.command()
def diff(
    old: Path = typer.Argument(..., help="The older build or release folder."),
    new: Path = typer.Argument(..., help="The newer build or release folder."),
    json_: bool = typer.Option(False, "--json", help="Print the diff as JSON."),
) -> None:
    """Rows added, removed and changed (with the changed fields) between two builds or releases.

    Rows are matched by id. Exit 0 when no row differs, 1 when some do, 2 on error (as diff(1)).
    """
    import json

    from warcpack.diff import DiffError
    from warcpack.diff import diff as do_diff

    try:
        result = do_diff(old, new)
    except DiffError as exc:
        _fail(str(exc), 2)
    if json_:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        result.print(_stdout())
    if not result.identical:
        raise typer.Exit(1)


# --- history -----------------------------------------------------------------------------------
@app.command()
def history(
    url: str = typer.Argument(..., help="The page's URL, exactly as captured."),
    store: str = ReadStoreOpt,
    json_: bool = typer.Option(False, "--json", help="Print the history as JSON."),
) -> None:
    """Every capture of a page, its dates and revisions, and text diffs between revisions.

    For each capture: time, record type (response / revisit), HTTP status, published and modified
    dates and the revision it belongs to; then a unified diff of the text of each revision
    against the previous one.
    """
    import json

    from warcpack.history import HistoryError
    from warcpack.history import history as do_history

    try:
        result = do_history(url, store)
    except HistoryError as exc:
        _fail(str(exc))
    if json_:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        result.print(_stdout())
    if not result.captures:
        _fail(f"no capture of {url} in the store {store}")


# --- audit -------------------------------------------------------------------------------------
@app.command()
def audit(
    out: Path = typer.Argument(..., help="A release folder (with release.json) or a build folder."),
    store: str = ReadStoreOpt,
    json_report: Path = typer.Option(
        None, "--json", help="Write the full report (every finding and note) to this JSON file."
    ),
    html_report: Path = typer.Option(
        None, "--html", help="Write a one-page HTML report to this file."
    ),
    reextract: str = typer.Option(
        "all", help="Re-extract the records of 'all' rows, or of N rows chosen reproducibly "
        "(seeded by the manifest's sha256)."
    ),
) -> None:
    """Prove the corpus comes from the store's WARC bytes, unchanged, with nothing added or dropped.

    Checks fixity, provenance, completeness, outputs and licences; each finding names its file,
    byte offset or row. Exit 0 when clean (notes allowed), 1 on any finding, 2 when it cannot run.
    """
    from warcpack.audit import AuditError
    from warcpack.audit import audit as do_audit

    rows: int | None = None
    if reextract != "all":
        try:
            rows = int(reextract)
        except ValueError:
            _fail(f"--reextract must be 'all' or a number of rows, not {reextract!r}", 2)
        if rows is not None and rows < 0:
            _fail("--reextract must be 'all' or a number of rows (0 or more)", 2)
    try:
        report = do_audit(out, store, reextract_rows=rows, json_report=json_report,
                          html_report=html_report)
    except AuditError as exc:
        _fail(str(exc), 2)
    except OSError as exc:  # e.g. the report cannot be written there
        _fail(f"{exc.filename or out}: {exc.strerror or exc}", 2)
    report.print(_stdout())
    if not report.clean:
        raise typer.Exit(1)


# --- export ------------------------------------------------------------------------------------
export_app = typer.Typer(
    help="Package the store or a release in a standard format (WACZ, BagIt).",
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")


@export_app.command("wacz")
def export_wacz(
    out: Path = typer.Argument(..., help="The .wacz file to write."),
    store: str = ReadStoreOpt,
    release: Path = typer.Option(
        None, help="Package only this release's WARC files (its folder or release.json), with "
        "its rows as the pages list."
    ),
    title: str = typer.Option(None, help="Title of the package (datapackage.json)."),
) -> None:
    """Write a WACZ 1.1.1 package of the store for replay tools (ReplayWeb.page, pywb).

    The WARC files byte for byte, a CDXJ index, the pages list, and datapackage.json with the
    sha256 of every file. The same store gives the same bytes.
    """
    from warcpack.export import ExportError
    from warcpack.export import export_wacz as do_export

    try:
        report = do_export(out, store, release=release, title=title)
    except ExportError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{exc.filename or out}: {exc.strerror or exc}")
    report.print(err)


@export_app.command("bag")
def export_bag(
    out: Path = typer.Argument(..., help="The bag folder to write (new or empty)."),
    store: str = ReadStoreOpt,
    release: Path = typer.Option(
        None, help="The release folder (default: the latest release in ./releases)."
    ),
) -> None:
    """Write a release and its WARC files as a BagIt bag (checked with `bagit.py --validate`).

    Bagging-Date is the release's latest capture day, so the same release gives the same bag.
    """
    from warcpack.export import ExportError
    from warcpack.export import export_bag as do_export

    try:
        report = do_export(out, store, release=release)
    except ExportError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{exc.filename or out}: {exc.strerror or exc}")
    report.print(err)


def _stdout() -> Console:
    """Standard output, for results (errors and progress go to standard error)."""
    return Console(soft_wrap=True)

if __name__ == "__main__":
    app()
