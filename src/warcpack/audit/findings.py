"""What an audit found: findings (the release is not what it claims), notes (worth knowing, not
wrong) and info (what was checked and how), each naming a file, a byte offset or a row.

An audit of a damaged corpus can find something for every row, so findings go to a table of
the audit's scratch database as they come and are read back in a fixed order (check, file,
offset, row, message): memory does not grow with them and the report is the same on every run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

# The checks, in the order they are reported.
CHECKS = ("fixity", "provenance", "completeness", "outputs", "licences")
FINDING, NOTE, INFO = "finding", "note", "info"


@dataclass(frozen=True)
class Finding:
    """One thing the audit has to say, and where."""

    check: str  # one of CHECKS
    code: str  # short key, e.g. "warc-changed", "row-order"
    message: str
    file: str | None = None  # a WARC file name (store) or an output path (corpus)
    offset: int | None = None  # byte offset in `file`
    row: str | None = None  # row id
    url: str | None = None
    severity: str = FINDING

    def where(self) -> str:
        """`file at offset N, row ID` (the parts that are known)."""
        parts = []
        if self.file is not None:
            parts.append(self.file + (f" at offset {self.offset}" if self.offset is not None
                                      else ""))
        if self.row is not None:
            parts.append(f"row {self.row}")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Ledger:
    """Findings, notes and info of one audit, kept in the audit's scratch database."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.execute(
            "CREATE TABLE ledger (severity TEXT, check_ TEXT, code TEXT, file TEXT,"
            " offset INTEGER, row_ TEXT, url TEXT, message TEXT)")
        db.execute("CREATE INDEX ledger_order ON ledger (severity, check_)")

    def add(self, item: Finding) -> None:
        if item.check not in CHECKS:
            raise ValueError(f"unknown check {item.check!r}")
        self.db.execute(
            "INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (item.severity, item.check, item.code, item.file, item.offset, item.row, item.url,
             item.message))

    def finding(self, check: str, code: str, message: str, **where: Any) -> None:
        self.add(Finding(check, code, message, **where))

    def note(self, check: str, code: str, message: str, **where: Any) -> None:
        self.add(Finding(check, code, message, severity=NOTE, **where))

    def info(self, check: str, code: str, message: str, **where: Any) -> None:
        self.add(Finding(check, code, message, severity=INFO, **where))

    def counts(self, severity: str) -> dict[str, dict[str, int]]:
        """check -> code -> number of items of that severity."""
        out: dict[str, dict[str, int]] = {}
        for check, code, n in self.db.execute(
                "SELECT check_, code, count(*) FROM ledger WHERE severity = ? "
                "GROUP BY check_, code ORDER BY check_, code", (severity,)):
            out.setdefault(check, {})[code] = n
        return out

    def total(self, severity: str, check: str | None = None) -> int:
        if check is None:
            sql, args = "SELECT count(*) FROM ledger WHERE severity = ?", (severity,)
        else:
            sql = "SELECT count(*) FROM ledger WHERE severity = ? AND check_ = ?"
            args = (severity, check)
        return self.db.execute(sql, args).fetchone()[0]

    def items(self, severity: str, per_check: int | None = None) -> Iterator[Finding]:
        """Items of a severity in report order (check, file, offset, row, message); with
        `per_check`, at most that many of each check."""
        for check in CHECKS:
            sql = ("SELECT code, message, file, offset, row_, url FROM ledger WHERE severity = ?"
                   " AND check_ = ? ORDER BY file IS NOT NULL, file, offset IS NOT NULL, offset,"
                   " row_, code, message")
            args: tuple[Any, ...] = (severity, check)
            if per_check is not None:
                sql += " LIMIT ?"
                args += (per_check,)
            cursor = self.db.execute(sql, args)
            while batch := cursor.fetchmany(500):
                for code, message, file, offset, row, url in batch:
                    yield Finding(check, code, message, file, offset, row, url, severity)
