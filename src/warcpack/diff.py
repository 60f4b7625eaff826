"""`warcpack diff OLD NEW`: which rows two builds (or releases) do not share, and what changed.

Rows are matched by `id` (derived from the WARC record, so the same capture has the same id in
every build). A row is added or removed when its id is only on one side, changed when a field
differs. Each side is read from its parquet files (the `metadata` config for every row, the
`text` config for the text) and reduced to one hash per field in a scratch SQLite database, so
memory does not grow with the corpora; only the lists of differing rows are returned.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from rich.console import Console
from rich.markup import escape

RELEASE_MANIFEST = "release.json"
NOT_IN_TEXT = "(not in the text config)"  # text of a row its build's text policy left out
_BATCH = 1000


class DiffError(Exception):
    """A side of the diff is not a built corpus."""


@dataclass(frozen=True)
class RowRef:
    """A row named the way people find it: its page, revision and id."""

    url: str
    revision: int
    id: str


@dataclass(frozen=True)
class ChangedRow:
    url: str
    revision: int
    id: str
    fields: list[str]  # top-level fields whose values differ, sorted


@dataclass
class CorpusDiff:
    """The difference between two built corpora (OLD -> NEW); lists sorted by URL, revision."""

    old: str  # label: the release version, or the folder as given
    new: str
    old_rows: int = 0
    new_rows: int = 0
    unchanged: int = 0
    added: list[RowRef] = field(default_factory=list)
    removed: list[RowRef] = field(default_factory=list)
    changed: list[ChangedRow] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def counts(self) -> dict[str, int]:
        return {"old_rows": self.old_rows, "new_rows": self.new_rows, "added": len(self.added),
                "removed": len(self.removed), "changed": len(self.changed),
                "unchanged": self.unchanged}

    def to_json(self) -> dict[str, Any]:
        return {
            "old": self.old, "new": self.new, "counts": self.counts(),
            "added": [asdict(r) for r in self.added],
            "removed": [asdict(r) for r in self.removed],
            "changed": [asdict(r) for r in self.changed],
        }

    def headline(self) -> str:
        return (f"{self.old} -> {self.new}: {self.old_rows} -> {self.new_rows} rows; "
                f"{len(self.added)} added, {len(self.removed)} removed, "
                f"{len(self.changed)} changed, {self.unchanged} unchanged")

    def print(self, console: Console) -> None:
        """The diff as text: one line per differing row."""
        console.print(escape(self.headline()), highlight=False)
        for sign, style, title, rows in (("+", "green", "added", self.added),
                                         ("-", "red", "removed", self.removed)):
            if rows:
                console.print(f"[bold]{title}:[/]")
            for r in rows:
                console.print(f"  [{style}]{sign}[/] {escape(r.url)} (revision {r.revision}, "
                              f"id {r.id})", highlight=False, soft_wrap=True)
        if self.changed:
            console.print("[bold]changed:[/]")
        for c in self.changed:
            console.print(f"  [yellow]~[/] {escape(c.url)} (revision {c.revision}, id {c.id}): "
                          f"{', '.join(c.fields)}", highlight=False, soft_wrap=True)


def corpus_folder(path: Path) -> Path:
    """The corpus folder of PATH: a build or release folder, or a release's release.json."""
    path = Path(path)
    if path.is_file() and path.name == RELEASE_MANIFEST:
        path = path.parent
    if not (path / "data" / "metadata").is_dir():
        raise DiffError(f"{path} is not a built corpus (no data/metadata/ with parquet shards)")
    return path


def label(folder: Path, given: Path) -> str:
    """A release's version, else the path as the user gave it."""
    try:
        manifest = json.loads((folder / RELEASE_MANIFEST).read_text("utf-8"))
        return str(manifest["release"])
    except (OSError, ValueError, KeyError, TypeError):
        return str(given)


def _shards(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.parquet"))


def _batches(folder: Path, columns: list[str] | None = None) -> Iterator[list[dict[str, Any]]]:
    for shard in _shards(folder):
        try:
            parquet = pq.ParquetFile(shard)
            for batch in parquet.iter_batches(batch_size=_BATCH, columns=columns):
                yield batch.to_pylist()
        except (OSError, ValueError) as exc:  # ArrowInvalid is a ValueError
            raise DiffError(f"{shard}: unreadable parquet shard ({exc})") from None


def _hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _load(db: sqlite3.Connection, table: str, folder: Path) -> int:
    """Hash every row of one corpus into `table`; returns the row count."""
    db.execute(f"CREATE TABLE {table} (id TEXT PRIMARY KEY, url TEXT, revision INTEGER, "
               "digest TEXT, fields TEXT, text TEXT)")
    count = 0
    for rows in _batches(folder / "data" / "metadata"):
        batch = []
        for row in rows:
            hashes = {name: _hash(value) for name, value in sorted(row.items())}
            fields = json.dumps(hashes, sort_keys=True)
            batch.append((row["id"], row["url"], row.get("revision") or 1,
                          hashlib.sha256(fields.encode()).hexdigest(), fields, NOT_IN_TEXT))
        try:
            db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?)", batch)
        except sqlite3.IntegrityError as exc:
            raise DiffError(f"{folder}: the same row id appears twice ({exc})") from None
        count += len(batch)
    text_dir = folder / "data" / "text"
    if text_dir.is_dir():
        for rows in _batches(text_dir, ["id", "text"]):
            db.executemany(f"UPDATE {table} SET text = ? WHERE id = ?",
                           [(_hash(r["text"]), r["id"]) for r in rows])
    return count


def _refs(db: sqlite3.Connection, left: str, right: str) -> list[RowRef]:
    """Rows of `left` whose id is not in `right`."""
    query = (f"SELECT a.url, a.revision, a.id FROM {left} a LEFT JOIN {right} b ON a.id = b.id "
             "WHERE b.id IS NULL ORDER BY a.url, a.revision, a.id")
    return [RowRef(*found) for found in db.execute(query)]


def _changed(db: sqlite3.Connection) -> tuple[list[ChangedRow], int]:
    query = ("SELECT n.url, n.revision, n.id, o.fields, n.fields, o.text, n.text "
             "FROM new n JOIN old o ON o.id = n.id ORDER BY n.url, n.revision, n.id")
    changed, same = [], 0
    for url, revision, row_id, old_fields, new_fields, old_text, new_text in db.execute(query):
        if old_fields == new_fields and old_text == new_text:
            same += 1
            continue
        old_map, new_map = json.loads(old_fields), json.loads(new_fields)
        names = {k for k in old_map.keys() | new_map.keys() if old_map.get(k) != new_map.get(k)}
        if old_text != new_text:
            names.add("text")
        changed.append(ChangedRow(url, revision, row_id, sorted(names)))
    return changed, same


def diff(old: Path, new: Path) -> CorpusDiff:
    """Compare two built corpora (build or release folders): rows added, removed, changed."""
    old_dir, new_dir = corpus_folder(old), corpus_folder(new)
    result = CorpusDiff(label(old_dir, Path(old)), label(new_dir, Path(new)))
    with tempfile.TemporaryDirectory(prefix="warcpack-diff-") as scratch:
        db = sqlite3.connect(Path(scratch) / "diff.sqlite", isolation_level=None)
        try:
            db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;")
            result.old_rows = _load(db, "old", old_dir)
            result.new_rows = _load(db, "new", new_dir)
            result.added = _refs(db, "new", "old")
            result.removed = _refs(db, "old", "new")
            result.changed, result.unchanged = _changed(db)
        finally:
            db.close()
    return result
