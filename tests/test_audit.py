"""`warcpack audit` on a real released corpus: the untouched release audits clean, and each
kind of tampering (WARC bytes, WARC files, rows, shards, manifest hashes, a row that its
record no longer gives) is caught and named by file, byte offset or row."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from audit_sample import (
    OTHER_SITE,
    copy_release,
    fix_hashes,
    read_rows,
    rewrite_rows,
    second_site_pages,
    shared_release,
    write_plain_warc,
)
from typer.testing import CliRunner

from warcpack.audit import AuditError, audit
from warcpack.build import build
from warcpack.release import dumps as dump_manifest
from warcpack.store.index import write_index
from warcpack.store.manifest import MANIFEST_NAME, read_manifest, sha256_file
from warcpack.write.jsonl import dumps as jsonl_line


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> SimpleNamespace:
    return shared_release(tmp_path_factory)


def run_audit(folder: Path, store: Path, *extra: str) -> SimpleNamespace:
    """The CLI, as a person runs it; the JSON report it wrote."""
    report = folder.parent / "audit.json"
    result = CliRunner().invoke(
        __import__("warcpack.cli", fromlist=["app"]).app,
        ["audit", str(folder), "--store", str(store), "--json", str(report), *extra],
        env={"COLUMNS": "200"})
    data = json.loads(report.read_text("utf-8")) if report.exists() else None
    return SimpleNamespace(code=result.exit_code, out=result.output, report=data)


def row_of(rows: list[dict[str, Any]], suffix: str, revision: int = 1) -> dict[str, Any]:
    [row] = [r for r in rows if r["url"].endswith(suffix) and r["revision"] == revision]
    return row


def has(report: dict[str, Any], check: str, code: str | None = None, **where: Any
        ) -> list[dict[str, Any]]:
    """Findings of `check` (and `code`) at `where` (file, offset, row)."""
    return [f for f in report["findings"] if f["check"] == check
            and (code is None or f["code"] == code)
            and all(f.get(k) == v for k, v in where.items())]


# --- the untouched release --------------------------------------------------------------------


def test_the_untouched_release_audits_clean_with_notes_and_digest_forms(sample):
    result = run_audit(sample.folder, sample.store)
    assert result.code == 0, result.out
    report = result.report
    assert report["verdict"] == "clean" and report["findings"] == []
    assert all(c["status"] == "clean" and not c["skipped"] for c in report["checks"].values())
    assert "clean: no findings" in result.out
    figures = report["figures"]
    manifest = json.loads((sample.folder / "release.json").read_text("utf-8"))
    assert (figures["rows"], figures["urls"], figures["records"]) == (
        manifest["rows"]["rows"], manifest["rows"]["urls"], manifest["rows"]["records_seen"])
    assert figures["completeness"] == {"own_rows": 6, "recaptures": 1, "skipped": 4,
                                       "unaccounted": 0}
    assert report["reextract"]["rows"] == report["reextract"]["identical"] == 6
    # licences: notes, not findings; one row says nothing of its licence
    notes = {(n["code"], n["row"]) for n in report["notes"] if n["check"] == "licences"}
    rows = read_rows(sample.folder)
    assert ("no-licence", row_of(rows, "/notes/one")["id"]) in notes
    assert len(notes) == len(rows)  # none of the sample's rows is marked redistributable
    # the chunked payloads: which form their digest covers, record by record
    forms = {(i["file"], i["offset"]): i["message"] for i in report["info"]
             if i["code"] == "payload-digest-form"}
    one, chunked = row_of(rows, "/notes/one"), row_of(rows, "/news/chunked")
    assert "de-chunked" in forms[(sample.plain, one["provenance"]["warc_offset"])]
    as_stored = forms[(chunked["provenance"]["warc_file"], chunked["provenance"]["warc_offset"])]
    assert "as stored (chunked)" in as_stored
    assert report["figures"]["fixity"]["payload_digest"]["matched de-chunked"] == 1


def test_a_sample_is_reproducible_and_seeded_by_the_manifest(sample, tmp_path):
    first = audit(sample.folder, sample.store, reextract_rows=2)
    again = audit(sample.folder, sample.store, reextract_rows=2)
    assert first.clean and first.reextract == again.reextract
    assert first.reextract["mode"] == "sample" and 2 <= first.reextract["rows"] < 6
    assert first.reextract["seed"] == sha256_file(sample.folder / "release.json")
    none = audit(sample.folder, sample.store, reextract_rows=0)
    assert none.clean and none.reextract["rows"] == 0


def test_the_audit_says_when_it_cannot_run(sample, tmp_path):
    missing = run_audit(tmp_path / "nowhere", sample.store)
    assert missing.code == 2 and "is not a folder" in missing.out
    assert run_audit(sample.store, sample.store).code == 2  # a store is not a corpus
    bad = run_audit(sample.folder, sample.store, "--reextract", "some")
    assert bad.code == 2 and "--reextract" in bad.out
    with pytest.raises(AuditError, match="no WARC store"):
        audit(sample.folder, tmp_path / "no-store")
    inside = run_audit(sample.folder, sample.store, "--html", str(sample.folder / "a.html"))
    assert inside.code == 2 and "outside" in inside.out
    assert not (sample.folder / "a.html").exists()


def test_a_plain_build_is_audited_against_its_summary(sample, tmp_path):
    out = tmp_path / "build"
    build(sample.store, out, workers=1, progress=False, shard_rows=4)
    clean = audit(out, sample.store, reextract_rows=0)
    assert clean.clean, clean.findings
    assert any("no release.json" in s for s in clean.checks["fixity"].skipped)
    shard = out / "data" / "text" / "train-00000-of-00002.jsonl"
    shard.write_bytes(shard.read_bytes().replace(b'"revision":1', b'"revision":7', 1))
    found = audit(out, sample.store, reextract_rows=0)
    assert {f.code for f in found.findings} >= {"output-changed", "forms-differ"}


def test_text_against_the_declared_text_policy_is_a_finding(sample, tmp_path):
    out = tmp_path / "free"
    build(sample.store, out, workers=1, progress=False, text_policy="redistributable")
    clean = audit(out, sample.store, reextract_rows=0)
    assert clean.clean, clean.findings  # nothing is redistributable: an empty text config
    assert clean.figures["text_rows"] == 0 and clean.checks["licences"].notes == 6
    rows = read_rows(sample.folder)
    leaked = row_of(rows, "/news/chunked")
    assert leaked["license"]["redistributable"] is not True
    (out / "data" / "text" / "train-00000-of-00001.jsonl").write_bytes(jsonl_line(leaked))
    found = audit(out, sample.store, reextract_rows=0)
    [policy] = [f for f in found.findings if f.code == "text-policy"]
    assert (policy.check, policy.row) == ("licences", leaked["id"])
    assert policy.file == "data/text/train-00000-of-00001.jsonl"


# --- tampering ----------------------------------------------------------------------------------


def flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def restamp_store(store: Path) -> None:
    """Make SHA256SUMS and index.cdxj agree with the files again, as a careful forger would."""
    names = sorted(p.name for p in store.iterdir() if p.name.endswith((".warc", ".warc.gz")))
    (store / MANIFEST_NAME).write_text("".join(f"{sha256_file(store / n)}  {n}\n"
                                               for n in names), "utf-8")
    with open(store / "index.cdxj", "w", encoding="utf-8") as fh:
        write_index([(store / n, n) for n in names], fh)


def payload_byte(t: SimpleNamespace, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flipped byte in the middle of an HTML payload (the uncompressed WARC)."""
    two = row_of(rows, "/notes/two")
    path, offset = t.store / t.plain, two["provenance"]["warc_offset"]
    data = path.read_bytes()
    body = data.index(b"\r\n\r\n", data.index(b"HTTP/1.1 200", offset)) + 4
    flip(path, body + 2000)
    return [dict(check="fixity", code="warc-changed", file=t.plain),
            dict(check="fixity", code="payload-digest", file=t.plain, offset=offset),
            dict(check="fixity", code="block-digest", file=t.plain, offset=offset),
            dict(check="provenance", file=t.plain, offset=offset, row=two["id"])]


def payload_byte_gzip(t: SimpleNamespace, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flipped byte inside a gzipped record (its compressed payload)."""
    plain = row_of(rows, "/news/plain")
    prov = plain["provenance"]
    flip(t.store / prov["warc_file"], prov["warc_offset"] + prov["warc_length"] // 2)
    return [dict(check="fixity", code="warc-changed", file=prov["warc_file"]),
            dict(check="fixity", code="warc-damaged", file=prov["warc_file"],
                 offset=prov["warc_offset"]),
            dict(check="provenance", file=prov["warc_file"], row=plain["id"])]


def header_byte(t: SimpleNamespace, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flipped byte in a WARC header (the target URI): no digest covers it."""
    one = row_of(rows, "/notes/one")
    path, offset = t.store / t.plain, one["provenance"]["warc_offset"]
    head = b"WARC-Target-URI: " + f"{OTHER_SITE}/notes/".encode()
    flip(path, path.read_bytes().index(head, offset) + len(head))
    return [dict(check="fixity", code="warc-changed", file=t.plain),
            dict(check="provenance", code="row-record-differs", file=t.plain, offset=offset,
                 row=one["id"])]


def truncated(t: SimpleNamespace, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first capture cut in the middle of its Europa record."""
    europa = row_of(rows, "/news/europa")
    prov = europa["provenance"]
    path = t.store / prov["warc_file"]
    path.write_bytes(path.read_bytes()[:prov["warc_offset"] + 300])
    return [dict(check="fixity", code="warc-changed", file=prov["warc_file"]),
            dict(check="fixity", code="warc-damaged", file=prov["warc_file"],
                 offset=prov["warc_offset"]),
            dict(check="provenance", file=prov["warc_file"], row=europa["id"])]


def replaced(t: SimpleNamespace, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The second site's WARC replaced by another valid one, SHA256SUMS and index updated."""
    bodies = [gzip.decompress(p.read_bytes()) for p in sorted(
        (Path(__file__).resolve().parents[2] / "shared" / "benchmark" / "article-extraction"
         / "html").glob("*.html.gz"))[-2:]]
    write_plain_warc(t.store / t.plain, second_site_pages(bodies, "2024-05", series=9))
    restamp_store(t.store)
    return [dict(check="fixity", code="warc-changed", file=t.plain)] + [
        dict(check="provenance", file=t.plain, row=row_of(rows, s)["id"])
        for s in ("/notes/one", "/notes/two")
    ] + [dict(check="completeness", code="record-unaccounted", file=t.plain)]


def removed(t: SimpleNamespace, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The second capture's WARC file deleted (and dropped from SHA256SUMS and the index)."""
    second = row_of(rows, "/news/europa", revision=2)
    name = second["provenance"]["warc_file"]
    (t.store / name).unlink()
    restamp_store(t.store)
    return [dict(check="fixity", code="warc-missing", file=name),
            dict(check="provenance", code="row-record-missing", file=name, row=second["id"]),
            dict(check="completeness", code="captures-count",
                 row=row_of(rows, "/news/plain")["id"])]


def text_char(t: SimpleNamespace, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One character of a row's text changed in its JSONL shard."""
    target = row_of(rows, "/news/europa", revision=2)
    for shard in sorted((t.folder / "data" / "text").glob("*.jsonl")):
        lines = shard.read_bytes().splitlines(keepends=True)
        for i, line in enumerate(lines):
            row = json.loads(line)
            if row["id"] == target["id"]:
                at = row["text"].index("e")
                row["text"] = row["text"][:at] + "é" + row["text"][at + 1:]
                lines[i] = jsonl_line(row)
                shard.write_bytes(b"".join(lines))
                rel = shard.relative_to(t.folder).as_posix()
                return [dict(check="outputs", code="output-changed", file=rel),
                        dict(check="outputs", code="forms-differ", row=target["id"]),
                        dict(check="provenance", code="reextract-differs", row=target["id"])]
    raise AssertionError("row not found")


def row_deleted(t: SimpleNamespace, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A row removed from every form of the corpus, every hash and count made to agree."""
    gone = row_of(rows, "/notes/two")
    rewrite_rows(t.folder, [r for r in rows if r["id"] != gone["id"]])
    prov = gone["provenance"]
    return [dict(check="completeness", code="record-unaccounted", file=prov["warc_file"],
                 offset=prov["warc_offset"]),
            dict(check="completeness", code="reextract-extra", row=gone["id"])]


def row_added(t: SimpleNamespace, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A made-up row (a copy of another under a new id and URL), everything made to agree."""
    two = row_of(rows, "/notes/two")
    fake = json.loads(json.dumps(two))
    fake.update(id="0" * 32, url=f"{OTHER_SITE}/notes/two-b")
    at = rows.index(two) + 1
    rewrite_rows(t.folder, rows[:at] + [fake] + rows[at:])
    return [dict(check="provenance", code="row-record-differs", row=fake["id"]),
            dict(check="provenance", code="row-record-shared", file=t.plain,
                 offset=two["provenance"]["warc_offset"])]


def rows_swapped(t: SimpleNamespace, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last row of shard 0 and the first of shard 1 swapped, everything made to agree."""
    swapped = list(rows)
    swapped[1], swapped[2] = rows[2], rows[1]
    rewrite_rows(t.folder, swapped)
    return [dict(check="outputs", code="row-order", row=rows[1]["id"],
                 file="data/metadata/train-00001-of-00003.parquet")]


def manifest_hash(t: SimpleNamespace, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One output's sha256 changed in release.json, the file left as it is."""
    path = t.folder / "release.json"
    manifest = json.loads(path.read_text("utf-8"))
    rel = "data/metadata/train-00001-of-00003.parquet"
    [entry] = [o for o in manifest["outputs"] if o["path"] == rel]
    entry["sha256"] = hashlib.sha256(b"something else").hexdigest()
    path.write_bytes(dump_manifest(manifest))
    return [dict(check="outputs", code="output-changed", file=rel)]


def title_edited(t: SimpleNamespace, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A row's title edited in every form, every hash made to agree: only re-extracting its
    record can tell."""
    one = row_of(rows, "/notes/one")
    edited = [dict(r, title="A better title") if r["id"] == one["id"] else r for r in rows]
    rewrite_rows(t.folder, edited)
    fix_hashes(t.folder)
    return [dict(check="provenance", code="reextract-differs", row=one["id"],
                 file=t.plain, offset=one["provenance"]["warc_offset"])]


FAULTS: list[Callable[[SimpleNamespace, list[dict[str, Any]]], list[dict[str, Any]]]] = [
    payload_byte, payload_byte_gzip, header_byte, truncated, replaced, removed, text_char,
    row_deleted, row_added, rows_swapped, manifest_hash, title_edited,
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.__name__ for f in FAULTS])
def test_each_kind_of_tampering_is_caught_and_located(sample, tmp_path, fault):
    target = copy_release(sample, tmp_path)
    target.plain = sample.plain
    rows = read_rows(target.folder)
    expected = fault(target, rows)
    result = run_audit(target.folder, target.store)
    assert result.code == 1, result.out
    report = result.report
    assert report["verdict"] == "findings" and report["exit_status"] == 1
    for want in expected:
        found = has(report, **want)
        assert found, f"no finding {want}; findings: " + json.dumps(report["findings"], indent=1)
    if fault is rows_swapped:  # both rows are named, in each config
        orders = has(report, "outputs", "row-order", row=rows[1]["id"])
        assert len(orders) == 2 and all(rows[2]["id"] in f["message"] for f in orders)
    # the screen summary names the failing check and the verdict
    assert "FINDINGS" in result.out and "finding(s)" in result.out


def test_the_audit_reads_the_store_without_changing_it(sample, tmp_path):
    target = copy_release(sample, tmp_path)
    before = {p.name: p.read_bytes() for p in target.store.iterdir() if p.is_file()}
    assert audit(target.folder, target.store, reextract_rows=0).clean
    after = {p.name: p.read_bytes() for p in target.store.iterdir() if p.is_file()}
    assert before == after
    assert set(read_manifest(target.store / MANIFEST_NAME)) == {
        f["name"] for f in json.loads((target.folder / "release.json").read_text())["store"][
            "files"]}
    shutil.rmtree(target.store)
