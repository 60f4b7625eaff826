"""Work units of a build: slices of the store's WARC files, small enough to share among workers.

A unit is one file, or for a big file a range of record offsets read from the store's index, so
two workers can read one file. Units come in (file, offset) order, and together they cover every
byte of every committed file: the first unit of a file starts at 0 and the last has no end, so
damaged records the index does not know about are still read (and reported) by some unit.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass

from warcpack.store import Store

MAX_RECORDS = 500  # indexed records per unit


@dataclass(frozen=True)
class WorkUnit:
    """Records of `file` whose offset is in [start, stop) (stop None: to the end of the file)."""

    file: str
    start: int
    stop: int | None
    records: int  # indexed records in the range (for progress; unindexed ones are read too)


def split_file(file: str, offsets: Iterable[int], max_records: int = MAX_RECORDS) -> list[WorkUnit]:
    """Units of one file from the offsets of its indexed records."""
    if max_records < 1:
        raise ValueError("max_records must be at least 1")
    ordered = sorted(set(offsets))
    bounds = ordered[max_records::max_records]
    starts = [0, *bounds]
    stops: list[int | None] = [*bounds, None]
    counts = [min(max_records, len(ordered) - i * max_records) for i in range(len(starts))]
    return [WorkUnit(file, a, b, n) for a, b, n in zip(starts, stops, counts, strict=True)]


def plan(store: Store, max_records: int = MAX_RECORDS,
         files: list[str] | None = None) -> list[WorkUnit]:
    """Every unit of `files` (default: the store's committed files), in (file, offset) order."""
    names = store.warc_files() if files is None else files
    offsets: dict[str, array[int]] = {name: array("q") for name in names}
    for entry in store.index_entries():
        if entry.filename in offsets:
            offsets[entry.filename].append(entry.offset)
    return [unit for name in sorted(offsets)
            for unit in split_file(name, offsets[name], max_records)]
