"""The corpus row: built from a record and what was extracted from it, checked against the schema.

`schema/record.schema.json` is the one definition of a row; validation, the dataset features
and the data card all read it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator

from warcpack import __version__
from warcpack.record import RecordRef, SourceRecord


@cache
def schema() -> dict[str, Any]:
    """The row schema shipped with the package."""
    return json.loads(files("warcpack").joinpath("schema/record.schema.json").read_text("utf-8"))


def schema_version() -> str:
    return schema()["x-schema-version"]


_ANNOTATIONS = {"description", "title", "$comment", "examples"}


def _inlined(node: Any, defs: dict[str, Any], within: frozenset[str] = frozenset()) -> Any:
    """The schema with each local `$ref` beside annotations only replaced by what it names
    (a recursive one is kept): the same checks, without resolving a reference for every date
    of every row."""
    if isinstance(node, list):
        return [_inlined(x, defs, within) for x in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    name = ref[len("#/$defs/"):] if isinstance(ref, str) and ref.startswith("#/$defs/") else None
    if name in defs and name not in within and set(node) - {"$ref"} <= _ANNOTATIONS:
        target = _inlined(defs[name], defs, within | {name})
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return {k: _inlined(v, defs, within) for k, v in node.items()}


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(_inlined(schema(), schema().get("$defs", {})),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


class RowError(ValueError):
    """A row that does not match the schema: never written, always reported with its record."""

    def __init__(self, ref: RecordRef | None, problems: list[str]):
        where = f"{ref.warc_file} at offset {ref.offset} ({ref.record_id})" if ref else "row"
        super().__init__(f"invalid row from {where}: " + "; ".join(problems))
        self.ref = ref
        self.problems = problems


def validate(row: dict[str, Any], ref: RecordRef | None = None) -> dict[str, Any]:
    """Return the row unchanged if valid; raise RowError naming its record if not."""
    errors = sorted(_validator().iter_errors(row), key=lambda e: list(e.absolute_path))
    if errors:
        problems = [
            f"{'/'.join(str(p) for p in e.absolute_path) or '(row)'}: {e.message}" for e in errors
        ]
        raise RowError(ref, problems[:10])
    return row


def row_id(ref: RecordRef) -> str:
    """Stable id: the same WARC record gives the same id in every build, wherever it is stored."""
    return hashlib.sha256(f"{ref.record_id}".encode()).hexdigest()[:32]


def warc_date_to_rfc3339(value: str) -> str:
    """WARC-Date (W3C/ISO 8601 in UTC, maybe with fractions) to RFC 3339 with an explicit offset."""
    text = value.strip()
    if len(text) == 10:  # a bare day, as some tools write
        text += "T00:00:00Z"
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    out = parsed.isoformat()
    return out.replace("+00:00", "Z") if out.endswith("+00:00") else out


@dataclass
class Extracted:
    """What the extractors learned from one payload; the row adds identity and provenance."""

    text: str
    title: str | None = None
    language: str | None = None
    authors: list[str] = field(default_factory=list)
    publisher: str | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    description: str | None = None
    site: str | None = None
    date_published: str | None = None
    date_modified: str | None = None
    date_published_day: str | None = None
    date_modified_day: str | None = None
    dates: dict[str, Any] = field(default_factory=dict)
    http_last_modified: str | None = None
    license: dict[str, Any] = field(default_factory=dict)
    charset: str | None = None
    charset_source: str | None = None
    extractor: str = "trafilatura"
    extractor_version: str = ""


@dataclass(frozen=True)
class Skip:
    """A record that gives no row, and why (counted and reported by the build)."""

    reason: str  # short key: "not-html", "empty", "http-error", "damaged", "too-large", ...
    detail: str = ""


def _ref_dict(ref: RecordRef) -> dict[str, Any]:
    return {
        "warc_file": ref.warc_file,
        "warc_offset": ref.offset,
        "warc_length": ref.length,
        "warc_record_id": ref.record_id,
    }


def make_row(rec: SourceRecord, ext: Extracted) -> dict[str, Any]:
    """Assemble and validate the row for one record; key order is fixed by this function."""
    empty_detail = {
        "raw": None, "source": None, "precision": None, "timezone": None, "timezone_source": None,
    }
    dates = {
        "published": ext.dates.get("published") or dict(empty_detail),
        "modified": ext.dates.get("modified") or dict(empty_detail),
    }
    license_ = {"statement": None, "url": None, "spdx": None, "redistributable": None,
                "source": None}
    license_.update(ext.license)
    captured = warc_date_to_rfc3339(rec.warc_date)
    row = {
        "id": row_id(rec.ref),
        "url": rec.url,
        # One capture on its own is revision 1; a build links the captures of a URL afterwards
        # (see warcpack.revisions).
        "revision": 1,
        "previous_id": None,
        "changed": [],
        "captures": 1,
        "site": ext.site,
        "title": ext.title,
        "text": ext.text,
        "language": ext.language,
        "authors": list(ext.authors),
        "publisher": ext.publisher,
        "section": ext.section,
        "tags": list(ext.tags),
        "description": ext.description,
        "date_published": ext.date_published,
        "date_modified": ext.date_modified,
        "date_captured": captured,
        "date_first_captured": captured,
        "date_last_captured": captured,
        "http_last_modified": ext.http_last_modified,
        "date_published_day": ext.date_published_day,
        "date_modified_day": ext.date_modified_day,
        "dates": dates,
        "license": license_,
        "provenance": {
            **_ref_dict(rec.ref),
            "warc_type": rec.warc_type,
            "payload_digest": rec.payload_digest,
            "refers_to": _ref_dict(rec.refers_to) if rec.refers_to else None,
            "http_status": rec.http_status,
            "content_type": rec.content_type,
            "charset": ext.charset,
            "charset_source": ext.charset_source,
            "extractor": ext.extractor,
            "extractor_version": ext.extractor_version,
            "tool_version": __version__,
        },
        "schema_version": schema_version(),
    }
    return validate(row, rec.ref)
