"""Revisions of a page: the captures of one URL, in capture order, folded into distinct contents.

A capture whose extracted content equals the previous revision's (a revisit, or the same payload
captured again) adds no row: it is counted in that revision's `captures` and moves its
`date_last_captured`. A capture whose content differs becomes the next revision, naming the
previous one (`previous_id`) and the fields that differ (`changed`).

"Content" is every row field but identity, provenance and capture bookkeeping (`CAPTURE_FIELDS`):
the text, title, dates, licence... as the extractors found them. The list is read from the
schema, so a field added there is compared without being named here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from warcpack.row import schema

# Fields that say which capture a row is, not what the page said.
CAPTURE_FIELDS = frozenset({
    "id", "url", "revision", "previous_id", "changed", "captures", "date_captured",
    "date_first_captured", "date_last_captured", "provenance", "schema_version",
})


@cache
def content_fields() -> tuple[str, ...]:
    """Row fields compared between captures, in schema order."""
    return tuple(name for name in schema()["properties"] if name not in CAPTURE_FIELDS)


def changed_fields(previous: dict[str, Any], row: dict[str, Any]) -> list[str]:
    """Content fields whose values differ between two rows, sorted by name."""
    return sorted(name for name in content_fields() if previous.get(name) != row.get(name))


def capture_order(captured: str | None, warc_file: str, offset: int) -> tuple[str, str, int]:
    """Sort key of a capture: its instant in UTC (fixed width, so text order is time order),
    then its place in the store, which orders captures made within the same second."""
    if not captured:
        return ("", warc_file, offset)
    from warcpack.write.columns import parse_instant  # not features: workers need no pyarrow

    return (parse_instant(captured).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), warc_file, offset)


def row_order(row: dict[str, Any]) -> tuple[str, str, int]:
    """`capture_order` of a row made by `make_row`."""
    prov = row["provenance"]
    return capture_order(row["date_captured"], prov["warc_file"], prov["warc_offset"])


@dataclass
class RevisionStats:
    """What folding did: pages seen, rows kept, identical re-captures folded into a row."""

    urls: int = 0
    rows: int = 0
    recaptures: int = 0


def assign(rows: Iterable[dict[str, Any]], stats: RevisionStats | None = None
           ) -> Iterator[dict[str, Any]]:
    """Fold rows sorted by (url, capture order) into revisions; yield each kept row once,
    completed, in the same order (by URL, then revision).

    Rows are those of `make_row` (one capture each); they are updated in place. Only the
    current revision of the current URL is held, so memory does not grow with the corpus.
    """
    stats = stats if stats is not None else RevisionStats()
    pending: dict[str, Any] | None = None
    for row in rows:
        if pending is not None and pending["url"] == row["url"]:
            changed = changed_fields(pending, row)
            if not changed:
                pending["captures"] += 1
                pending["date_last_captured"] = row["date_captured"]
                stats.recaptures += 1
                continue
            row.update(revision=pending["revision"] + 1, previous_id=pending["id"],
                       changed=changed)
        else:
            stats.urls += 1
            row.update(revision=1, previous_id=None, changed=[])
        row.update(captures=1, date_first_captured=row["date_captured"],
                   date_last_captured=row["date_captured"])
        if pending is not None:
            stats.rows += 1
            yield pending
        pending = row
    if pending is not None:
        stats.rows += 1
        yield pending
