"""The rows of a build between extraction and writing, on disk, read back grouped by page.

Revisions need the captures of each URL together and in capture order, while extraction gives
rows in whatever order the work units finish. The spool is a scratch SQLite database (no
journal, no fsync: it is thrown away with the build if anything fails) holding each row's JSON
under its sort key, and each skipped record under its place in the store; reading walks an index,
so memory stays flat whatever the corpus size, and the order never depends on which worker
finished first.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcpack.write.jsonl import loads
from warcpack.write.summary import Skipped

_BATCH = 500


@dataclass(frozen=True)
class Spooled:
    """One extracted row, ready to spool: its JSON line and where it sorts."""

    url: str
    order: tuple[str, str, int]  # revisions.capture_order: (UTC instant, warc file, offset)
    line: bytes  # the row as make_row built it (JSONL form)


class SpooledRow(dict[str, Any]):
    """A row read back from the spool, with the JSON line it was spooled as."""

    __slots__ = ("line",)

    def __init__(self, line: bytes):
        super().__init__(loads(line))
        self.line = line


class RowSpool:
    """Rows added in any order; `rows()` gives them by URL (code point order), then capture."""

    def __init__(self, path: Path):
        self.path = path
        path.unlink(missing_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE;"
            "CREATE TABLE rows (url TEXT NOT NULL, captured TEXT NOT NULL, file TEXT NOT NULL,"
            " offset INTEGER NOT NULL, line BLOB NOT NULL);"
            "CREATE TABLE skips (file TEXT NOT NULL, offset INTEGER NOT NULL, seq INTEGER NOT NULL,"
            " reason TEXT NOT NULL, detail TEXT NOT NULL);"
            "BEGIN;"
        )
        self.count = 0
        self.skipped = 0
        self._open = True

    def add_all(self, items: Iterable[Spooled]) -> None:
        batch = [(s.url, *s.order, s.line) for s in items]
        self._db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?)", batch)
        self.count += len(batch)

    def add_skips(self, items: Iterable[tuple[int, Skipped]]) -> None:
        """Skipped records with their rank among the records at the same place (a gzip member
        may hold several records)."""
        batch = [(s.warc_file, s.offset, seq, s.reason, s.detail) for seq, s in items]
        self._db.executemany("INSERT INTO skips VALUES (?, ?, ?, ?, ?)", batch)
        self.skipped += len(batch)

    def _finish_adding(self) -> None:
        if self._open:
            self._db.execute("COMMIT")
            self._open = False

    def skips(self) -> Iterator[Skipped]:
        """Every skipped record, by (file, offset), as a single reader of the store meets them."""
        self._finish_adding()
        cursor = self._db.execute(
            "SELECT file, offset, reason, detail FROM skips ORDER BY file, offset, seq")
        while batch := cursor.fetchmany(_BATCH):
            for row in batch:
                yield Skipped(*row)

    def rows(self) -> Iterator[SpooledRow]:
        """Every row, parsed, ordered by (url, captured, file, offset): a total order, since a
        record has one place in the store."""
        self._finish_adding()
        self._db.execute("CREATE INDEX by_page ON rows (url, captured, file, offset)")
        cursor = self._db.execute(
            "SELECT line FROM rows ORDER BY url, captured, file, offset")
        while batch := cursor.fetchmany(_BATCH):
            for (line,) in batch:
                yield SpooledRow(line)

    def close(self) -> None:
        """Close and delete the spool."""
        self._db.close()
        self.path.unlink(missing_ok=True)
