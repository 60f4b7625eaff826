"""`warcpack ingest`: bring existing WARC/ARC files (or one local snapshot) into the store.

Files are copied byte for byte into `.staging/`, and the copy is checked record by record
(parse, length, WARC-Block-Digest / WARC-Payload-Digest) before anything is committed. One call
is one transaction: if any file is refused, nothing of the call enters the store.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table
from warcio.timeutils import iso_date_to_timestamp
from warcio.warcwriter import WARCWriter

from warcpack import __version__
from warcpack.record import RecordRef
from warcpack.store.errors import IngestError, StoreError
from warcpack.store.names import is_warc_name, sanitise, split_suffix
from warcpack.store.scan import Damage, Slot, is_gzipped, scan
from warcpack.store.store import Store
from warcpack.store.txn import Transaction

__all__ = ["IngestError", "IngestReport", "IngestedFile", "ingest", "ingest_snapshot"]

Problem = tuple[str, int | None, str]  # (file, byte offset or None, reason)
_MAX_LISTED = 10  # problems listed per file in an error message


@dataclass(frozen=True)
class IngestedFile:
    """What happened to one input file."""

    source: Path
    name: str  # name in the store (for a duplicate: the name of the identical stored file)
    status: str  # "stored" or "duplicate"
    records: int = 0
    damaged: int = 0


@dataclass
class IngestReport:
    """The result of one `ingest` call."""

    store: Path
    files: list[IngestedFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # damaged records taken with the file

    @property
    def stored(self) -> list[IngestedFile]:
        return [f for f in self.files if f.status == "stored"]

    @property
    def duplicates(self) -> list[IngestedFile]:
        return [f for f in self.files if f.status == "duplicate"]

    @property
    def records(self) -> int:
        return sum(f.records for f in self.stored)

    def print(self, console: Console) -> None:
        table = Table(title=f"ingest into {self.store}", show_lines=False)
        for column in ("file", "stored as", "status", "records", "damaged"):
            numeric = column in ("records", "damaged")
            table.add_column(column, justify="right" if numeric else "left")
        for f in self.files:
            table.add_row(
                f.source.name, f.name, f.status, str(f.records) if f.status == "stored" else "-",
                str(f.damaged) if f.status == "stored" else "-",
            )
        console.print(table)
        console.print(
            f"{len(self.stored)} file(s) stored ({self.records} records), "
            f"{len(self.duplicates)} duplicate(s) skipped"
        )
        for file, offset, reason in self.problems:
            console.print(f"[yellow]damaged record kept:[/] {file} offset {offset}: {reason}")


def _valid_date(value: str | None) -> bool:
    try:
        iso_date_to_timestamp(value or "")
    except (TypeError, ValueError):
        return False
    return True


def _check_file(path: Path, label: str) -> tuple[int, list[Problem]]:
    """(records read, problems) for one WARC file, every record and digest checked."""
    records = 0
    problems: list[Problem] = []
    for item in scan(path, check_digests=True):
        if isinstance(item, Damage):
            problems.append((label, item.offset, item.reason))
            continue
        assert isinstance(item, Slot)
        item.finish()
        reasons = list(item.problems)
        if not _valid_date(item.header("WARC-Date")):
            reasons.append(f"WARC-Date {item.header('WARC-Date')!r} is not an ISO 8601 time")
        if reasons:
            problems.append((label, item.offset, "; ".join(reasons)))
        if not item.broken:
            records += 1
    if records == 0 and not problems:
        problems.append((label, None, "no WARC/ARC records in the file"))
    return records, problems


def _copy(source: Path, target: Path) -> str:
    """Copy bytes exactly, returning their sha256 (the manifest hash of the stored file)."""
    digest = hashlib.sha256()
    with open(source, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
            dst.write(chunk)
    return digest.hexdigest()


def _store_name(source: Path, root: Path, taken: set[str], sha: str, gz: bool) -> str:
    name = sanitise(source.name)
    if not is_warc_name(name):
        name = sanitise(name + (".warc.gz" if gz else ".warc"))
    if name in taken and source.resolve() != (root / name).resolve():
        stem, suffix = split_suffix(name)
        name = f"{stem}-{sha[:8]}{suffix}"
    return name


def _format_problems(problems: list[Problem]) -> str:
    lines: list[str] = []
    shown: dict[str, int] = {}
    for file, offset, reason in problems:
        shown[file] = shown.get(file, 0) + 1
        if shown[file] > _MAX_LISTED:
            continue
        where = f"byte offset {offset}" if offset is not None else "whole file"
        lines.append(f"  {file}: {where}: {reason}")
    for file, count in shown.items():
        if count > _MAX_LISTED:
            lines.append(f"  {file}: ... and {count - _MAX_LISTED} more")
    return "\n".join(lines)


def ingest(
    paths: list[Path], store: Path | Store, *, accept_damaged: bool = False
) -> IngestReport:
    """Copy WARC/ARC files into the store verbatim, in one all-or-nothing transaction."""
    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.is_file():
            raise IngestError(f"{path}: no such file")
    try:
        st = store if isinstance(store, Store) else Store.open(store, create=True)
    except StoreError as exc:
        raise IngestError(str(exc)) from exc
    report = IngestReport(st.root)
    refused: list[Problem] = []  # (input path as given, offset, reason)
    try:
        with st.transaction() as txn:
            known = {sha: name for name, sha in st.manifest().items()}
            taken = set(known.values()) | {p.name for p in st.root.iterdir()}
            for path in paths:
                _ingest_one(path, txn, known, taken, report, refused, accept_damaged)
            if refused:
                count = len({file for file, _, _ in refused})
                raise IngestError(
                    f"refused {count} damaged file(s); the store is unchanged "
                    "(--accept-damaged takes such files whole and logs their damaged records):\n"
                    + _format_problems(refused),
                    refused,
                )
    except StoreError as exc:
        if isinstance(exc, IngestError):
            raise
        raise IngestError(str(exc)) from exc
    except OSError as exc:  # unreadable input, full disk...: a message, not a traceback
        raise IngestError(f"{exc.filename or st.root}: {exc.strerror or exc}") from exc
    return report


def _ingest_one(
    path: Path,
    txn: Transaction,
    known: dict[str, str],
    taken: set[str],
    report: IngestReport,
    refused: list[Problem],
    accept_damaged: bool,
) -> None:
    staged = txn.scratch(f"incoming-{len(report.files)}")
    sha = _copy(path, staged)
    if sha in known:
        staged.unlink()
        report.files.append(IngestedFile(path, known[sha], "duplicate"))
        return
    name = _store_name(path, txn.root, taken, sha, is_gzipped(staged))
    records, problems = _check_file(staged, name)
    if problems and (not accept_damaged or records == 0):
        refused.extend((str(path), offset, reason) for _, offset, reason in problems)
        staged.unlink()
        return
    stray = path.resolve() == (txn.root / name).resolve()  # put in the store folder by hand
    os.replace(staged, txn.stage(name, adopt=stray))
    known[sha] = name
    taken.add(name)
    for file, offset, reason in problems:
        txn.log({"event": "damaged-record", "file": file, "offset": offset, "reason": reason})
        report.problems.append((file, offset, reason))
    txn.log({
        "event": "ingest", "file": name, "source_name": path.name, "sha256": sha,
        "records": records, "damaged": len(problems),
    })
    report.files.append(IngestedFile(path, name, "stored", records, len(problems)))


# --- snapshots ----------------------------------------------------------------------------------
def normalise_captured(captured: str) -> str:
    """'2025-07-03' or any ISO 8601 time -> 'YYYY-MM-DDThh:mm:ssZ' in UTC (naive times are UTC)."""
    text = captured.strip()
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise IngestError(
            f"--captured {captured!r} is not an ISO 8601 date or time (e.g. 2025-07-03 or "
            "2025-07-03T09:30:00+06:00)"
        ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def guess_content_type(path: Path, data: bytes) -> str:
    """Content-Type of a snapshot from its name and bytes."""
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm", ".xhtml"):
        return "text/html"
    if suffix == ".txt":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return "text/plain"
        return "text/plain; charset=utf-8"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def snapshot_warc(
    data: bytes,
    *,
    url: str,
    warc_date: str,
    content_type: str,
    source_name: str,
    publisher: str | None = None,
    site: str | None = None,
) -> tuple[bytes, int, str]:
    """(WARC bytes, resource offset, resource record id): warcinfo + resource, deterministic."""
    sha = hashlib.sha256(data).hexdigest()
    seed = f"{url}\n{warc_date}\n{sha}"
    record_id = f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'warcpack:resource:' + seed)}>"
    info_id = f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'warcpack:warcinfo:' + seed)}>"
    out = BytesIO()
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    info = (
        f"software: warcpack/{__version__}\r\n"
        "format: WARC File Format 1.1\r\n"
        "conformsTo: https://iipc.github.io/warc-specifications/specifications/"
        "warc-format/warc-1.1/\r\n"
    ).encode()
    warcinfo = writer.create_warc_record(
        "", "warcinfo", payload=BytesIO(info), length=len(info),
        warc_content_type="application/warc-fields",
        warc_headers_dict={
            "WARC-Type": "warcinfo", "WARC-Record-ID": info_id, "WARC-Date": warc_date,
        },
    )
    writer.write_record(warcinfo)
    offset = out.tell()
    headers = {  # in this order in the file (warcio fills the values it owns in place)
        "WARC-Type": "resource",
        "WARC-Record-ID": record_id,
        "WARC-Date": warc_date,
        "WARC-Target-URI": url,
        "WARC-Warcinfo-ID": info_id,
        "X-Warcpack-Source-Name": source_name,
    }
    if publisher:
        headers["X-Warcpack-Publisher"] = publisher
    if site:
        headers["X-Warcpack-Site"] = site
    resource = writer.create_warc_record(
        url, "resource", payload=BytesIO(data), length=len(data),
        warc_content_type=content_type, warc_headers_dict=headers,
    )
    writer.write_record(resource)
    return out.getvalue(), offset, record_id


def ingest_snapshot(
    path: Path,
    store: Path | Store,
    *,
    url: str,
    captured: str,
    content_type: str | None = None,
    publisher: str | None = None,
    site: str | None = None,
) -> RecordRef:
    """Store a local file as one WARC/1.1 resource record of `url`; the same snapshot twice is a
    no-op (the file name and record id derive from the content, URL and capture time)."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    parts = urlsplit(url)
    if not parts.scheme or (parts.scheme in ("http", "https") and not parts.netloc):
        raise IngestError(f"--url {url!r} is not an absolute URI (e.g. https://example.com/page)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{path}: {exc.strerror or exc}") from exc
    warc_date = normalise_captured(captured)
    kind = content_type or guess_content_type(path, data)
    blob, offset, record_id = snapshot_warc(
        data, url=url, warc_date=warc_date, content_type=kind, source_name=path.name,
        publisher=publisher, site=site,
    )
    blob_sha = hashlib.sha256(blob).hexdigest()
    try:
        st = store if isinstance(store, Store) else Store.open(store, create=True)
        with st.transaction() as txn:
            existing = {sha: name for name, sha in st.manifest().items()}
            if blob_sha in existing:
                return RecordRef(existing[blob_sha], offset, len(blob) - offset, record_id)
            name = f"snapshot-{hashlib.sha256(data).hexdigest()[:16]}.warc.gz"
            if name in existing.values():  # same bytes, other URL or capture time
                name = f"snapshot-{hashlib.sha256(data).hexdigest()[:16]}-{blob_sha[:8]}.warc.gz"
            txn.stage(name).write_bytes(blob)
            txn.log({
                "event": "ingest-snapshot", "file": name, "url": url, "captured": warc_date,
                "source_name": path.name, "sha256": blob_sha, "content_type": kind,
            })
    except IngestError:
        raise
    except StoreError as exc:
        raise IngestError(str(exc)) from exc
    except OSError as exc:
        raise IngestError(f"{exc.filename or store}: {exc.strerror or exc}") from exc
    return RecordRef(name, offset, len(blob) - offset, record_id)
