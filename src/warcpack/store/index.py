"""The CDXJ index: lines as `cdxj-indexer` prints them, merged sorted, looked up by URL.

Lines come from the `cdxj_indexer` library itself, handed the records our scanner finds, so for
a sound file `index.cdxj` equals what `cdxj-indexer --sort` prints, and for a damaged one it
lists exactly the records the reader can read (cdxj-indexer stops at the first corrupt gzip
member, refuses a file gzipped as one stream, and takes bytes that look like an ARC header line
for a record). Merging is streaming (heapq.merge over files).
"""

from __future__ import annotations

import contextlib
import heapq
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from warcpack.store.location import open_for_probes, size_of
from warcpack.store.scan import Slot, scan

if TYPE_CHECKING:
    from cdxj_indexer.main import SortingWriter

# cdxj_indexer and surt are imported where they are used: they take about 1.5 s to import
# (pkg_resources, pyamf, tldextract), which a build that only reads the index need not pay.

INDEX_NAME = "index.cdxj"


@dataclass(frozen=True)
class IndexEntry:
    """One line of index.cdxj, typed."""

    urlkey: str
    timestamp: str  # 14 digits, UTC
    url: str
    mime: str | None
    status: int | None
    digest: str | None  # as in the index, e.g. "sha1:ABC..."
    length: int
    offset: int
    filename: str
    record_type: str  # "revisit", "response" (has an HTTP status) or "resource"

    @classmethod
    def from_line(cls, line: str) -> IndexEntry:
        urlkey, timestamp, blob = line.rstrip("\n").split(" ", 2)
        data = json.loads(blob)
        status = data.get("status")
        mime = data.get("mime")
        if mime == "warc/revisit":
            record_type = "revisit"
        elif status is not None:
            record_type = "response"
        else:
            record_type = "resource"
        return cls(
            urlkey=urlkey,
            timestamp=timestamp,
            url=data.get("url", ""),
            mime=mime,
            status=int(status) if isinstance(status, str) and status.isdecimal() else None,
            digest=data.get("digest"),
            length=int(data["length"]),
            offset=int(data["offset"]),
            filename=data["filename"],
            record_type=record_type,
        )


def url_key(url: str) -> str:
    """The SURT key the index sorts by (same function as cdxj-indexer)."""
    import surt

    try:
        return surt.surt(url)
    except Exception:  # cdxj-indexer falls back to the URL itself
        return url


class _Place:
    """Stands in for warcio's iterator while a record is indexed: its offset and length are
    only known once the record has been read, so placeholders are patched in afterwards."""

    def get_record_offset(self) -> str:
        return "@offset"

    def get_record_length(self) -> str:
        return "@length"


def _patched(line: str, offset: int, length: int) -> str:
    urlkey, timestamp, blob = line.rstrip("\n").split(" ", 2)
    data = json.loads(blob)
    data.update({k: str(v) for k, v in (("offset", offset), ("length", length)) if k in data})
    return f"{urlkey} {timestamp} {json.dumps(data)}\n"


_CDXJ_DEFAULT_RECORDS = ("response", "revisit", "resource", "metadata")


def _scan_lines(path: Path, name: str) -> list[str]:
    """Index lines of every record that can be read to its end, as cdxj-indexer writes them.

    Each record is handed to the same indexer object as in the fast path; offset and length
    come from the scanner, so the records of a file gzipped as one stream get the offset and
    length of their member.
    """
    from cdxj_indexer.main import CDXJIndexer

    indexer = CDXJIndexer(None, [], filename=name)
    # cdxj-indexer's default record types are a class-level list that other packages extend on
    # import (the wacz package appends "warcinfo"); pin the library's own defaults per instance.
    indexer.DEFAULT_RECORDS = list(_CDXJ_DEFAULT_RECORDS)
    indexer.include_records = indexer.DEFAULT_RECORDS
    indexer.curr_filename = name
    place = _Place()
    lines: list[str] = []
    for item in scan(path, check_digests=False):
        if not isinstance(item, Slot):
            continue
        pending: list[str] = []
        record = item.record
        if not indexer.include_records or indexer.filter_record(record):
            try:
                with contextlib.redirect_stderr(io.StringIO()):
                    indexer.process_index_entry(place, record, name, _Collect(pending))
            except Exception:  # e.g. a malformed WARC-Date: the record cannot be indexed
                pending.clear()
        item.finish()
        if not item.broken:
            lines.extend(_patched(line, item.offset, item.length) for line in pending)
    return lines


class _Collect:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def write(self, line: str) -> None:
        self.lines.append(line)


def _index_file(path: Path, name: str, out: SortingWriter) -> None:
    """Index one WARC file: its readable records, as the reader sees them."""
    for line in _scan_lines(path, name):
        out.write(line)


def write_index(files: Iterable[tuple[Path, str]], out: IO[str]) -> None:
    """Write the sorted CDXJ lines of `files` ((path, name in index)) to `out`."""
    from cdxj_indexer.main import SortingWriter

    writer = SortingWriter(out)
    for path, name in files:
        _index_file(path, name, writer)
    writer.flush()


def merge_sorted(sources: Iterable[Iterable[str]], out: IO[str]) -> None:
    """Merge already-sorted line streams into `out`, streaming."""
    for line in heapq.merge(*sources):
        out.write(line)


def iter_index(path: Path) -> Iterator[str]:
    """Lines of an index file; nothing if it does not exist."""
    try:  # not exists() first: that is one more request for a store at a URL
        # Lines end at "\n" only: a URL key may hold a lone "\r" (surt keeps it), as may the bytes.
        fh = path.open(encoding="utf-8", newline="\n")
    except FileNotFoundError:
        return
    with fh:
        yield from fh


def lookup(path: Path, key: str) -> list[IndexEntry]:
    """Entries whose SURT key equals `key`, found by binary search in the sorted file."""
    prefix = (key + " ").encode("utf-8")
    entries: list[IndexEntry] = []
    try:
        fh = open_for_probes(path)
    except FileNotFoundError:
        return []
    with fh:
        size = size_of(fh)
        lo, hi = 0, size
        # Invariant: the first line >= prefix starts at or after lo's line start, before hi.
        while hi - lo > 4096:
            mid = (lo + hi) // 2
            fh.seek(mid)
            fh.readline()  # move to the next line start
            line = fh.readline()
            if line and line < prefix:
                lo = mid
            else:
                hi = mid
        fh.seek(lo)
        if lo:
            fh.readline()
        for line in fh:
            if line.startswith(prefix):
                entries.append(IndexEntry.from_line(line.decode("utf-8")))
            elif line > prefix:
                break
    return entries
