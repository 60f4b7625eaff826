"""The rows of a build between extraction and writing, on disk, read back grouped by page.

Revisions need the captures of each URL together and in capture order, while extraction gives
rows in store order. The spool is a scratch SQLite database (no journal, no fsync: it is thrown
away with the build if anything fails) holding each row's JSON under its sort key; reading it
walks an index on (url, capture order), so memory stays flat whatever the corpus size.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_BATCH = 500


@dataclass(frozen=True)
class Spooled:
    """One extracted row, ready to spool: its JSON line and where it sorts."""

    url: str
    order: tuple[str, str, int]  # revisions.capture_order: (UTC instant, warc file, offset)
    line: bytes  # the row as make_row built it (JSONL form)


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
            "BEGIN;"
        )
        self.count = 0

    def add_all(self, items: Iterable[Spooled]) -> None:
        batch = [(s.url, *s.order, s.line) for s in items]
        self._db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?)", batch)
        self.count += len(batch)

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every row, parsed, ordered by (url, captured, file, offset): a total order, since a
        record has one place in the store."""
        self._db.execute("COMMIT")
        self._db.execute("CREATE INDEX by_page ON rows (url, captured, file, offset)")
        cursor = self._db.execute(
            "SELECT line FROM rows ORDER BY url, captured, file, offset")
        while batch := cursor.fetchmany(_BATCH):
            for (line,) in batch:
                yield json.loads(line)

    def close(self) -> None:
        """Close and delete the spool."""
        self._db.close()
        self.path.unlink(missing_ok=True)
