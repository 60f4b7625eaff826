"""Outputs: the corpus files against the manifest's hashes, and the rows inside them.

Every output file's sha256 and size against release.json (or build-summary.json), and the
parquet hashes croissant.json states. Then the rows: the `metadata` config holds every row, the
`text` config (JSONL and parquet) those the text policy lets in. Each form is read shard by
shard into the audit's scratch database, one hash per field, and the forms are compared: same
rows, same values, same order. Rows must be valid against the schema, ordered by URL then
revision, cut into shards of the release's `shard_rows`, and their revision bookkeeping
(`revision`, `previous_id`, `changed`, `date_first_captured`) must hold together.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from warcpack.audit.findings import Ledger
from warcpack.audit.target import Target
from warcpack.diff import RELEASE_MANIFEST
from warcpack.revisions import content_fields
from warcpack.row import RowError, validate
from warcpack.store.manifest import sha256_file
from warcpack.write import features
from warcpack.write.outdir import MARKER as SUMMARY
from warcpack.write.outdir import STAGING

CHECK = "outputs"
SHARD = re.compile(r"^train-(\d{5})-of-(\d{5})\.(jsonl|parquet)$")
_BATCH = 500
_INSTANT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width: text order is time order

ROWS_TABLE = """
CREATE TABLE rows (
  position INTEGER PRIMARY KEY, shard TEXT, idx INTEGER, id TEXT, url TEXT, revision INTEGER,
  previous_id TEXT, changed TEXT, captures INTEGER, captured TEXT, first TEXT, last TEXT,
  site TEXT, language TEXT, redistributable INTEGER, licence_empty INTEGER,
  schema_version TEXT, file TEXT, offset INTEGER, length INTEGER, record_id TEXT,
  payload_digest TEXT, warc_type TEXT, refers TEXT, fields TEXT, sample_key TEXT);
CREATE TABLE texts (
  form TEXT, position INTEGER, shard TEXT, idx INTEGER, id TEXT, url TEXT, revision INTEGER,
  redistributable INTEGER, line_hash TEXT, fields TEXT);
"""
INDEXES = """
CREATE INDEX rows_id ON rows (id);
CREATE INDEX rows_url ON rows (url, revision);
CREATE INDEX rows_place ON rows (file, offset);
CREATE INDEX texts_id ON texts (form, id);
CREATE INDEX texts_position ON texts (form, position);
"""


def run_script(db: sqlite3.Connection, script: str) -> None:
    """Statements one by one (`executescript` would commit the open transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


# --- values -----------------------------------------------------------------------------------


def instant(value: Any) -> str | None:
    """An instant (datetime, or RFC 3339 text) in one fixed-width UTC form, for comparing."""
    if value is None:
        return None
    if isinstance(value, str):
        value = features.parse_instant(value)
    return value.strftime(_INSTANT)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime(_INSTANT)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot hash a {type(value).__name__}")


def value_hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=_plain)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def field_hashes(values: dict[str, Any]) -> dict[str, str]:
    """One hash per top-level field of a row in its column form (see features.arrow_row)."""
    return {name: value_hash(value) for name, value in values.items()}


def differing(a: dict[str, str], b: dict[str, str], skip: frozenset[str] = frozenset()
              ) -> list[str]:
    """Fields whose hashes differ (or that one side lacks), sorted."""
    return sorted(k for k in (a.keys() | b.keys()) - skip if a.get(k) != b.get(k))


def _ref(value: dict[str, Any] | None) -> str | None:
    if not value:
        return None
    return f"{value.get('warc_file')} {value.get('warc_offset')} {value.get('warc_record_id')}"


def refers_key(file: str, offset: int, record_id: str) -> str:
    return f"{file} {offset} {record_id}"


def sample_key(seed: str, row_id: str) -> str:
    """Where a row falls in the reproducible sample order of this manifest."""
    return hashlib.sha256(f"{seed}:{row_id}".encode()).hexdigest()


# --- output files -----------------------------------------------------------------------------


def output_paths(folder: Path) -> list[str]:
    """Files of the corpus folder, as the release lists them (release.json and a build's
    staging folder aside)."""
    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel != RELEASE_MANIFEST and not rel.startswith(STAGING + "/"):
            out.append(rel)
    return out


def check_files(target: Target, ledger: Ledger) -> int:
    """sha256 and size of every output against the manifest; returns the files checked."""
    folder, source = target.folder, target.manifest_name
    listed = {o["path"]: o for o in target.expected_outputs}
    present = set(output_paths(folder))
    if target.manifest is None:
        present.discard(SUMMARY)  # a build's summary does not list itself
        ledger.note(CHECK, "summary-unhashed", f"a plain build: nothing vouches for {SUMMARY} "
                    f"itself (a release's {RELEASE_MANIFEST} does)", file=SUMMARY)
    for path in sorted(listed):
        want = listed[path]
        if path not in present:
            ledger.finding(CHECK, "output-missing", f"listed in {source} but not in the corpus",
                           file=path)
            continue
        digest, size = sha256_file(folder / path), (folder / path).stat().st_size
        if digest != want.get("sha256"):
            ledger.finding(CHECK, "output-changed", f"sha256 {digest} is not the "
                           f"{want.get('sha256')} that {source} lists ({size} bytes, listed "
                           f"{want.get('bytes')})", file=path)
        elif size != want.get("bytes"):
            ledger.finding(CHECK, "output-changed", f"{size} bytes, {source} lists "
                           f"{want.get('bytes')}", file=path)
    for path in sorted(present - listed.keys()):
        ledger.finding(CHECK, "output-unlisted", f"in the corpus but not listed in {source}",
                       file=path)
    _check_croissant(folder, ledger)
    return len(present)


def _check_croissant(folder: Path, ledger: Ledger) -> None:
    """croissant.json states the sha256 of each parquet shard: it must be the file's."""
    path = folder / "croissant.json"
    if not path.is_file():
        return
    try:
        doc = json.loads(path.read_text("utf-8"))
        objects = [d for d in doc.get("distribution", []) if d.get("@type") == "cr:FileObject"]
    except (ValueError, AttributeError, UnicodeDecodeError) as exc:
        ledger.finding(CHECK, "croissant-unreadable", f"cannot be read: {exc}",
                       file="croissant.json")
        return
    for obj in objects:
        rel = str(obj.get("contentUrl"))
        target = folder / rel
        if not target.is_file():
            ledger.finding(CHECK, "croissant-file", f"croissant.json lists {rel}, which is not in "
                           "the corpus", file="croissant.json")
        elif obj.get("sha256") != sha256_file(target):
            ledger.finding(CHECK, "croissant-hash", f"croissant.json gives sha256 "
                           f"{obj.get('sha256')}, the file's is {sha256_file(target)}", file=rel)


# --- shards -----------------------------------------------------------------------------------


def shards(target: Target, config: str, ext: str, ledger: Ledger) -> list[Path]:
    """The shard files of a config, in order; a name out of the `-NNNNN-of-MMMMM` sequence is
    a finding."""
    folder = target.folder / "data" / config
    found = sorted(folder.glob(f"*.{ext}")) if folder.is_dir() else []
    numbered: list[tuple[int, int, Path]] = []
    for path in found:
        m = SHARD.match(path.name)
        rel = path.relative_to(target.folder).as_posix()
        if not m:
            ledger.finding(CHECK, "shard-name", "not a shard name (train-NNNNN-of-MMMMM)",
                           file=rel)
            continue
        numbered.append((int(m.group(1)), int(m.group(2)), path))
    totals = {total for _, total, _ in numbered}
    if numbered and (len(totals) > 1 or [n for n, _, _ in numbered] != list(
            range(max(totals) if len(totals) == 1 else -1))):
        names = ", ".join(p.name for _, _, p in numbered)
        ledger.finding(CHECK, "shard-sequence", f"the {ext} shards of the {config} config do "
                       f"not make one complete sequence: {names}",
                       file=f"data/{config}")
    if not numbered:
        ledger.finding(CHECK, "shard-missing", f"no {ext} shards in data/{config}/",
                       file=f"data/{config}")
    return [p for _, _, p in numbered]


def _parquet_rows(path: Path, rel: str, config: str, ledger: Ledger
                  ) -> Iterator[dict[str, Any]]:
    try:
        handle = pq.ParquetFile(path)
        want = features.arrow_schema(config)
        if not handle.schema_arrow.equals(want, check_metadata=False):
            ledger.finding(CHECK, "shard-schema", f"columns are not those of the {config} "
                           "config of the row schema", file=rel)
            return
        for batch in handle.iter_batches(batch_size=_BATCH):
            yield from batch.to_pylist()
    except Exception as exc:  # a corrupt or cut parquet file
        ledger.finding(CHECK, "shard-unreadable", f"cannot be read as parquet: "
                       f"{type(exc).__name__}: {exc}"[:400], file=rel)


# --- loading rows -----------------------------------------------------------------------------


def _json_form(values: dict[str, Any]) -> dict[str, Any]:
    """A row in column form back in its JSON form (instants in UTC), to validate it."""
    def back(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".") + "Z"
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: back(v) for k, v in value.items()}
        if isinstance(value, list):
            return [back(v) for v in value]
        return value
    return {k: back(v) for k, v in values.items()}


def _schema_problems(row: dict[str, Any], without_text: bool, check: bool = True
                     ) -> list[str]:
    if not check:
        return []
    try:
        validate(row)
        return []
    except RowError as exc:
        problems = exc.problems
    if without_text:
        problems = [p for p in problems if not p.startswith(("text:", "(row): 'text'"))]
    return problems


def load_metadata(target: Target, db: sqlite3.Connection, ledger: Ledger,
                  validate_rows: bool = True) -> int:
    """Every row of the metadata config into the `rows` table; returns the rows read.
    `validate_rows`: check each row against the row schema (when it is the manifest's)."""
    position = 0
    want_version = target.schema_version
    for path in shards(target, "metadata", "parquet", ledger):
        rel = path.relative_to(target.folder).as_posix()
        batch: list[tuple[Any, ...]] = []
        for idx, values in enumerate(_parquet_rows(path, rel, "metadata", ledger)):
            row_id = values.get("id")
            problems = _schema_problems(_json_form(values), True, validate_rows)
            if problems:
                ledger.finding(CHECK, "row-schema", f"row {idx} of the shard is not valid "
                               "against the row schema: " + "; ".join(problems[:5]),
                               file=rel, row=row_id, url=values.get("url"))
            if want_version is not None and values.get("schema_version") != want_version:
                ledger.finding(CHECK, "row-schema-version", f"row says schema_version "
                               f"{values.get('schema_version')!r}, the "
                               f"{target.manifest_name} {want_version!r}", file=rel, row=row_id)
            batch.append(_row_tuple(position, rel, idx, values, target.seed))
            position += 1
            if len(batch) >= _BATCH:
                db.executemany(f"INSERT INTO rows VALUES ({','.join('?' * 26)})", batch)
                batch = []
        db.executemany(f"INSERT INTO rows VALUES ({','.join('?' * 26)})", batch)
    return position


def _row_tuple(position: int, shard: str, idx: int, v: dict[str, Any], seed: str
               ) -> tuple[Any, ...]:
    prov = v.get("provenance") or {}
    lic = v.get("license") or {}
    flag = lic.get("redistributable")
    empty = all(lic.get(k) is None for k in ("statement", "url", "spdx", "redistributable"))
    return (
        position, shard, idx, v.get("id"), v.get("url"), v.get("revision"), v.get("previous_id"),
        json.dumps(v.get("changed")), v.get("captures"), _safe_instant(v.get("date_captured")),
        _safe_instant(v.get("date_first_captured")), _safe_instant(v.get("date_last_captured")),
        v.get("site"), v.get("language"), None if flag is None else int(bool(flag)), int(empty),
        v.get("schema_version"), prov.get("warc_file"), prov.get("warc_offset"),
        prov.get("warc_length"), prov.get("warc_record_id"), prov.get("payload_digest"),
        prov.get("warc_type"), _ref(prov.get("refers_to")), json.dumps(field_hashes(v)),
        sample_key(seed, str(v.get("id"))),
    )


def _safe_instant(value: Any) -> str | None:
    try:
        return instant(value)
    except (ValueError, AttributeError, TypeError):
        return None


def load_texts(target: Target, db: sqlite3.Connection, ledger: Ledger,
               validate_rows: bool = True) -> None:
    """The text config, both forms, into the `texts` table (form "jsonl" or "parquet")."""
    position = 0
    for path in shards(target, "text", "jsonl", ledger):
        rel = path.relative_to(target.folder).as_posix()
        batch = []
        with open(path, "rb") as fh:
            for idx, line in enumerate(fh):
                item = _jsonl_row(line, rel, idx, ledger, validate_rows)
                if item is None:
                    continue
                row, values = item
                flag = (row.get("license") or {}).get("redistributable")
                batch.append(("jsonl", position, rel, idx, row.get("id"), row.get("url"),
                              row.get("revision"), None if flag is None else int(bool(flag)),
                              hashlib.sha256(line).hexdigest(),
                              json.dumps(field_hashes(values))))
                position += 1
                if len(batch) >= _BATCH:
                    db.executemany("INSERT INTO texts VALUES (?,?,?,?,?,?,?,?,?,?)", batch)
                    batch = []
        db.executemany("INSERT INTO texts VALUES (?,?,?,?,?,?,?,?,?,?)", batch)
    position = 0
    for path in shards(target, "text", "parquet", ledger):
        rel = path.relative_to(target.folder).as_posix()
        batch = []
        for idx, values in enumerate(_parquet_rows(path, rel, "text", ledger)):
            flag = (values.get("license") or {}).get("redistributable")
            batch.append(("parquet", position, rel, idx, values.get("id"), values.get("url"),
                          values.get("revision"), None if flag is None else int(bool(flag)),
                          None, json.dumps(field_hashes(values))))
            position += 1
            if len(batch) >= _BATCH:
                db.executemany("INSERT INTO texts VALUES (?,?,?,?,?,?,?,?,?,?)", batch)
                batch = []
        db.executemany("INSERT INTO texts VALUES (?,?,?,?,?,?,?,?,?,?)", batch)


def _jsonl_row(line: bytes, rel: str, idx: int, ledger: Ledger, validate_rows: bool
               ) -> tuple[dict[str, Any], dict[str, Any]] | None:
    where = f"line {idx + 1}"
    try:
        row = json.loads(line)
    except ValueError as exc:
        ledger.finding(CHECK, "row-unreadable", f"{where} is not JSON: {exc}", file=rel)
        return None
    if not isinstance(row, dict):
        ledger.finding(CHECK, "row-unreadable", f"{where} is not a JSON object", file=rel)
        return None
    problems = _schema_problems(row, False, validate_rows)
    if problems:
        ledger.finding(CHECK, "row-schema", f"{where} is not valid against the row schema: "
                       + "; ".join(problems[:5]), file=rel, row=row.get("id"),
                       url=row.get("url"))
        if any(p.startswith("(row)") for p in problems):  # a field missing: no column form
            return None
    try:
        values = features.arrow_row(row)
    except (ValueError, KeyError, TypeError) as exc:
        ledger.finding(CHECK, "row-unreadable", f"{where} has values the columns cannot hold: "
                       f"{exc}", file=rel, row=row.get("id"))
        return None
    return row, values


# --- the rows against each other --------------------------------------------------------------


def cross_check(target: Target, db: sqlite3.Connection, ledger: Ledger) -> None:
    """Duplicates, and the three forms against each other (membership, values, order)."""
    run_script(db, INDEXES)
    for label, sql in (
        ("metadata", "SELECT id, group_concat(shard || ' row ' || idx, '; '), count(*) "
                     "FROM rows GROUP BY id HAVING count(*) > 1 ORDER BY id"),
        ("text (JSONL)", "SELECT id, group_concat(shard || ' line ' || (idx + 1), '; '), "
                         "count(*) FROM texts WHERE form = 'jsonl' GROUP BY id "
                         "HAVING count(*) > 1 ORDER BY id"),
    ):
        for row_id, places, n in db.execute(sql):
            ledger.finding(CHECK, "row-duplicate", f"the {label} config holds row {row_id} "
                           f"{n} times: {places}", row=row_id, file=places.split(" ")[0])
    policy = target.text_policy
    # rows the text policy puts in the text config, missing from one of its forms
    for form, label in (("jsonl", "JSONL"), ("parquet", "parquet")):
        for row_id, url, shard, flag in db.execute(
                "SELECT r.id, r.url, r.shard, r.redistributable FROM rows r WHERE NOT EXISTS "
                "(SELECT 1 FROM texts t WHERE t.form = ? AND t.id = r.id) ORDER BY r.position",
                (form,)):
            if policy == "all" or flag == 1:
                ledger.finding(CHECK, "text-missing", f"the text config ({label}) lacks this "
                               f"row of the metadata config (text policy {policy!r})",
                               file=shard, row=row_id, url=url)
        for row_id, url, shard, idx in db.execute(
                "SELECT t.id, t.url, t.shard, t.idx FROM texts t WHERE t.form = ? AND NOT EXISTS"
                " (SELECT 1 FROM rows r WHERE r.id = t.id) ORDER BY t.position", (form,)):
            ledger.finding(CHECK, "metadata-missing", f"row {idx} of the {label} shard is not "
                           "in the metadata config", file=shard, row=row_id, url=url)
    # the same row, the same values, in every form
    text_only = frozenset({features.TEXT_COLUMN})
    for row_id, url, shard, meta, text in db.execute(
            "SELECT r.id, r.url, t.shard, r.fields, t.fields FROM rows r JOIN texts t ON "
            "t.id = r.id WHERE t.form = 'jsonl' ORDER BY t.position"):
        fields = differing(json.loads(meta), json.loads(text), skip=text_only)
        if fields:
            ledger.finding(CHECK, "forms-differ", "the row differs between the JSONL and the "
                           f"metadata config: {', '.join(fields)}", file=shard, row=row_id,
                           url=url)
    for row_id, url, shard, jl_shard, a, b in db.execute(
            "SELECT j.id, j.url, p.shard, j.shard, j.fields, p.fields FROM texts j JOIN texts p"
            " ON p.id = j.id AND p.form = 'parquet' WHERE j.form = 'jsonl' ORDER BY j.position"):
        fields = differing(json.loads(a), json.loads(b))
        if fields:
            ledger.finding(CHECK, "forms-differ", f"the row differs between {jl_shard} and this "
                           f"parquet shard: {', '.join(fields)}", file=shard, row=row_id, url=url)
    for position, a_id, a_shard, b_id in db.execute(
            "SELECT j.position, j.id, j.shard, p.id FROM texts j JOIN texts p ON "
            "p.position = j.position AND p.form = 'parquet' WHERE j.form = 'jsonl' "
            "AND j.id != p.id ORDER BY j.position"):
        ledger.finding(CHECK, "forms-order", f"row {position} of the text config is {a_id} in "
                       f"the JSONL and {b_id} in the parquet shards", file=a_shard, row=a_id)
    if policy == "redistributable":
        for row_id, url, shard, form, flag in db.execute(
                "SELECT id, url, shard, form, redistributable FROM texts WHERE "
                "redistributable IS NOT 1 ORDER BY form, position"):
            ledger.finding("licences", "text-policy", "the row's text is in the text config "
                           f"({form}), but the build's text policy is 'redistributable' and "
                           "the row is " + ("not redistributable" if flag == 0 else
                                            "of unknown licence"),
                           file=shard, row=row_id, url=url)


def check_order(target: Target, db: sqlite3.Connection, ledger: Ledger) -> None:
    """Rows ordered by URL then revision, in full shards of `shard_rows` rows."""
    for form, sql in (
        ("metadata", "SELECT id, url, revision, shard, idx FROM rows ORDER BY position"),
        ("text", "SELECT id, url, revision, shard, idx FROM texts WHERE form = 'jsonl' "
                 "ORDER BY position"),
    ):
        previous = None
        for row_id, url, revision, shard, idx in db.execute(sql):
            key = (url or "", revision or 0)
            if previous is not None and key <= previous[0]:
                ledger.finding(CHECK, "row-order", f"in the {form} config, row {row_id} "
                               f"({url}, revision {revision}; {shard} row {idx}) comes after "
                               f"row {previous[1]} ({previous[0][0]}, revision "
                               f"{previous[0][1]}; {previous[2]}): rows are ordered by URL, "
                               "then revision", file=shard, row=row_id, url=url)
            previous = (key, row_id, f"{shard} row {idx}")
    size = target.shard_rows
    for form, table, where in (("metadata", "rows", ""),
                               ("text", "texts", "WHERE form = 'jsonl'"),
                               ("text (parquet)", "texts", "WHERE form = 'parquet'")):
        counts = db.execute(f"SELECT shard, count(*) FROM {table} {where} GROUP BY shard "
                            "ORDER BY shard").fetchall()
        if size is None and len(counts) > 1:
            size = counts[0][1]  # a plain build does not say: the first shard is full
        if size is None:
            continue
        for i, (shard, n) in enumerate(counts):
            last = i == len(counts) - 1
            if n > size or (not last and n != size):
                ledger.finding(CHECK, "shard-size", f"{n} rows in a shard of the {form} config; "
                               f"every shard but the last holds shard_rows={size}", file=shard)


def check_revisions(db: sqlite3.Connection, ledger: Ledger) -> None:
    """Each URL's rows: revisions 1..n, each naming the previous one and the fields in which it
    differs from it, captured after the previous revision's last capture."""
    content = [f for f in content_fields() if f != features.TEXT_COLUMN]
    texts = "(SELECT t.fields FROM texts t WHERE t.form = 'jsonl' AND t.id = r.id LIMIT 1)"
    cursor = db.execute(
        "SELECT r.id, r.url, r.revision, r.previous_id, r.changed, r.captures, r.captured, "
        f"r.first, r.last, r.shard, r.fields, {texts} FROM rows r ORDER BY r.url, r.revision, "
        "r.position")
    previous: tuple[Any, ...] | None = None
    while batch := cursor.fetchmany(_BATCH):
        for row in batch:
            row_id, url, revision, prev_id, changed, captures, captured, first, last, shard, \
                fields, text_fields = row
            where = {"file": shard, "row": row_id, "url": url}
            same_url = previous is not None and previous[1] == url
            want_revision = previous[2] + 1 if same_url else 1
            problems = []
            if revision != want_revision:
                problems.append(f"revision {revision}, expected {want_revision}")
            want_prev = previous[0] if same_url else None
            if prev_id != want_prev:
                problems.append(f"previous_id {prev_id}, expected {want_prev}")
            if first != captured:
                problems.append("date_first_captured is not date_captured")
            if captures is None or captures < 1 or (last is not None and captured is not None
                                                    and last < captured):
                problems.append(f"captures {captures} from {captured} to {last}")
            if same_url and previous[8] is not None and captured is not None and \
                    captured < previous[8]:
                problems.append("captured before the previous revision's last capture")
            listed = json.loads(changed) if changed else []
            if same_url:
                a, b = json.loads(previous[10]), json.loads(fields)
                want = [f for f in content if a.get(f) != b.get(f)]
                if previous[11] is not None and text_fields is not None:
                    if json.loads(previous[11]).get("text") != json.loads(text_fields).get(
                            "text"):
                        want.append(features.TEXT_COLUMN)
                    ok = sorted(want) == listed
                else:  # a text is not in the text config: it may or may not have changed
                    ok = sorted(want) == [f for f in listed if f != features.TEXT_COLUMN]
                if not ok or not listed:
                    problems.append(f"changed lists {listed}, the fields that differ from "
                                    f"revision {previous[2]} are {sorted(want)}")
            elif listed:
                problems.append(f"a first revision with changed {listed}")
            if problems:
                ledger.finding(CHECK, "revision-chain", "; ".join(problems), **where)
            previous = row
