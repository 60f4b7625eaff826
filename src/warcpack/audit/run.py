"""`warcpack audit`: the checks in order, over one scratch database, into one report."""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from warcpack.audit import checks, corpus, figures, fixity, licences, reextract
from warcpack.audit.findings import CHECKS, FINDING, NOTE, Ledger
from warcpack.audit.records import RECORD_INDEXES, RECORDS_TABLE, ReleaseStore, read_records
from warcpack.audit.report import KEEP, AuditReport, CheckResult, write_json
from warcpack.audit.target import AuditError, Target, load_target
from warcpack.release import version_differences
from warcpack.row import schema_version
from warcpack.store.errors import StoreError
from warcpack.store.index import INDEX_NAME
from warcpack.store.location import Place, holds, place_of
from warcpack.store.manifest import MANIFEST_NAME, manifest_lines


def audit(
    out: Path,
    store: Path | str,
    *,
    reextract_rows: int | None = None,
    json_report: Path | None = None,
    html_report: Path | None = None,
) -> AuditReport:
    """Audit the release (or build) in OUT against the WARC store STORE (a folder, or a URL
    that fsspec reads: the bytes are checked where they are kept).

    `reextract_rows`: None re-extracts every row's records; N re-extracts the records of a
    sample of N rows (with all the captures of their URLs), chosen from the manifest's sha256.
    Writes the full JSON report to `json_report` and the HTML page to `html_report` if given.
    Raises AuditError when the audit cannot run.
    """
    if reextract_rows is not None and reextract_rows < 0:
        raise AuditError("the re-extraction sample must be a number of rows (0 or more) or all")
    target = load_target(Path(out))
    for report_path in (json_report, html_report):
        if report_path is not None and Path(report_path).resolve().is_relative_to(
                target.folder.resolve()):
            raise AuditError(f"write the report {report_path} outside {target.folder}: a file "
                             "added to the corpus folder is itself a finding")
    root = _store_root(store)
    results = {name: CheckResult(name) for name in CHECKS}
    with tempfile.TemporaryDirectory(prefix="warcpack-audit-") as tmp:
        db = sqlite3.connect(Path(tmp) / "audit.sqlite", isolation_level=None)
        try:
            db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                             "PRAGMA temp_store=FILE;" + corpus.ROWS_TABLE + RECORDS_TABLE)
            ledger = Ledger(db)
            db.execute("BEGIN")
            report = _run(target, root, db, ledger, results, reextract_rows)
            db.execute("COMMIT")
            if json_report is not None:
                write_json(report, ledger, Path(json_report))
            if html_report is not None:
                from warcpack.audit.html import write_html

                write_html(report, ledger, Path(html_report))
        finally:
            db.close()
    return report


def _store_root(store: Path | str) -> Place:
    """The store's folder, or its URL (read through fsspec, in place)."""
    try:
        root = place_of(store)
    except StoreError as exc:
        raise AuditError(str(exc)) from None
    if not holds(root, MANIFEST_NAME, INDEX_NAME):
        raise AuditError(f"no WARC store at {root}")
    return root


def _run(target: Target, root: Place, db: sqlite3.Connection, ledger: Ledger,
         results: dict[str, CheckResult], sample: int | None) -> AuditReport:
    # outputs: files, then the rows in them
    if target.summary_error:
        ledger.finding("outputs", "summary-unreadable", target.summary_error,
                       file="build-summary.json")
    files_checked = corpus.check_files(target, ledger)
    validate = target.schema_version == schema_version()
    if not validate:
        results["outputs"].skipped.append(
            f"rows against the schema: the {target.manifest_name} names row schema "
            f"{target.schema_version}, this warcpack has {schema_version()}")
    rows = corpus.load_metadata(target, db, ledger, validate)
    corpus.load_texts(target, db, ledger, validate)
    corpus.cross_check(target, db, ledger)
    corpus.check_order(target, db, ledger)
    corpus.check_revisions(db, ledger)
    # fixity: the WARC files, then every record in them
    tally = fixity.FixityTally()
    sums = fixity.store_sums(root, ledger)
    files, release_files = _warc_files(target, sums, db, ledger, results)
    present = fixity.check_files(root, files, None if target.manifest is None else sums, ledger,
                                 tally)
    for name in present:
        fixity.check_records(root / name, name, ledger, tally)
    # records, re-extraction, provenance, completeness
    have_skips = target.summary is not None
    if have_skips:
        checks.load_skips(target, db, ledger)
    else:
        results["completeness"].skipped.append("skip reasons: build-summary.json cannot be read")
    urls = reextract.chosen_urls(db, sample)
    chosen = (lambda url: True) if urls is None else urls.__contains__
    records = read_records(ReleaseStore(root, present), present, db, ledger, chosen,
                           target.limits, target.text_mode)
    corpus.run_script(db, RECORD_INDEXES)
    good = checks.check_provenance(db, ledger, release_files, set(present))
    accounted = checks.check_completeness(db, ledger, have_skips)
    again = reextract.compare(db, ledger)
    lic = licences.check_licences(target, db, ledger)
    found = figures.recount(db)
    figures.compare(target, found, ledger, records_read=len(present) == len(files))
    if target.manifest is not None:
        for diff in version_differences(target.manifest):
            ledger.note("provenance", "version-differs", f"re-extracted with {diff.name} "
                        f"{diff.here}; the release was built with {diff.release}: a row that "
                        "differs may differ for that reason", file="release.json")
    # the report
    text_rows = found["text_rows"]
    results["outputs"].summary = (
        f"{files_checked} files against {target.manifest_name}; {rows} rows "
        f"({text_rows} in the text config, policy {target.text_policy!r})")
    payload = ", ".join(f"{n} {k}" for k, n in sorted(tally.payload.items())) or "none"
    block = ", ".join(f"{n} {k}" for k, n in sorted(tally.block.items())) or "none"
    results["fixity"].summary = (
        f"{len(present)} of {len(files)} WARC file(s), {tally.records} records; block digests: "
        f"{block}; payload digests: {payload}")
    mode = "all rows" if sample is None else f"a sample of {sample} row(s)"
    results["provenance"].summary = (
        f"{good} of {rows} rows match their record; re-extracted {again['rows']} row(s) of "
        f"{again['urls']} URL(s) ({mode}): {again['identical']} identical")
    results["completeness"].summary = (
        f"{records} records: {accounted['own_rows']} with their own row, "
        f"{accounted['recaptures']} identical re-capture(s), {accounted['skipped']} skipped "
        "with a reason")
    results["licences"].summary = (
        f"{lic['no_licence']} row(s) without licence information, "
        f"{lic['not_redistributable'] + lic['unknown']} not marked redistributable, "
        f"{lic['redistributable']} redistributable")
    finding_counts, note_counts = ledger.counts(FINDING), ledger.counts(NOTE)
    for name, result in results.items():
        result.findings = sum(finding_counts.get(name, {}).values())
        result.notes = sum(note_counts.get(name, {}).values())
    figures_out: dict[str, Any] = {**found, "fixity": tally.to_json(),
                                   "completeness": accounted, "licences": lic}
    return AuditReport(
        target=str(target.folder), kind=target.kind, release=target.release, store=str(root),
        checks=results, figures=figures_out, timeline=figures.timeline(db),
        reextract={"mode": "all" if sample is None else "sample", "sample": sample,
                   "seed": target.seed, **again},
        finding_counts=finding_counts, note_counts=note_counts,
        findings=list(ledger.items(FINDING, KEEP)), notes=list(ledger.items(NOTE, KEEP)),
    )


def _warc_files(target: Target, sums: dict[str, str] | None, db: sqlite3.Connection,
                ledger: Ledger, results: dict[str, CheckResult]
                ) -> tuple[list[dict[str, Any]], set[str] | None]:
    """The WARC files to check, and the release's set of them (None for a plain build)."""
    if target.warc_files is not None:
        files = target.warc_files
        return files, {str(f.get("name")) for f in files}
    results["fixity"].skipped.append(
        "WARC files against a release manifest: a plain build has no release.json; the files "
        "are checked against the store's SHA256SUMS")
    sums = sums or {}
    said = (target.summary or {}).get("store") or {}
    here = hashlib.sha256("".join(manifest_lines(sums)).encode("utf-8")).hexdigest()
    if said.get("manifest_sha256") == here:
        names = sorted(sums)
    else:
        ledger.note("fixity", "store-changed", "the store's SHA256SUMS is not the one the build "
                    "read (files were added or changed since): checking the files the rows and "
                    "skipped records name", file="SHA256SUMS")
        named = {f for (f,) in db.execute("SELECT DISTINCT file FROM rows") if f is not None}
        names = sorted(named | {skip.warc_file for skip in target.skipped()})
    files = []
    for name in names:
        if name not in sums:
            ledger.finding("fixity", "store-sums-missing", "the store's SHA256SUMS does not "
                           "list this file", file=name)
        files.append({"name": name, "sha256": sums.get(name), "size": None})
    return files, None
