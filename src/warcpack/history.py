"""`warcpack history URL`: every capture of one page, its dates, and what changed between them.

Each capture in the store is read and extracted as a build would, then folded the same way (see
`revisions`): a capture whose content differs from the previous revision starts a new one, and
the text of consecutive revisions is shown as a unified diff, paragraph by paragraph.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from warcpack.revisions import capture_order, changed_fields, row_order
from warcpack.row import warc_date_to_rfc3339
from warcpack.store import IndexEntry, Store, StoreError


class HistoryError(Exception):
    """The history cannot be read (no store, unreadable index)."""


@dataclass
class CaptureView:
    """One capture of the page, as the build sees it."""

    captured: str  # WARC-Date, RFC 3339
    warc_type: str  # response, revisit or resource
    warc_file: str
    offset: int
    http_status: int | None
    revision: int | None = None  # the revision whose content it has; None: it gave no row
    new_revision: bool = False  # it starts that revision (its record is the row's record)
    row_id: str | None = None  # id of that revision's row
    title: str | None = None
    date_published: str | None = None
    date_modified: str | None = None
    changed: list[str] = field(default_factory=list)  # vs the previous revision
    diff: list[str] = field(default_factory=list)  # unified diff of the text, by paragraph
    skipped: str | None = None  # why it gave no row (reason: detail)


@dataclass
class PageHistory:
    url: str
    captures: list[CaptureView]

    @property
    def revisions(self) -> int:
        return sum(c.new_revision for c in self.captures)

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "revisions": self.revisions,
                "captures": [asdict(c) for c in self.captures]}

    def print(self, console: Console) -> None:
        console.print(f"[bold]{escape(self.url)}[/]: {plural(len(self.captures), 'capture')}, "
                      f"{plural(self.revisions, 'revision')}", highlight=False)
        for c in self.captures:
            if c.skipped:
                note = f"[yellow]no row[/] ({escape(c.skipped)})"
            elif c.new_revision and c.changed:
                note = f"[green]revision {c.revision}[/], changed: " + ", ".join(c.changed)
            elif c.new_revision:
                note = f"[green]revision {c.revision}[/]"
            else:
                note = f"revision {c.revision} again (same content)"
            console.print(f"{c.captured}  {c.warc_type}  HTTP {c.http_status or '-'}  {note}",
                          highlight=False)
            if not c.skipped:
                console.print(f"    published {c.date_published or '-'}  modified "
                              f"{c.date_modified or '-'}", highlight=False)
        for c in self.captures:
            if not (c.new_revision and c.revision and c.revision > 1):
                continue
            console.print(f"\n[bold]revision {c.revision}[/] (captured {c.captured}) against "
                          f"revision {c.revision - 1}: {', '.join(c.changed)}")
            if not c.diff:
                console.print("  (text unchanged)")
            for line in c.diff:
                style = ("bold" if line.startswith(("---", "+++")) else
                         "green" if line.startswith("+") else
                         "red" if line.startswith("-") else "cyan" if line.startswith("@@")
                         else "")
                text = escape(line)
                console.print(f"[{style}]{text}[/]" if style else text, highlight=False)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


def text_diff(old: dict[str, Any], new: dict[str, Any], old_rev: int) -> list[str]:
    """Unified diff of two rows' text, one line per paragraph (no context: the changes)."""
    return list(difflib.unified_diff(
        _paragraphs(old["text"]), _paragraphs(new["text"]),
        fromfile=f"revision {old_rev} ({old['date_captured']})",
        tofile=f"revision {old_rev + 1} ({new['date_captured']})", lineterm="", n=0,
    ))


def _stamp_iso(stamp: str) -> str:
    s = stamp.ljust(14, "0")
    return f"{s[0:4]}-{s[4:6]}-{s[6:8]}T{s[8:10]}:{s[10:12]}:{s[12:14]}Z"


def _read(store: Store, entry: IndexEntry) -> tuple[tuple[str, str, int], CaptureView,
                                                     dict[str, Any] | None] | None:
    """(sort key, view, row or None) of one indexed capture; None for a record of no page."""
    from warcpack.build import process
    from warcpack.record import SkippedRecord
    from warcpack.write.summary import Skipped

    for rec in store.iter_records([entry.filename], start=entry.offset, stop=entry.offset + 1):
        if isinstance(rec, SkippedRecord):
            captured = _stamp_iso(entry.timestamp)
            view = CaptureView(captured, entry.record_type, entry.filename, entry.offset,
                               entry.status, skipped=f"{rec.reason}: {rec.detail}".rstrip(": "))
            return capture_order(captured, entry.filename, entry.offset), view, None
        result = process(rec)
        if isinstance(result, Skipped):
            try:
                captured = warc_date_to_rfc3339(rec.warc_date)
                key = capture_order(captured, entry.filename, entry.offset)
            except ValueError:
                captured = _stamp_iso(entry.timestamp)
                key = capture_order(captured, entry.filename, entry.offset)
            view = CaptureView(captured, rec.warc_type, entry.filename, entry.offset,
                               rec.http_status,
                               skipped=f"{result.reason}: {result.detail}".rstrip(": "))
            return key, view, None
        row = json.loads(result.line)
        view = CaptureView(row["date_captured"], rec.warc_type, entry.filename, entry.offset,
                           rec.http_status, title=row["title"],
                           date_published=row["date_published"],
                           date_modified=row["date_modified"])
        return row_order(row), view, row
    return None  # e.g. a metadata record indexed under the URL


def history(url: str, store: Path | str | Store) -> PageHistory:
    """Every capture of URL in the store, oldest first, folded into revisions."""
    try:
        opened = store if isinstance(store, Store) else Store.open(store)
        entries = opened.captures(url)
    except (StoreError, ValueError, OSError) as exc:
        raise HistoryError(str(exc)) from None
    read = [found for entry in entries if (found := _read(opened, entry)) is not None]
    read.sort(key=lambda item: item[0])
    views: list[CaptureView] = []
    previous: dict[str, Any] | None = None
    revision, row_id = 0, None
    for _, view, row in read:
        views.append(view)
        if row is None:
            continue
        changed = changed_fields(previous, row) if previous is not None else None
        if changed is None or changed:
            view.new_revision, view.changed = True, changed or []
            if previous is not None:
                view.diff = text_diff(previous, row, revision)
            revision, row_id, previous = revision + 1, row["id"], row
        view.revision, view.row_id = revision, row_id
    return PageHistory(url, views)
