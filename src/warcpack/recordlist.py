"""Record lists: a CSV or parquet table naming WARC records by (file, offset, length).

This is the form Common Crawl's columnar index gives (`warc_filename`, `warc_record_offset`,
`warc_record_length`), so pages chosen with SQL elsewhere (Athena, DuckDB, Spark) can be
packaged by `warcpack build --records LIST` without reading the rest of the store. Column names
accepted, first match wins:

- file: `warc_file`, `warc_filename`, `filename`
- offset: `offset`, `warc_record_offset`, `warc_offset`
- length (optional): `length`, `warc_record_length`, `warc_length`

Other columns are ignored. The table is read in a stream (CSV row by row, parquet batch by
batch), so a list of millions of records costs a few bytes per record, not the whole file.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from pathlib import Path

from warcpack.plan import Listed
from warcpack.store.errors import StoreError
from warcpack.store.location import Place, place_of, unreadable

FILE_COLUMNS = ("warc_file", "warc_filename", "filename")
OFFSET_COLUMNS = ("offset", "warc_record_offset", "warc_offset")
LENGTH_COLUMNS = ("length", "warc_record_length", "warc_length")
_PARQUET_MAGIC = b"PAR1"


class RecordListError(ValueError):
    """A record list that cannot be read; the message names the file and the line or row."""


def _pick(columns: list[str], wanted: tuple[str, ...]) -> str | None:
    lowered = {c.strip().lower(): c for c in columns}
    return next((lowered[w] for w in wanted if w in lowered), None)


def _columns(path: Path, columns: list[str]) -> tuple[str, str, str | None]:
    file_col, offset_col = _pick(columns, FILE_COLUMNS), _pick(columns, OFFSET_COLUMNS)
    if file_col is None or offset_col is None:
        shown = ", ".join(columns[:10]) or "none"
        raise RecordListError(
            f"{path}: a record list needs a file column ({' or '.join(FILE_COLUMNS)}) and an "
            f"offset column ({' or '.join(OFFSET_COLUMNS)}); its columns are: {shown}")
    return file_col, offset_col, _pick(columns, LENGTH_COLUMNS)


def _integer(value: object, what: str, where: str) -> int:
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise RecordListError(f"{where}: {what} {value!r} is not a whole number") from None
    if number < 0:
        raise RecordListError(f"{where}: {what} {number} is negative")
    return number


def _item(where: str, file: object, offset: object, length: object) -> Listed:
    if file is None or not str(file).strip():
        raise RecordListError(f"{where}: no WARC file name")
    if offset is None or str(offset).strip() == "":
        raise RecordListError(f"{where}: no offset")
    size = None if length is None or str(length).strip() == "" else _integer(
        length, "length", where)
    return Listed(str(file).strip(), _integer(offset, "offset", where), size, where)


def _csv(path: Place) -> Iterator[Listed]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise RecordListError(f"{path}: empty record list (a header line is needed)")
        file_col, offset_col, length_col = _columns(path, header)
        at = {name: header.index(name) for name in (file_col, offset_col, length_col) if name}
        for number, cells in enumerate(reader, 2):
            if not any(c.strip() for c in cells):
                continue
            where = f"{path} line {number}"
            if len(cells) < len(header):
                raise RecordListError(f"{where}: {len(cells)} fields, the header has "
                                      f"{len(header)}")
            yield _item(where, cells[at[file_col]], cells[at[offset_col]],
                        cells[at[length_col]] if length_col else None)


def _parquet(path: Place) -> Iterator[Listed]:
    import pyarrow.parquet as pq

    with path.open("rb") as fh:  # a local file or a URL alike, closed when read
        try:
            table = pq.ParquetFile(fh)
        except Exception as exc:
            raise RecordListError(f"{path}: not a readable parquet file ({exc})") from None
        file_col, offset_col, length_col = _columns(path, table.schema_arrow.names)
        wanted = [c for c in (file_col, offset_col, length_col) if c]
        row = 0
        for batch in table.iter_batches(batch_size=65_536, columns=wanted):
            data = batch.to_pydict()
            lengths = data[length_col] if length_col else [None] * batch.num_rows
            for file, offset, length in zip(data[file_col], data[offset_col], lengths,
                                            strict=True):
                row += 1
                yield _item(f"{path} row {row}", file, offset, length)


def is_parquet(path: Place) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == _PARQUET_MAGIC


def read_record_list(path: Path | str) -> Iterator[Listed]:
    """The records a CSV or parquet list names, in list order (parquet is told by its magic
    bytes, anything else is read as CSV with a header line). `path` may be a URL fsspec reads
    (where a query engine such as Athena leaves its results)."""
    try:
        path = place_of(path, "the record list")
    except StoreError as exc:
        raise RecordListError(str(exc)) from None
    try:
        parquet = is_parquet(path)
    except FileNotFoundError:  # fsspec's HTTP reading says so of an unreachable host too
        where = "there is no such file" if isinstance(path, Path) else "not found or unreachable"
        raise RecordListError(f"cannot read the record list {path}: {where}") from None
    except OSError as exc:  # fsspec's errors often carry only the URL: name the kind
        raise RecordListError(f"cannot read the record list {path}: "
                              f"{exc.strerror or unreadable(exc)}") from None
    try:
        yield from (_parquet(path) if parquet else _csv(path))
    except UnicodeDecodeError as exc:
        raise RecordListError(f"{path}: not a UTF-8 CSV file ({exc})") from None
    except csv.Error as exc:
        raise RecordListError(f"{path}: not a CSV file ({exc})") from None


def selection_sha256(pairs: Iterator[tuple[str, int]]) -> str:
    """sha256 of a selection in canonical form ("file offset" lines, as given in sorted order),
    so the same records listed as CSV or parquet, in any order, name the same build."""
    digest = hashlib.sha256()
    for file, offset in pairs:
        digest.update(f"{file} {offset}\n".encode())
    return digest.hexdigest()
