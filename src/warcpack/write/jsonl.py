"""JSONL shards: one row per line, exactly as `make_row` built it (key order kept, UTF-8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

import orjson

from warcpack.write.shards import ShardedWriter, fsync_file


def dumps(row: dict[str, Any]) -> bytes:
    """One JSONL line; UnicodeEncodeError for text that is not valid Unicode (lone surrogates)."""
    line = json.dumps(row, ensure_ascii=False, sort_keys=False, separators=(",", ":"))
    return line.encode("utf-8") + b"\n"


def loads(data: bytes | str) -> Any:
    """Parse JSON that warcpack wrote (spooled rows, cache entries) with orjson: twice as fast as
    `json` on rows with long texts, which every build reads back. What orjson refuses and `json`
    accepts (NaN, lone surrogates) goes to `json`. orjson reads an integer beyond
    64 bits as a float: no row holds one (offsets and lengths are file positions, and a record
    whose HTTP status is not below 400 makes no row)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


class JsonlWriter(ShardedWriter):
    """Writes ready-made lines (see `dumps`) into shards."""

    ext = "jsonl"

    def __init__(self, folder: Path, shard_rows: int):
        super().__init__(folder, shard_rows)
        self._fh: IO[bytes] | None = None

    def write(self, line: bytes) -> None:
        self._next_row()
        assert self._fh is not None
        self._fh.write(line)

    def _begin_shard(self, path: Path) -> None:
        self._fh = path.open("wb")

    def _end_shard(self) -> None:
        assert self._fh is not None
        fsync_file(self._fh)
        self._fh.close()
        self._fh = None
