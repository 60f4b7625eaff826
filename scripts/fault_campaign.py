"""Fault campaign: damaged WARC files made from real pages, ingested, verified and built by
warcpack, and every record's outcome checked against a clean build of the same records.

    .venv/bin/python scripts/fault_campaign.py                  # 1,000 files, seed 0
    .venv/bin/python scripts/fault_campaign.py --files 50       # a quick run
    .venv/bin/python scripts/fault_campaign.py --seed 7 --json campaign.json

Each file holds 2-4 pages of the article-extraction benchmark (../shared/benchmark, beside the
repository) as HTTP responses whose bodies are sent as they are, chunked, or content-encoded
(gzip, deflate, br, chunked gzip); most files start with a warcinfo record and some hold a
record of a type the WARC standard does not define. The clean form of a file is gzipped per
record. Each file then gets one seeded mutation (see MUTATIONS), and the generator knows each
record's byte span in the damaged file and whether the mutation touched it.

The clean files and the damaged files go into two stores (`ingest --accept-damaged`; a file
with no readable record at all is refused, and its refusal is its report), both stores are
verified and built, and then every record is judged:

- intact (the mutation did not touch it): recovered if its outcome in the damaged build (its
  row, or its skip reason) equals its outcome in the clean build. Rows are compared whole but
  for where the record sits (file suffix, offset, length) and the case of the base32 payload
  digest (base32 is case-blind; WARC readers compare digests that way).
- damaged: harmless if its outcome still equals the clean one (a flipped byte that no reader
  could see, e.g. in the modification time of a gzip header), else reported if the build or
  ingest names its file and an offset inside its span.
- lost: an intact record not recovered, or a damaged one neither harmless nor reported. The
  campaign fails unless lost is 0 and nothing crashed or hung.

Uncompressed WARC files carry no checksum over their headers, so flipped header bytes are
placed where a reader can tell: the version line, the names of the mandatory fields, and the
values of WARC-Type, Content-Length and the digests. A flipped byte in a free value such as the
target URI reads as a different, valid record; no reader can detect it.
"""

from __future__ import annotations

import argparse
import faulthandler
import gzip
import json
import random
import shutil
import sys
import tempfile
import time
import uuid
import zlib
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import brotli
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT.parent / "shared" / "benchmark" / "article-extraction"

# mutation -> weight in the draw
MUTATIONS = {
    "none": 1,  # gzipped per record, untouched
    "uncompressed": 2,  # a plain .warc
    "one-stream": 2,  # the whole file gzipped as one stream
    "truncate-member": 3,  # one record's gzip member cut short, the file goes on
    "truncate-file": 3,  # the file ends at a random byte
    "flip-gzip": 4,  # 1-3 bytes flipped in one gzip member (header, data or trailer)
    "flip-header": 4,  # a byte flipped in the WARC headers of one record (plain file)
    "flip-body": 2,  # a byte flipped in the block of one record (plain file)
    "length-short": 2,  # Content-Length smaller than the block
    "length-long": 2,  # Content-Length larger than the block
    "junk": 2,  # bytes that are no record between two records
    "empty": 1,  # an empty file
}
ENCODINGS = ("identity", "identity", "chunked", "gzip", "deflate", "br", "chunked+gzip")
_CHECKED_NAMES = ("warc-type", "warc-record-id", "warc-date", "content-length", "warc-target-uri")
_CHECKED_VALUES = ("warc-type", "content-length", "warc-block-digest", "warc-payload-digest")
_START = datetime(2024, 3, 1, tzinfo=UTC)
DAMAGE_REASONS = ("damaged", "header-limit")


@dataclass
class Rec:
    """One record of a campaign file."""

    record_id: str
    kind: str  # "page", "warcinfo" or "unknown"
    detail: str = ""  # for pages: the body's transfer / content encoding


@dataclass
class Case:
    """One campaign file: what is in it and what the mutation did."""

    index: int
    name: str  # stem, e.g. "f0007"
    mutation: str
    suffix: str  # of the damaged file: ".warc.gz" or ".warc"
    records: list[Rec]
    clean_spans: list[tuple[int, int]]  # in the clean file (gzipped per record)
    spans: list[tuple[int, int] | None]  # in the damaged file; None: not in it (cut off)
    damaged: list[int] = field(default_factory=list)  # indexes of records the mutation touched

    @property
    def clean_name(self) -> str:
        return self.name + ".warc.gz"

    @property
    def damaged_name(self) -> str:
        return self.name + self.suffix


# --- pages and records -----------------------------------------------------------------------


def load_pages(folder: Path = PAGES) -> list[tuple[str, bytes]]:
    """(url, html bytes) of the benchmark pages, sorted by id."""
    truth = json.loads((folder / "ground-truth.json").read_text("utf-8"))
    return [(truth[key]["url"], gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes()))
            for key in sorted(truth)]


def _chunked(data: bytes, rng: random.Random) -> bytes:
    out, i = [], 0
    while i < len(data):
        size = rng.randint(1, 16384)
        piece = data[i : i + size]
        out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
        i += size
    return b"".join(out) + b"0\r\n\r\n"


def _encoded(html: bytes, encoding: str, rng: random.Random) -> tuple[bytes, list[tuple[str, str]]]:
    """(raw HTTP body, its framing headers) for one of ENCODINGS."""
    headers: list[tuple[str, str]] = []
    body = html
    if encoding in ("gzip", "chunked+gzip"):
        body = gzip.compress(html, mtime=0)
        headers.append(("Content-Encoding", "gzip"))
    elif encoding == "deflate":
        body = zlib.compress(html)
        headers.append(("Content-Encoding", "deflate"))
    elif encoding == "br":
        body = brotli.compress(html, quality=4)
        headers.append(("Content-Encoding", "br"))
    if encoding.startswith("chunked"):
        body = _chunked(body, rng)
        headers.append(("Transfer-Encoding", "chunked"))
    else:
        headers.append(("Content-Length", str(len(body))))
    return body, headers


def _serialise(record: Any) -> bytes:
    out = BytesIO()
    WARCWriter(out, gzip=False).write_record(record)
    return out.getvalue()


def _records(rng: random.Random, index: int, name: str,
             pages: list[tuple[str, bytes]]) -> tuple[list[Rec], list[bytes]]:
    writer = WARCWriter(BytesIO(), gzip=False)
    recs: list[Rec] = []
    raws: list[bytes] = []
    when = _START + timedelta(minutes=10 * index)

    def ids() -> str:
        return f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}>"

    def date(j: int) -> str:
        return (when + timedelta(seconds=j)).strftime("%Y-%m-%dT%H:%M:%SZ")

    if rng.random() < 0.8:
        info = writer.create_warcinfo_record(name + ".warc.gz", {"software": "fault-campaign"})
        record_id = ids()
        info.rec_headers.replace_header("WARC-Record-ID", record_id)
        info.rec_headers.replace_header("WARC-Date", date(0))
        recs.append(Rec(record_id, "warcinfo"))
        raws.append(_serialise(info))
    for j in range(rng.randint(2, 4)):
        url, html = rng.choice(pages)
        url = f"{url}{'&' if '?' in url else '?'}fault={index}.{j}"
        encoding = rng.choice(ENCODINGS)
        body, framing = _encoded(html, encoding, rng)
        http = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=utf-8"), *framing], protocol="HTTP/1.1")
        record_id = ids()
        record = writer.create_warc_record(
            url, "response", payload=BytesIO(body), length=len(body), http_headers=http,
            warc_headers_dict={"WARC-Date": date(j + 1), "WARC-Record-ID": record_id})
        recs.append(Rec(record_id, "page", encoding))
        raws.append(_serialise(record))
    if rng.random() < 0.25:
        record_id = ids()
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(10, 3000)))
        record = writer.create_warc_record(
            f"https://fault.example/{index}/shot.bin", "x-screenshot", payload=BytesIO(data),
            length=len(data), warc_content_type="application/octet-stream",
            warc_headers_dict={"WARC-Date": date(9), "WARC-Record-ID": record_id})
        at = rng.randint(1 if recs[0].kind == "warcinfo" else 0, len(recs))
        recs.insert(at, Rec(record_id, "unknown"))
        raws.insert(at, _serialise(record))
    return recs, raws


# --- mutations --------------------------------------------------------------------------------


def _gz(raw: bytes) -> bytes:
    return gzip.compress(raw, compresslevel=6, mtime=0)


def _layout(parts: list[bytes]) -> tuple[bytes, list[tuple[int, int]]]:
    spans, pos = [], 0
    for part in parts:
        spans.append((pos, pos + len(part)))
        pos += len(part)
    return b"".join(parts), spans


def _flip(data: bytearray, at: int, rng: random.Random) -> None:
    data[at] ^= rng.randint(1, 255)


def _header_targets(raw: bytes) -> list[int]:
    """Offsets in a record's WARC headers whose damage a reader can detect (see the docstring)."""
    end = raw.index(b"\r\n\r\n")
    targets = list(range(0, raw.index(b"\r\n")))  # the version line
    pos = raw.index(b"\r\n") + 2
    while pos < end:
        stop = raw.index(b"\r\n", pos)
        line = raw[pos:stop]
        colon = line.find(b":")
        name = line[:colon].decode("latin-1").lower() if colon > 0 else ""
        if name in _CHECKED_NAMES:
            targets += range(pos, pos + colon + 1)
        if name in _CHECKED_VALUES:
            targets += range(pos + colon + 2, stop)
        pos = stop + 2
    return targets


def _with_length(raw: bytes, delta: int) -> bytes:
    head, sep, rest = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    for k, line in enumerate(lines):
        if line.lower().startswith(b"content-length:"):
            value = int(line.split(b":", 1)[1])
            lines[k] = b"Content-Length: %d" % max(0, value + delta)
    return b"\r\n".join(lines) + sep + rest


def _mutate(rng: random.Random, mutation: str, raws: list[bytes]
            ) -> tuple[bytes, str, list[tuple[int, int] | None], list[int]]:
    """(damaged file bytes, suffix, span of each record in it, damaged record indexes)."""
    n = len(raws)
    members = [_gz(r) for r in raws]
    if mutation == "none":
        data, spans = _layout(members)
        return data, ".warc.gz", list(spans), []
    if mutation == "uncompressed":
        data, spans = _layout(raws)
        return data, ".warc", list(spans), []
    if mutation == "one-stream":
        data = _gz(b"".join(raws))
        return data, ".warc.gz", [(0, len(data))] * n, []
    if mutation == "empty":
        return b"", ".warc.gz", [None] * n, []
    j = rng.randrange(n)
    if mutation == "truncate-member":
        members[j] = members[j][: rng.randrange(1, len(members[j]))]
        data, spans = _layout(members)
        return data, ".warc.gz", list(spans), [j]
    if mutation == "truncate-file":
        plain = rng.random() < 0.3
        data, spans = _layout(raws if plain else members)
        cut = rng.randrange(1, len(data))
        out: list[tuple[int, int] | None] = []
        hurt = []
        for k, (a, b) in enumerate(spans):
            if b <= cut:
                out.append((a, b))
            elif a < cut:
                out.append((a, cut))
                hurt.append(k)
            else:
                out.append(None)
        return data[:cut], ".warc" if plain else ".warc.gz", out, hurt
    if mutation == "flip-gzip":
        member = bytearray(members[j])
        where = rng.random()
        for _ in range(rng.randint(1, 3)):
            if where < 0.2:
                at = rng.randrange(0, 10)  # the gzip header
            elif where < 0.3:
                at = rng.randrange(len(member) - 8, len(member))  # CRC32 and size
            else:
                at = rng.randrange(10, len(member) - 8)
            _flip(member, at, rng)
        members[j] = bytes(member)
        data, spans = _layout(members)
        return data, ".warc.gz", list(spans), [j]
    if mutation in ("flip-header", "flip-body"):
        raw = bytearray(raws[j])
        if mutation == "flip-header":
            at = rng.choice(_header_targets(raws[j]))
        else:
            start = raws[j].index(b"\r\n\r\n") + 4
            at = rng.randrange(start, len(raw) - 4)
        _flip(raw, at, rng)
        raws = [*raws[:j], bytes(raw), *raws[j + 1 :]]
        data, spans = _layout(raws)
        return data, ".warc", list(spans), [j]
    if mutation in ("length-short", "length-long"):
        block = len(raws[j]) - raws[j].index(b"\r\n\r\n") - 8
        delta = (-rng.randint(1, max(1, min(block, 2000))) if mutation == "length-short"
                 else rng.randint(1, 5000))
        changed = _with_length(raws[j], delta)
        plain = rng.random() < 0.5
        parts = [*raws[:j], changed, *raws[j + 1 :]] if plain else [
            *members[:j], _gz(changed), *members[j + 1 :]]
        data, spans = _layout(parts)
        return data, ".warc" if plain else ".warc.gz", list(spans), [j]
    if mutation == "junk":
        plain = rng.random() < 0.5
        parts = list(raws if plain else members)
        size = rng.randint(1, 2000)
        junk = rng.choice([
            bytes(rng.getrandbits(8) for _ in range(size)),
            b"".join(b"junk line %d\r\n" % k for k in range(size // 12 + 1)),
            b"WARC/1.0\r\nWARC-Type: response\r\n",  # a record that starts and stops
        ])
        at = rng.randint(1, n)
        parts.insert(at, junk)
        data, spans = _layout(parts)
        return data, ".warc" if plain else ".warc.gz", list(spans[:at] + spans[at + 1 :]), []
    raise ValueError(f"unknown mutation {mutation!r}")


def make_case(seed: int, index: int, pages: list[tuple[str, bytes]],
              mutation: str | None = None) -> tuple[Case, bytes, bytes]:
    """(case, clean file bytes, damaged file bytes) of file `index`: a pure function of its
    arguments, so a campaign is reproduced exactly by its seed."""
    rng = random.Random(f"warcpack-fault-campaign/{seed}/{index}")
    name = f"f{index:04d}"
    drawn = rng.choices(list(MUTATIONS), weights=list(MUTATIONS.values()))[0]
    mutation = mutation or drawn
    recs, raws = _records(rng, index, name, pages)
    clean, clean_spans = _layout([_gz(r) for r in raws])
    data, suffix, spans, damaged = _mutate(rng, mutation, raws)
    case = Case(index, name, mutation, suffix, recs, clean_spans, spans, damaged)
    return case, clean, data


# --- running ----------------------------------------------------------------------------------


def ingest_tolerant(paths: list[Path], store: Path) -> dict[str, list[tuple[int | None, str]]]:
    """Ingest with --accept-damaged; files refused outright are left out. Returns the reports
    (offset, reason) by file name: damaged records taken, and refusals."""
    from warcpack.store.ingest import IngestError, ingest

    reports: dict[str, list[tuple[int | None, str]]] = defaultdict(list)
    todo = list(paths)
    while todo:
        try:
            report = ingest(todo, store, accept_damaged=True)
        except IngestError as exc:
            refused = {Path(p) for p, _, _ in exc.problems}
            if not refused:
                raise
            for p, offset, reason in exc.problems:
                reports[Path(p).name].append((offset, f"ingest refused the file: {reason}"))
            todo = [p for p in todo if p not in refused]
            continue
        for name, offset, reason in report.problems:
            reports[name].append((offset, reason))
        break
    return reports


def build_outcomes(store: Path, out: Path, workers: int) -> tuple[dict[str, dict], list[dict]]:
    """(rows by record id, skipped records) of a build of `store` into `out`."""
    from warcpack.build import build

    build(store, out, workers=workers, progress=False)
    rows = {}
    for shard in sorted((out / "data" / "text").glob("*.jsonl")):
        for line in shard.read_text("utf-8").splitlines():
            row = json.loads(line)
            rows[row["provenance"]["warc_record_id"]] = row
    summary = json.loads((out / "build-summary.json").read_text("utf-8"))
    return rows, summary["skipped"]


def _stem(name: str) -> str:
    return name.split(".", 1)[0]


def comparable(row: dict) -> dict:
    """A row without where its record sits: file suffix, offset and length."""
    out = json.loads(json.dumps(row))
    prov = out["provenance"]
    prov["warc_file"] = _stem(prov["warc_file"])
    prov.pop("warc_offset")
    prov.pop("warc_length")
    if prov.get("payload_digest"):
        prov["payload_digest"] = prov["payload_digest"].upper()
    return out


@dataclass
class Figures:
    files: int = 0
    records: int = 0  # records whose first byte is in a damaged file
    intact: int = 0
    recovered: int = 0
    damaged: int = 0
    reported: int = 0
    harmless: int = 0
    lost: int = 0
    stretches: int = 0  # reports of unreadable bytes that belong to no record (junk)
    false_reports: int = 0  # reports inside an intact record (should stay 0)
    refused_files: int = 0
    mutations: dict[str, int] = field(default_factory=dict)
    damaged_build_skips: dict[str, int] = field(default_factory=dict)
    verify_problems: int = 0
    seconds: float = 0.0
    losses: list[str] = field(default_factory=list)


def _inside(offset: int | None, span: tuple[int, int] | None) -> bool:
    return offset is not None and span is not None and span[0] <= offset < span[1]


def evaluate(cases: list[Case], clean: tuple[dict, list[dict]], damaged: tuple[dict, list[dict]],
             ingest_reports: dict[str, list[tuple[int | None, str]]]) -> Figures:
    """Judge every record of every case (see the module docstring)."""
    clean_rows, clean_skips = clean
    rows, skips = damaged
    clean_skip_at = {(s["warc_file"], s["offset"]): s["reason"] for s in clean_skips}
    skips_by_file: dict[str, list[dict]] = defaultdict(list)
    for s in skips:
        skips_by_file[s["warc_file"]].append(s)
    fig = Figures(files=len(cases))
    fig.mutations = dict(sorted(Counter(c.mutation for c in cases).items()))
    fig.damaged_build_skips = dict(sorted(Counter(s["reason"] for s in skips).items()))
    for case in cases:
        file_skips = skips_by_file.get(case.damaged_name, [])
        file_reports = ingest_reports.get(case.damaged_name, [])
        if any(offset is None for offset, _ in file_reports):
            fig.refused_files += 1
        used: set[int] = set()
        for k, rec in enumerate(case.records):
            span = case.spans[k]
            if span is None:
                continue
            fig.records += 1
            expected = _clean_outcome(rec, case.clean_name, case.clean_spans[k][0], clean_rows,
                                      clean_skip_at)
            got = _outcome(rec, expected, span, rows, file_skips, used)
            inside = [s for s in file_skips if _inside(s["offset"], span)]
            ingest_reports_in = [r for r in file_reports if _inside(r[0], span)]
            where = f"{case.damaged_name} record {k} ({rec.kind}, {case.mutation})"
            if k not in case.damaged:
                fig.intact += 1
                if got == expected:
                    fig.recovered += 1
                else:
                    fig.lost += 1
                    fig.losses.append(f"{where}: intact but {got[0]} instead of {expected[0]}")
                if ingest_reports_in or any(s["reason"] in DAMAGE_REASONS for s in inside):
                    fig.false_reports += 1
                continue
            fig.damaged += 1
            if got == expected:
                fig.harmless += 1
            elif got[0] != "row" and (inside or ingest_reports_in):
                fig.reported += 1
            else:
                fig.lost += 1
                fig.losses.append(f"{where}: damaged, {got[0]}, not reported")
        spans = [s for s in case.spans if s is not None]
        fig.stretches += sum(1 for s in file_skips if s["reason"] == "damaged"
                             and not any(_inside(s["offset"], sp) for sp in spans))
    return fig


def _clean_outcome(rec: Rec, name: str, offset: int, rows: dict, skip_at: dict) -> tuple:
    if rec.record_id in rows:
        return ("row", comparable(rows[rec.record_id]))
    if (name, offset) in skip_at:
        return ("skip", skip_at[(name, offset)])
    return ("none",)


def _outcome(rec: Rec, expected: tuple, span: tuple[int, int], rows: dict,
             file_skips: list[dict], used: set[int]) -> tuple:
    """The record's outcome in the damaged build. Skips are matched by place (records of a
    file gzipped as one stream share their offset, so each skip is used once)."""
    if rec.record_id in rows:
        return ("row", comparable(rows[rec.record_id]))
    if expected[0] == "skip":
        for i, s in enumerate(file_skips):
            if i not in used and s["reason"] == expected[1] and _inside(s["offset"], span):
                used.add(i)
                return ("skip", s["reason"])
    if expected[0] == "none" and not any(
            _inside(s["offset"], span) and s["reason"] in DAMAGE_REASONS for s in file_skips):
        return ("none",)
    return ("missing",)


def run_campaign(seed: int, files: int, workdir: Path, workers: int = 2,
                 pages: list[tuple[str, bytes]] | None = None,
                 mutations: list[str] | None = None) -> Figures:
    """Generate, ingest, verify, build and judge `files` files in `workdir`.

    `mutations`: force these mutations in turn (the tests use this to cover each kind);
    default: drawn by the seed.
    """
    from warcpack.store.verify import verify

    started = time.monotonic()
    pages = pages or load_pages()
    for sub in ("clean", "damaged"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    clean_paths, damaged_paths = [], []
    for i in range(files):
        forced = mutations[i % len(mutations)] if mutations else None
        case, clean, data = make_case(seed, i, pages, forced)
        clean_path = workdir / "clean" / case.clean_name
        damaged_path = workdir / "damaged" / case.damaged_name
        clean_path.write_bytes(clean)
        damaged_path.write_bytes(data)
        clean_paths.append(clean_path)
        damaged_paths.append(damaged_path)
        cases.append(case)
    clean_reports = ingest_tolerant(clean_paths, workdir / "clean-store")
    if clean_reports:
        raise AssertionError(f"the clean files gave reports: {dict(clean_reports)}")
    reports = ingest_tolerant(damaged_paths, workdir / "damaged-store")
    problems = verify(workdir / "damaged-store").problems
    clean = build_outcomes(workdir / "clean-store", workdir / "clean-build", workers)
    if any(s["reason"] == "damaged" for s in clean[1]):
        raise AssertionError("the clean build reported damage")
    damaged = build_outcomes(workdir / "damaged-store", workdir / "damaged-build", workers)
    fig = evaluate(cases, clean, damaged, reports)
    fig.verify_problems = len(problems)
    fig.seconds = round(time.monotonic() - started, 1)
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--timeout", type=float, default=3600,
                        help="seconds before the campaign counts as hung (default 3600)")
    args = parser.parse_args(argv)
    faulthandler.dump_traceback_later(args.timeout, exit=True)  # a hang ends in a traceback
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="warcpack-faults-"))
    try:
        fig = run_campaign(args.seed, args.files, workdir, args.workers)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    faulthandler.cancel_dump_traceback_later()
    shown = {k: v for k, v in asdict(fig).items() if k != "losses"}
    for key, value in shown.items():
        print(f"{key:>20}: {value}")
    for loss in fig.losses[:50]:
        print("LOST", loss)
    if args.json:
        args.json.write_text(json.dumps({"seed": args.seed, **asdict(fig)}, indent=2) + "\n")
    return 0 if fig.lost == 0 and fig.false_reports == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
