"""Paths and names: nothing read from an archive becomes a file path, and ingest and build write
only inside the store and the output folder, whatever the records name.

Every test works in an arena folder and compares a snapshot of everything around the store and
the output folder (their parent, recursively, and the parent's parent) before and after.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from io import BytesIO
from pathlib import Path

import pytest
from store_helpers import benchmark_pages
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from warcpack.build import build
from warcpack.store import Store
from warcpack.store.ingest import ingest
from warcpack.store.manifest import MANIFEST_NAME, sha256_file

HOSTILE_URIS = [
    "../../etc/passwd",
    "/etc/passwd",
    "file:///etc/passwd",
    "https://example.com/../../../../tmp/warcpack-escape",
    "https://example.com/a\x00b/../../x",
    "..\\..\\windows\\system32",
]


def snapshot(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, str]:
    """Relative path -> sha256 (or "dir" / "link -> target") of everything under `root`."""
    out: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if here / d not in skip)
        for name in sorted(dirs) + sorted(files):
            path = here / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = f"link -> {os.readlink(path)}"
            elif path.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def around(arena: Path, store: Path, out: Path) -> tuple[dict[str, str], list[str]]:
    return (snapshot(arena, (store, out)), sorted(os.listdir(arena.parent)))


def hostile_warc(path: Path, page: bytes) -> list[str]:
    """Records whose names, URIs and headers look like paths; returns the URIs of the pages."""
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        info = writer.create_warcinfo_record("../../etc/passwd", {"software": "x"})
        info.rec_headers.replace_header("WARC-Date", "2024-06-01T00:00:00Z")
        writer.write_record(info)
        for i, uri in enumerate(HOSTILE_URIS):
            warc_headers = {
                "WARC-Date": f"2024-06-01T00:00:{i:02d}Z",
                "WARC-Filename": "/tmp/warcpack-escape.warc.gz",
                "X-Warcpack-Site": "../../../tmp/warcpack-escape",
                "X-Warcpack-Publisher": "/etc/passwd\x00",
            }
            if uri.startswith("https://"):  # warcio reads HTTP headers for http(s) URIs only
                http = StatusAndHeaders("200 OK", [
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("Content-Disposition", 'attachment; filename="../../../tmp/warcpack-escape"'),
                    ("Location", "/etc/passwd"),
                ], protocol="HTTP/1.1")
                record = writer.create_warc_record(
                    uri, "response", payload=BytesIO(page), length=len(page), http_headers=http,
                    warc_headers_dict=warc_headers)
            else:
                record = writer.create_warc_record(
                    uri, "resource", payload=BytesIO(page), length=len(page),
                    warc_content_type="text/html; charset=utf-8", warc_headers_dict=warc_headers)
            writer.write_record(record)
    return HOSTILE_URIS


@pytest.fixture(scope="module")
def page() -> bytes:
    return next(iter(benchmark_pages(1).values()))


def test_hostile_names_in_records_stay_data(tmp_path: Path, page: bytes) -> None:
    arena = tmp_path / "arena"
    arena.mkdir()
    source = arena / "..hostile names.warc.gz"
    uris = hostile_warc(source, page)
    store, out = arena / "store", arena / "out"
    passwd = sha256_file(Path("/etc/passwd")) if Path("/etc/passwd").exists() else None
    before = around(arena, store, out)

    report = ingest([source], store)
    summary = build(store, out, workers=1, progress=False)

    assert around(arena, store, out) == before
    assert not Path("/tmp/warcpack-escape").exists()
    assert not Path("/tmp/warcpack-escape.warc.gz").exists()
    if passwd is not None:
        assert sha256_file(Path("/etc/passwd")) == passwd
    (stored,) = report.stored
    assert stored.name == "hostile_names.warc.gz"
    assert sorted(p.name for p in store.iterdir() if not p.name.startswith(".")) == sorted(
        ["SHA256SUMS", "index.cdxj", "store-log.jsonl", "hostile_names.warc.gz"])
    # Every file of the build is inside OUT, under the names the build chooses.
    written = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()]
    assert written and all(not name.startswith(("..", "/")) for name in written)
    assert all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))
    # The URIs are kept as data, byte for byte, in the rows.
    rows = [r for r in _rows(out)]
    assert sorted(r["url"] for r in rows) == sorted(uris)
    assert summary.rows_written == len(uris)


def _rows(out: Path) -> list[dict]:
    import json

    return [json.loads(line) for shard in sorted((out / "data" / "text").glob("*.jsonl"))
            for line in shard.read_text("utf-8").splitlines()]


def test_a_tampered_manifest_cannot_send_the_reader_outside_the_store(
    tmp_path: Path, page: bytes
) -> None:
    arena = tmp_path / "arena"
    arena.mkdir()
    source = arena / "fine.warc.gz"
    hostile_warc(source, page)
    store, out = arena / "store", arena / "out"
    ingest([source], store)
    outside = arena / "outside.warc.gz"
    shutil.copy(source, outside)
    with open(store / MANIFEST_NAME, "a", encoding="utf-8") as fh:
        fh.write(f"{sha256_file(outside)}  ../outside.warc.gz\n")
    before = around(arena, store, out)

    summary = build(store, out, workers=1, progress=False)

    assert around(arena, store, out) == before
    assert summary.skipped_by_reason["unsafe-name"] == 1
    assert summary.rows_written == len(HOSTILE_URIS)  # from fine.warc.gz only
    skipped = [s for s in Store.open(store).iter_records() if getattr(s, "reason", "") ==
               "unsafe-name"]
    assert [s.warc_file for s in skipped] == ["../outside.warc.gz"]


def test_a_symlink_planted_in_the_output_folder_is_not_followed(
    tmp_path: Path, page: bytes
) -> None:
    arena = tmp_path / "arena"
    arena.mkdir()
    source = arena / "fine.warc.gz"
    hostile_warc(source, page)
    store, out = arena / "store", arena / "out"
    ingest([source], store)
    build(store, out, workers=1, progress=False)
    elsewhere = arena / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(out / "data")
    (out / "data").symlink_to(elsewhere)
    before = snapshot(elsewhere)
    try:
        build(store, out, workers=1, progress=False)
    except Exception:
        pass  # refusing is fine; writing through the link is not
    assert snapshot(elsewhere) == before


def _tampered_store(arena: Path, page: bytes) -> Path:
    """A store whose SHA256SUMS was edited to list a real WARC file outside it, with the right
    hash, so that only the name gives it away."""
    source = arena / "fine.warc.gz"
    hostile_warc(source, page)
    store = arena / "store"
    ingest([source], store)
    outside = arena / "outside.warc.gz"
    shutil.copy(source, outside)
    with open(store / MANIFEST_NAME, "a", encoding="utf-8") as fh:
        fh.write(f"{sha256_file(outside)}  ../outside.warc.gz\n")
    return store


def test_verify_refuses_a_manifest_name_outside_the_store(tmp_path: Path, page: bytes) -> None:
    from warcpack.store.verify import verify

    arena = tmp_path / "arena"
    arena.mkdir()
    store = _tampered_store(arena, page)

    report = verify(store)

    assert report.files == 1  # fine.warc.gz only: the outside file was never opened
    assert [(name, reason.split(":")[0]) for name, _, reason in report.problems] == [
        ("../outside.warc.gz", "SHA256SUMS entry refused")]


def test_release_refuses_a_manifest_name_outside_the_store(tmp_path: Path, page: bytes) -> None:
    from warcpack.release import ReleaseError, release

    arena = tmp_path / "arena"
    arena.mkdir()
    store = _tampered_store(arena, page)
    before = snapshot(arena, skip=(arena / "releases",))

    with pytest.raises(ReleaseError, match=r"unsafe file name '\.\./outside\.warc\.gz'"):
        release("1.0.0", store, arena / "releases", workers=1, progress=False)

    assert snapshot(arena, skip=(arena / "releases",)) == before
    assert not (arena / "releases" / "1.0.0").exists()
