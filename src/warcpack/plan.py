"""Work units of a build: slices of the store's WARC files, small enough to share among workers.

A unit is a range of record offsets of one file, read from the store's index, so several
workers can read one file. Units come in (file, offset) order, and together they cover every
byte of every committed file: the first unit of a file starts at 0 and the last has no end, so
damaged records the index does not know about are still read (and reported) by some unit.

A unit's identity (`WorkUnit.id`) is a hash of its file and range (or its selected records),
never of a worker rank or of the order files were listed in: the same store cut with the same
unit size gives the same units on any machine and under any engine, which is what lets a build
record its progress per unit and resume, and lets a cluster run the plan a laptop made. Which
worker runs a unit never shows in the output: rows are merged by URL and capture order.

`plan_records` cuts units from a record list (`warcpack build --records`) instead: only the
listed records are read, each at its indexed offset.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from warcpack.store import Store

# Indexed records per unit: a fraction of a second of work on typical pages, so units balance
# well over two or hundreds of workers (pages vary tenfold in cost), the few new records of a
# rebuild are still shared among the workers, and a killed build loses little; the per-unit cost
# (a task, a cache transaction) stays far below the unit's work.
MAX_RECORDS = 5
NOT_IN_STORE = "not-in-store"  # skip reason of a listed record the store does not hold


@dataclass(frozen=True)
class WorkUnit:
    """Records of `file` whose offset is in [start, stop) (stop None: to the end of the file),
    or, when `offsets` is set, exactly the records at those offsets."""

    file: str
    start: int
    stop: int | None
    records: int  # indexed records in the range (for progress; unindexed ones are read too)
    offsets: tuple[int, ...] | None = None
    # The index lists a revisit here: its row also depends on the records it refers to, which
    # may be in other files, so a cached result of this unit is only good for the same store.
    revisits: bool = field(default=False, compare=False)

    @property
    def id(self) -> str:
        """Stable name of the unit: a hash of its file and range (or selected offsets)."""
        text = f"{self.file}\n{self.start}\n{self.stop}\n"
        if self.offsets is not None:
            text += ",".join(map(str, self.offsets))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def split_file(file: str, offsets: Iterable[int], max_records: int = MAX_RECORDS,
               revisits: Iterable[int] = ()) -> list[WorkUnit]:
    """Units of one file from the offsets of its indexed records (and of its revisits)."""
    if max_records < 1:
        raise ValueError("max_records must be at least 1")
    ordered = sorted(set(offsets))
    marks = sorted(set(revisits))
    bounds = ordered[max_records::max_records]
    starts = [0, *bounds]
    stops: list[int | None] = [*bounds, None]
    counts = [min(max_records, len(ordered) - i * max_records) for i in range(len(starts))]
    return [WorkUnit(file, a, b, n, revisits=_any_in(marks, a, b))
            for a, b, n in zip(starts, stops, counts, strict=True)]


def _any_in(sorted_values: list[int], start: int, stop: int | None) -> bool:
    i = bisect_left(sorted_values, start)
    return i < len(sorted_values) and (stop is None or sorted_values[i] < stop)


def plan(store: Store, max_records: int = MAX_RECORDS,
         files: list[str] | None = None) -> list[WorkUnit]:
    """Every unit of `files` (default: the store's committed files), in (file, offset) order."""
    names = store.warc_files() if files is None else files
    offsets: dict[str, array[int]] = {name: array("q") for name in names}
    revisits: dict[str, array[int]] = {name: array("q") for name in names}
    for entry in store.index_entries():
        if entry.filename in offsets:
            offsets[entry.filename].append(entry.offset)
            if entry.record_type == "revisit":
                revisits[entry.filename].append(entry.offset)
    return [unit for name in sorted(offsets)
            for unit in split_file(name, offsets[name], max_records, revisits[name])]


# --- record lists -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """One record named by a record list: its WARC file, offset and (optional) length."""

    warc_file: str
    offset: int
    length: int | None
    where: str  # "LIST line 12" or "LIST row 12", for messages


@dataclass(frozen=True)
class Unlisted:
    """A listed record the store does not hold (reported as a skip, never fatal)."""

    warc_file: str
    offset: int
    detail: str


class _Selection:
    """Listed offsets of one store file, sorted, with their lengths (-1: not given)."""

    def __init__(self) -> None:
        self.offsets: array[int] = array("q")
        self.lengths: array[int] = array("q")
        self.where: list[str] = []

    def add(self, item: Listed) -> None:
        self.offsets.append(item.offset)
        self.lengths.append(-1 if item.length is None else item.length)
        self.where.append(item.where)

    def sort(self) -> None:
        """Sort by offset and drop repeated offsets (the first mention wins)."""
        order = sorted(range(len(self.offsets)), key=lambda i: (self.offsets[i], i))
        keep = [i for n, i in enumerate(order)
                if n == 0 or self.offsets[i] != self.offsets[order[n - 1]]]
        self.offsets = array("q", (self.offsets[i] for i in keep))
        self.lengths = array("q", (self.lengths[i] for i in keep))
        self.where = [self.where[i] for i in keep]

    def find(self, offset: int) -> int:
        i = bisect_left(self.offsets, offset)
        return i if i < len(self.offsets) and self.offsets[i] == offset else -1


def _resolver(names: list[str]) -> dict[str, str | None]:
    """Base name -> the store file of that base name (None when two files share it)."""
    by_base: dict[str, str | None] = {}
    for name in names:
        base = PurePosixPath(name).name
        by_base[base] = None if base in by_base else name
    return by_base


def plan_records(store: Store, listed: Iterable[Listed], max_records: int = MAX_RECORDS
                 ) -> tuple[list[WorkUnit], list[Unlisted]]:
    """Units holding exactly the listed records, and the listed records the store lacks.

    A listed file is the store file of that name, or else the one store file with that base name
    (a Common Crawl index names `crawl-data/.../x.warc.gz`, a store may hold it as `x.warc.gz`).
    A listed offset must be a record's offset in the store's index, and a listed length (when
    given) that record's length."""
    if max_records < 1:
        raise ValueError("max_records must be at least 1")
    names = store.warc_files()
    known = set(names)
    by_base = _resolver(names)
    chosen: dict[str, _Selection] = {}
    missing: list[Unlisted] = []
    for item in listed:
        name = item.warc_file if item.warc_file in known else by_base.get(
            PurePosixPath(item.warc_file).name)
        if name is None:
            missing.append(Unlisted(item.warc_file, item.offset,
                                    f"{item.where}: the store has no WARC file {item.warc_file}"))
            continue
        chosen.setdefault(name, _Selection()).add(item)
    for selection in chosen.values():
        selection.sort()
    found = {name: bytearray(len(sel.offsets)) for name, sel in chosen.items()}
    revisit = {name: bytearray(len(sel.offsets)) for name, sel in chosen.items()}
    for entry in store.index_entries():
        sel = chosen.get(entry.filename)
        if sel is None:
            continue
        i = sel.find(entry.offset)
        if i < 0:
            continue
        if sel.lengths[i] not in (-1, entry.length):
            missing.append(Unlisted(entry.filename, entry.offset,
                                    f"{sel.where[i]}: the list gives length {sel.lengths[i]}, "
                                    f"the store's record at this offset is {entry.length} bytes"))
            found[entry.filename][i] = 2  # reported: not read
            continue
        if found[entry.filename][i] == 0:
            found[entry.filename][i] = 1
        if entry.record_type == "revisit":
            revisit[entry.filename][i] = 1
    units: list[WorkUnit] = []
    for name in sorted(chosen):
        sel, flags = chosen[name], found[name]
        for i, offset in enumerate(sel.offsets):
            if flags[i] == 0:
                missing.append(Unlisted(name, offset, f"{sel.where[i]}: the store's index has "
                                        f"no record at offset {offset} of {name}"))
        picked = [i for i in range(len(sel.offsets)) if flags[i] == 1]
        for chunk in _chunks(picked, max_records):
            offsets = tuple(sel.offsets[i] for i in chunk)
            units.append(WorkUnit(name, offsets[0], offsets[-1] + 1, len(offsets), offsets,
                                  revisits=any(revisit[name][i] for i in chunk)))
    missing.sort(key=lambda m: (m.warc_file, m.offset))
    return units, missing


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]

