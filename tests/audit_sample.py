"""A small released corpus for the audit and export tests, made from real benchmark pages.

Two captures from a real HTTP server on 127.0.0.1 (pages sent plain and chunked + gzip, a 404,
then a re-capture: one page unchanged, which becomes a revisit, one page edited, which becomes
a second revision), and one uncompressed WARC of a second site written with warcio (a page
whose WARC-Payload-Digest is taken over its de-chunked payload, as some crawlers write it, and
a PNG). Released with two rows per shard, so the corpus has several shards.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import struct
import zlib
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from news_pages import MODIFIED, capture_now, europa, other_pages
from servers import Page, TestServer
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from warcpack.release import dumps as dump_manifest
from warcpack.release import release
from warcpack.store.ingest import ingest
from warcpack.write import features
from warcpack.write.jsonl import dumps as jsonl_line
from warcpack.write.parquet import WRITER_OPTIONS

SHARD_ROWS = 2
OTHER_SITE = "https://archive.example.org"


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def chunked(body: bytes, size: int = 3000) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
                    for i in range(0, len(body), size)) + b"0\r\n\r\n"


def write_plain_warc(path: Path, pages: list[dict[str, Any]]) -> None:
    """An uncompressed WARC of HTTP responses; `dechunked_digest` pages carry a payload digest
    over the de-chunked body."""
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=False, warc_version="1.1")
        for page in pages:
            body, kind = page["body"], page.get("type", "text/html; charset=utf-8")
            headers = [("Content-Type", kind)]
            payload = body
            warc_headers = {"WARC-Date": page["date"],
                            "WARC-Record-ID": f"<urn:uuid:{page['uuid']}>"}
            if page.get("dechunked_digest"):
                headers.append(("Transfer-Encoding", "chunked"))
                payload = chunked(body)
                warc_headers["WARC-Payload-Digest"] = sha1_b32(body)
            else:
                headers.append(("Content-Length", str(len(body))))
            http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
            record = writer.create_warc_record(page["url"], "response", payload=BytesIO(payload),
                                               length=len(payload), http_headers=http,
                                               warc_headers_dict=warc_headers)
            writer.write_record(record)


def second_site_pages(bodies: list[bytes], month: str = "2024-03", series: int = 0
                      ) -> list[dict[str, Any]]:
    """Two articles and a PNG of a second site, captured on fixed days."""
    ids = [f"00000000-0000-4000-8000-{series:06d}{n:06d}" for n in (1, 2, 3)]
    return [
        {"url": f"{OTHER_SITE}/notes/one", "date": f"{month}-01T10:00:00Z", "body": bodies[0],
         "uuid": ids[0], "dechunked_digest": True},
        {"url": f"{OTHER_SITE}/notes/two", "date": f"{month}-02T11:30:00Z", "body": bodies[1],
         "uuid": ids[1]},
        {"url": f"{OTHER_SITE}/pixel.png", "date": f"{month}-02T11:31:00Z", "body": png(),
         "uuid": ids[2], "type": "image/png"},
    ]


def make_release(base: Path) -> SimpleNamespace:
    """Store in base/warcs, release 1.0.0 in base/releases/1.0.0."""
    store, root = base / "warcs", base / "releases"
    bodies = other_pages(5)
    with TestServer() as server:
        server.pages["/news/plain"] = Page(bodies[0])
        server.pages["/news/chunked"] = Page(bodies[1], gzip=True, chunk_size=2000)
        server.pages["/news/europa"] = Page(europa())
        server.pages["/news/gone"] = Page(b"gone\n", 404, "Not Found",
                                          [("Content-Type", "text/plain")])
        urls = [server.url(p) for p in ("/news/plain", "/news/chunked", "/news/europa",
                                        "/news/gone")]
        first = capture_now(urls, store)
        server.pages["/news/europa"] = Page(europa(MODIFIED, edited=True))
        second = capture_now([urls[0], urls[2]], store)
    plain = base / "second-site.warc"
    write_plain_warc(plain, second_site_pages(bodies[2:4]))
    ingest([plain], store)
    made = release("1.0.0", store, root, workers=1, progress=False, shard_rows=SHARD_ROWS)
    return SimpleNamespace(base=base, store=store, root=root, folder=root / "1.0.0",
                           urls=urls, captures=(first, second), plain=plain.name,
                           spare=bodies[4], report=made)


def copy_release(sample: SimpleNamespace, target: Path) -> SimpleNamespace:
    """A copy of the store and the release folder to damage."""
    shutil.copytree(sample.store, target / "warcs")
    shutil.copytree(sample.folder, target / "release")
    return SimpleNamespace(store=target / "warcs", folder=target / "release")


# --- rewriting a corpus as a careful forger would -------------------------------------------


def read_rows(folder: Path) -> list[dict[str, Any]]:
    """Every row of the text config, in corpus order (text policy "all": every row)."""
    rows = []
    for path in sorted((folder / "data" / "text").glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    return rows


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rewrite_rows(folder: Path, rows: list[dict[str, Any]], shard_rows: int = SHARD_ROWS) -> None:
    """Write `rows` as the corpus's shards (JSONL and both parquet configs, same writer
    settings) and update every hash and row count that names them, so that only a check of
    the rows against the WARC records can tell."""
    for path in (folder / "data").rglob("*"):
        if path.is_file():
            path.unlink()
    groups = [rows[i:i + shard_rows] for i in range(0, len(rows), shard_rows)] or [[]]
    total = len(groups)
    for config in ("text", "metadata"):
        (folder / "data" / config).mkdir(parents=True, exist_ok=True)
    for i, group in enumerate(groups):
        name = f"train-{i:05d}-of-{total:05d}"
        with open(folder / "data" / "text" / f"{name}.jsonl", "wb") as fh:
            fh.write(b"".join(jsonl_line(r) for r in group))
        values = [features.arrow_row(r) for r in group]
        for config in ("text", "metadata"):
            schema = features.arrow_schema(config)
            table = pa.Table.from_pylist(
                [{k: v[k] for k in schema.names} for v in values], schema=schema)
            with pq.ParquetWriter(folder / "data" / config / f"{name}.parquet", schema,
                                  **WRITER_OPTIONS) as writer:
                writer.write_table(table, row_group_size=shard_rows)
    fix_hashes(folder, rows=len(rows))


def fix_hashes(folder: Path, rows: int | None = None) -> None:
    """Recompute the output hashes in croissant.json, build-summary.json and release.json."""
    data = sorted(p for p in (folder / "data").rglob("*") if p.is_file())
    described = {p.relative_to(folder).as_posix(): {"bytes": p.stat().st_size, "sha256": _sha(p)}
                 for p in data}
    croissant = json.loads((folder / "croissant.json").read_text("utf-8"))
    croissant["distribution"] = [
        d for d in croissant["distribution"] if d["@type"] != "cr:FileObject"
        or d["contentUrl"] in described
    ]
    for d in croissant["distribution"]:
        if d["@type"] == "cr:FileObject":
            d["sha256"] = described[d["contentUrl"]]["sha256"]
            d["contentSize"] = f"{described[d['contentUrl']]['bytes']} B"
    (folder / "croissant.json").write_text(
        json.dumps(croissant, ensure_ascii=False, indent=2) + "\n", "utf-8")
    summary_path = folder / "build-summary.json"
    summary = json.loads(summary_path.read_text("utf-8"))
    for extra in ("README.md", "croissant.json"):
        p = folder / extra
        described[extra] = {"bytes": p.stat().st_size, "sha256": _sha(p)}
    summary["outputs"] = [{"path": k, **v} for k, v in sorted(described.items())]
    if rows is not None:
        summary["rows_written"] = summary["text_rows"] = rows
    summary_path.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", "utf-8")
    manifest_path = folder / "release.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    described["build-summary.json"] = {"bytes": summary_path.stat().st_size,
                                       "sha256": _sha(summary_path)}
    manifest["outputs"] = [{"path": k, **v} for k, v in sorted(described.items())]
    if rows is not None:
        manifest["rows"]["rows"] = manifest["rows"]["text_rows"] = rows
    manifest_path.write_bytes(dump_manifest(manifest))


_MADE: dict[str, SimpleNamespace] = {}


def shared_release(tmp_path_factory: Any) -> SimpleNamespace:
    """The sample release, made once per test session (tests damage copies, never it)."""
    if "release" not in _MADE:
        _MADE["release"] = make_release(tmp_path_factory.mktemp("audited"))
    return _MADE["release"]
