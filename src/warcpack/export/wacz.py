"""`warcpack export wacz`: the store (or a release's WARC files) as one WACZ 1.1.1 package, which
replay tools (ReplayWeb.page, pywb) open and the `wacz` validator accepts.

Layout, as the WACZ spec gives it:

    archive/<name>.warc.gz        the WARC files, byte for byte, stored (not recompressed)
    indexes/index.cdx.gz          the CDXJ index, in gzip blocks of 1024 lines (ZipNum)
    indexes/index.idx             the first key of each block, with its offset and sha256
    pages/pages.jsonl             the pages: a release's rows, else the HTML captures
    datapackage.json              every file above with its sha256 and size
    datapackage-digest.json       the sha256 of datapackage.json

Deterministic: entries in a fixed order, every ZIP timestamp fixed, nothing compressed by the
ZIP layer, `created` the latest capture time: the same store gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pyarrow.parquet as pq
from rich.console import Console
from rich.markup import escape

from warcpack import __version__
from warcpack.export.source import (
    ExportError,
    Source,
    copy_checked,
    index_entry,
    index_lines,
    open_source,
    release_folder,
    remove,
)
from warcpack.store.atomic import fsync_dir, fsync_file
from warcpack.store.location import Place
from warcpack.store.manifest import sha256_file

WACZ_VERSION = "1.1.1"
BLOCK_LINES = 1024  # CDXJ lines per gzip block, as py-wacz and ReplayWeb.page use
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a ZIP entry can have: the same every run
HTML = ("text/html", "application/xhtml+xml")
_NAME = re.compile(r"[^a-z0-9._-]+")


@dataclass
class WaczReport:
    path: Path
    warc_files: int
    records: int  # index lines
    pages: int
    bytes: int
    sha256: str

    def print(self, console: Console) -> None:
        console.print(f"wrote {escape(str(self.path))}: {self.warc_files} WARC file(s), "
                      f"{self.records} indexed record(s), {self.pages} page(s), "
                      f"{self.bytes} bytes, sha256 {self.sha256}", highlight=False)


def _info(name: str, size: int = 0) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, ZIP_TIME)
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 3  # Unix, whatever machine writes it
    info.external_attr = 0o644 << 16
    info.file_size = size
    return info


class _Hashing:
    """A writable that hashes and counts what passes through."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.out.write(data)


def _resource(path: str, sha256: str, size: int, taken: set[str]) -> dict[str, Any]:
    """A datapackage resource; names are lowercase and unique, as frictionless wants them."""
    base = _NAME.sub("-", path.rsplit("/", 1)[-1].lower()).strip("-") or "file"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    return {"name": name, "path": path, "hash": f"sha256:{sha256}", "bytes": size}


def export_wacz(out: Path, store: Path | str, *, release: Path | None = None,
                title: str | None = None) -> WaczReport:
    """Write the WACZ package OUT of the store's WARC files (or of the release folder
    `release`'s, with its rows as the pages list)."""
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"{out} is a folder: give the name of the .wacz file to write")
    folder = release_folder(release) if release is not None else None
    source = open_source(store, folder)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    try:
        report = _write(tmp, source, title)
        fsync_file(tmp)
        os.replace(tmp, out)
        fsync_dir(out.parent)
    except BaseException:
        remove(tmp)
        raise
    report.path = out
    return report


def _write(path: Path, source: Source, title: str | None) -> WaczReport:
    resources: list[dict[str, Any]] = []
    taken: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="warcpack-wacz-") as work, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for warc in source.files:
            entry = f"archive/{warc.name}"
            with zf.open(_info(entry, warc.path.stat().st_size), "w") as dst:
                size = copy_checked(warc, dst)
            resources.append(_resource(entry, warc.sha256, size, taken))
        cdx, idx = Path(work) / "index.cdx.gz", Path(work) / "index.idx"
        pages_path = Path(work) / "pages.jsonl"
        with open(pages_path, "wb") as pages_out:
            pages_out.write(_line({"format": "json-pages-1.0", "id": "pages",
                                   "title": "All Pages"}))
            records, latest, index_pages = _write_index(source, cdx, idx, pages_out,
                                                        want_pages=source.manifest is None)
            pages = index_pages if source.manifest is None else _release_pages(source, pages_out)
        for entry, local in (("indexes/index.cdx.gz", cdx), ("indexes/index.idx", idx),
                             ("pages/pages.jsonl", pages_path)):
            with open(local, "rb") as fh, zf.open(_info(entry, local.stat().st_size), "w") as dst:
                hashing = _Hashing(dst)
                while chunk := fh.read(1 << 20):
                    hashing.write(chunk)
            resources.append(_resource(entry, hashing.sha.hexdigest(), hashing.size, taken))
        package = {
            "profile": "data-package",
            "wacz_version": WACZ_VERSION,
            "title": title or (f"warcpack release {source.release}" if source.release
                               else f"warcpack store {_store_name(source.store)}"),
            "software": f"warcpack {__version__}",
            "created": latest or "1980-01-01T00:00:00Z",
            "resources": sorted(resources, key=lambda r: r["path"]),
        }
        data = (json.dumps(package, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        zf.writestr(_info("datapackage.json", len(data)), data)
        digest = {"path": "datapackage.json",
                  "hash": f"sha256:{hashlib.sha256(data).hexdigest()}"}
        zf.writestr(_info("datapackage-digest.json"),
                    (json.dumps(digest, indent=2) + "\n").encode("utf-8"))
    return WaczReport(path, len(source.files), records, pages, path.stat().st_size,
                      sha256_file(path))


def _store_name(store: Place) -> str:
    """The store folder's name (the last part of its URL for a store at a URL)."""
    return store.resolve().name if isinstance(store, Path) else store.name


def _line(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")


def _iso(timestamp: str) -> str:
    """A 14-digit CDX timestamp as RFC 3339 (UTC)."""
    t = timestamp.ljust(14, "0")
    return f"{t[0:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}Z"


def _write_index(source: Source, cdx: Path, idx: Path, pages: IO[bytes], want_pages: bool
                 ) -> tuple[int, str | None, int]:
    """index.cdx.gz in blocks, index.idx naming each block; with `want_pages`, the 2xx HTML
    captures as pages. Returns (lines, latest capture time, pages written)."""
    count, page_count, latest = 0, 0, ""
    offset = 0
    block: list[str] = []
    with open(cdx, "wb") as data, open(idx, "w", encoding="utf-8", newline="\n") as index:
        meta = json.dumps({"format": "cdxj-gzip-1.0", "filename": "index.cdx.gz"})
        index.write(f"!meta 0 {meta}\n")

        def flush() -> None:
            nonlocal offset
            packer = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
            packed = packer.compress("".join(block).encode("utf-8")) + packer.flush()
            prefix = block[0].split("{", 1)[0].strip()
            entry = {"offset": offset, "length": len(packed),
                     "digest": "sha256:" + hashlib.sha256(packed).hexdigest()}
            index.write(f"{prefix} {json.dumps(entry)}\n")
            data.write(packed)
            offset += len(packed)
            block.clear()

        with index_lines(source.files) as lines:
            for line in lines:
                block.append(line if line.endswith("\n") else line + "\n")
                count += 1
                _, timestamp, fields = index_entry(line)
                latest = max(latest, timestamp)
                if want_pages and _is_page(fields):
                    page_count += 1
                    pages.write(_line({
                        "id": hashlib.sha256(f"{fields.get('filename')}#{fields.get('offset')}"
                                             .encode()).hexdigest()[:32],
                        "url": fields.get("url"), "ts": _iso(timestamp)}))
                if len(block) == BLOCK_LINES:
                    flush()
            if block:
                flush()
    return count, _iso(latest) if latest else None, page_count


def _is_page(fields: dict[str, Any]) -> bool:
    mime = str(fields.get("mime") or "").split(";")[0].strip().lower()
    return mime in HTML and str(fields.get("status", "")).startswith("2")


def _release_pages(source: Source, pages: IO[bytes]) -> int:
    """The release's rows as pages (one per revision: its first capture)."""
    assert source.release_folder is not None
    count = 0
    for shard in sorted((source.release_folder / "data" / "metadata").glob("*.parquet")):
        for batch in pq.ParquetFile(shard).iter_batches(
                batch_size=1000, columns=["id", "url", "title", "date_captured"]):
            for row in batch.to_pylist():
                page = {"id": row["id"], "url": row["url"],
                        "ts": _stamp(row["date_captured"])}
                if row["title"]:
                    page["title"] = row["title"]
                pages.write(_line(page))
                count += 1
    return count


def _stamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
