"""The release's figures, recounted from the rows and records, against what its manifest and
build summary say; and the timeline of captures per site for the report."""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import urlsplit

from warcpack.audit.corpus import instant
from warcpack.audit.findings import Ledger
from warcpack.audit.target import Target


def host(url: str | None) -> str | None:
    """A URL's host, lowercased, without "www." (as rows name their site)."""
    try:
        name = urlsplit(url or "").hostname
    except ValueError:
        return None
    return name.removeprefix("www.") if name else None


def recount(db: sqlite3.Connection) -> dict[str, Any]:
    """Figures of the corpus as audited (the rows and records actually there)."""
    one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    by = lambda sql: dict(db.execute(sql).fetchall())  # noqa: E731
    first, last = db.execute("SELECT min(captured), max(last) FROM rows").fetchone()
    flags = by("SELECT CASE redistributable WHEN 1 THEN 'true' WHEN 0 THEN 'false' "
               "ELSE 'unknown' END AS f, count(*) FROM rows GROUP BY f")
    return {
        "rows": one("SELECT count(*) FROM rows"),
        "text_rows": one("SELECT count(*) FROM texts WHERE form = 'jsonl'"),
        "urls": one("SELECT count(DISTINCT url) FROM rows"),
        "identical_recaptures": one("SELECT coalesce(sum(captures - 1), 0) FROM rows"),
        "records": one("SELECT count(*) FROM records"),
        "captures": one("SELECT count(*) FROM records WHERE kind = 'source'"),
        "skipped": one("SELECT count(*) FROM skips"),
        "skipped_by_reason": by("SELECT reason, count(*) FROM skips GROUP BY reason "
                                "ORDER BY reason"),
        "sites": by("SELECT coalesce(site, '(unknown)') AS s, count(*) FROM rows GROUP BY s "
                    "ORDER BY s"),
        "languages": by("SELECT coalesce(language, '(unknown)') AS s, count(*) FROM rows "
                        "GROUP BY s ORDER BY s"),
        "redistributable": {k: flags.get(k, 0) for k in ("true", "false", "unknown")},
        "captured": {"first": _rfc3339(first), "last": _rfc3339(last)},
    }


def _rfc3339(value: str | None) -> str | None:
    """The fixed-width instant back in the rows' form (no fraction when it is zero)."""
    if value is None:
        return None
    return value.replace(".000000Z", "Z")


def compare(target: Target, found: dict[str, Any], ledger: Ledger, records_read: bool) -> None:
    """What release.json and build-summary.json say against the recount."""
    claims: list[tuple[str, str, Any, Any]] = []
    if target.manifest is not None:
        said = target.manifest.get("rows") or {}
        claims += [("release.json", f"rows.{k}", said.get(k), found[f]) for k, f in (
            ("rows", "rows"), ("text_rows", "text_rows"), ("urls", "urls"),
            ("identical_recaptures", "identical_recaptures"), ("skipped", "skipped"))]
        if records_read:
            claims.append(("release.json", "rows.records_seen", said.get("records_seen"),
                           found["records"]))
        claims += [("release.json", f"rows.captured.{k}", _instant(
            (said.get("captured") or {}).get(k)), _instant(found["captured"][k]))
            for k in ("first", "last")]
    summary = target.summary
    if summary is not None:
        claims += [("build-summary.json", k, summary.get(k), found[f]) for k, f in (
            ("rows_written", "rows"), ("text_rows", "text_rows"), ("urls", "urls"),
            ("identical_recaptures", "identical_recaptures"), ("skipped_total", "skipped"),
            ("skipped_by_reason", "skipped_by_reason"), ("sites", "sites"),
            ("languages", "languages"), ("redistributable", "redistributable"))]
        if records_read:
            claims.append(("build-summary.json", "records_seen", summary.get("records_seen"),
                           found["records"]))
        claims += [("build-summary.json", f"captured.{k}", _instant(
            (summary.get("captured") or {}).get(k)), _instant(found["captured"][k]))
            for k in ("first", "last")]
    for file, key, said_value, value in claims:
        if said_value != value:
            check = "completeness" if key.endswith("records_seen") else "outputs"
            ledger.finding(check, "figures-differ", f"{key} is {said_value!r}, but the corpus "
                           f"and the store give {value!r}", file=file)


def _instant(value: Any) -> str | None:
    try:
        return instant(value)
    except (ValueError, TypeError, AttributeError):
        return str(value)


def timeline(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Captures per site per day (every record read from the store, pages or not)."""
    db.create_function("host", 1, host, deterministic=True)
    site = ("coalesce((SELECT w.site FROM rows w WHERE w.url = r.url AND w.site IS NOT NULL "
            "LIMIT 1), host(r.url), '(unknown)')")
    return [{"site": s, "day": d, "captures": n} for s, d, n in db.execute(
        f"SELECT {site} AS site, substr(r.captured, 1, 10) AS day, count(*) FROM records r "
        "WHERE r.kind = 'source' AND r.captured IS NOT NULL GROUP BY site, day "
        "ORDER BY site, day")]
