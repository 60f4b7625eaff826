"""Parquet shards with fixed writer settings, so the same rows always give the same bytes."""

from __future__ import annotations

import sys
from importlib.abc import MetaPathFinder
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from warcpack.write.shards import ShardedWriter, fsync_file

ROW_GROUP_ROWS = 1_000
# Every setting that changes the bytes is fixed here rather than left to library defaults.
WRITER_OPTIONS: dict[str, Any] = {
    "version": "2.6",
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "data_page_version": "1.0",
    "write_page_index": False,
    "store_schema": True,
}


class ParquetWriter(ShardedWriter):
    """Writes rows (dicts of column values) of one schema into shards of fixed row groups."""

    ext = "parquet"

    def __init__(self, folder: Path, schema: pa.Schema, shard_rows: int,
                 row_group_rows: int = ROW_GROUP_ROWS):
        super().__init__(folder, shard_rows)
        self._schema = schema
        self._group_rows = min(row_group_rows, shard_rows)
        self._buffer: list[dict[str, Any]] = []
        self._fh: IO[bytes] | None = None
        self._writer: pq.ParquetWriter | None = None

    def write(self, row: dict[str, Any]) -> None:
        self._next_row()
        self._buffer.append(row)
        if len(self._buffer) == self._group_rows or self._shard_full:
            self._flush()

    def _flush(self) -> None:
        if self._buffer and self._writer is not None:
            table = pa.Table.from_pylist(self._buffer, schema=self._schema)
            self._writer.write_table(table, row_group_size=self._group_rows)
            self._buffer = []

    def _begin_shard(self, path: Path) -> None:
        self._fh = path.open("wb")
        self._writer = pq.ParquetWriter(self._fh, self._schema, **WRITER_OPTIONS)

    def _end_shard(self) -> None:
        assert self._writer is not None and self._fh is not None
        self._flush()
        self._writer.close()
        fsync_file(self._fh)
        self._fh.close()
        self._writer = self._fh = None


def warm_up() -> None:
    """Make pyarrow import what its first conversion of Python values imports (pandas, when
    installed and not forgone: half a second to a second), while the build waits anyway."""
    pa.array([], pa.int64())


class _Refuse(MetaPathFinder):
    """An import finder that refuses one package (as if it were not installed)."""

    def __init__(self, name: str):
        self.name = name

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname == self.name or fullname.startswith(self.name + "."):
            raise ImportError(f"{fullname} is not used here")


def forgo_pandas() -> None:
    """Tell pyarrow that pandas is absent, in a process that never converts to or from pandas.

    pyarrow's first conversion of Python values imports pandas (when installed: half a second
    to a second of CPU) only to ask whether the values are pandas objects, and remembers the
    answer. The command line's build process only makes typed conversions of rows, which then
    import no pandas; pandas itself can still be imported afterwards (by `datasets`, say). A
    researcher's own process, which may call `to_pandas()` later, is left alone: the library
    never calls this.
    """
    if "pandas" in sys.modules:
        return
    refuse = _Refuse("pandas")
    sys.meta_path.insert(0, refuse)
    try:
        warm_up()  # the first conversion, which asks for pandas and remembers the answer
    finally:
        sys.meta_path.remove(refuse)
