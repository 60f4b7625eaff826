"""The CDXJ index: lines as `cdxj-indexer` prints them, merged sorted, looked up by URL.

Lines come from the `cdxj_indexer` library itself, so `index.cdxj` equals what
`cdxj-indexer --sort` prints for the same files; merging is streaming (heapq.merge over files).
"""

from __future__ import annotations

import contextlib
import heapq
import io
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import surt
from cdxj_indexer.main import CDXJIndexer, SortingWriter

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
            status=int(status) if status not in (None, "", "-") else None,
            digest=data.get("digest"),
            length=int(data["length"]),
            offset=int(data["offset"]),
            filename=data["filename"],
            record_type=record_type,
        )


def url_key(url: str) -> str:
    """The SURT key the index sorts by (same function as cdxj-indexer)."""
    try:
        return surt.surt(url)
    except Exception:  # cdxj-indexer falls back to the URL itself
        return url


class _Window:
    """A byte range of a file that reports absolute positions (so indexed offsets are absolute)."""

    def __init__(self, fh: IO[bytes], start: int, length: int) -> None:
        self.fh = fh
        self.end = start + length
        fh.seek(start)

    def tell(self) -> int:
        return self.fh.tell()

    def read(self, size: int = -1) -> bytes:
        left = self.end - self.fh.tell()
        if left <= 0:
            return b""
        return self.fh.read(left if size is None or size < 0 else min(size, left))


def _index_file(path: Path, name: str, out: SortingWriter) -> None:
    """Index one WARC file with cdxj_indexer; a damaged file is indexed record by record.

    warcio prints (to stderr) and swallows a corrupt gzip member, after which it silently
    stops: any such message, or an exception, sends the file through the slow path, which
    indexes every record that can be read.
    """
    indexer = CDXJIndexer(None, [], filename=name)
    lines: list[str] = []

    class _Collect:
        def write(self, line: str) -> None:
            lines.append(line)

    chatter = io.StringIO()
    try:
        with open(path, "rb") as fh, contextlib.redirect_stderr(chatter):
            indexer.process_one(fh, _Collect(), name)
        sound = not chatter.getvalue()
    except Exception:
        sound = False
    if not sound:
        from warcpack.store.scan import readable_records

        lines.clear()
        with open(path, "rb") as fh, contextlib.redirect_stderr(io.StringIO()):
            for offset, length in readable_records(path):
                try:
                    indexer.process_one(_Window(fh, offset, length), _Collect(), name)
                except Exception:  # e.g. a malformed WARC-Date: the record cannot be indexed
                    continue
    for line in lines:
        out.write(line)


def write_index(files: Iterable[tuple[Path, str]], out: IO[str]) -> None:
    """Write the sorted CDXJ lines of `files` ((path, name in index)) to `out`."""
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
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        yield from fh


def lookup(path: Path, key: str) -> list[IndexEntry]:
    """Entries whose SURT key equals `key`, found by binary search in the sorted file."""
    if not path.exists():
        return []
    prefix = (key + " ").encode("utf-8")
    entries: list[IndexEntry] = []
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
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
