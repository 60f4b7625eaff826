"""`warcpack export wacz` and `warcpack export bag` on a real released corpus: the packages pass
the `wacz` and `bagit` packages' own validators, a replay tool finds every page through the
WACZ's index, and building a package twice gives the same bytes."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import bagit
import pytest
from audit_sample import copy_release, read_rows, shared_release
from typer.testing import CliRunner
from wacz.main import main as wacz_main
from warcio.archiveiterator import ArchiveIterator

from warcpack.cli import app
from warcpack.export import ExportError, export_bag, export_wacz
from warcpack.export.wacz import ZIP_TIME
from warcpack.store.manifest import read_manifest


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> SimpleNamespace:
    return shared_release(tmp_path_factory)


def cli(*args: str) -> SimpleNamespace:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return SimpleNamespace(code=result.exit_code, out=result.output)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def validate_wacz(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    code = wacz_main(["validate", "-f", str(path)])
    said = capsys.readouterr().out
    assert code == 0, said
    return said


def replay(zf: zipfile.ZipFile, url: str, ts: str) -> tuple[str, int]:
    """What a replay tool does with the package: find the capture in the ZipNum index (idx ->
    gzip block -> CDXJ line), then read the record from the WARC inside the ZIP."""
    idx = zf.read("indexes/index.idx").decode().splitlines()
    assert json.loads(idx[0].split(" ", 2)[2]) == {"format": "cdxj-gzip-1.0",
                                                   "filename": "index.cdx.gz"}
    cdx = zf.read("indexes/index.cdx.gz")
    stamp = ts.replace("-", "").replace(":", "").replace("T", "")[:14]
    for line in idx[1:]:
        block = json.loads("{" + line.split("{", 1)[1])
        packed = cdx[block["offset"]:block["offset"] + block["length"]]
        assert block["digest"] == "sha256:" + sha256(packed)
        for entry in gzip.decompress(packed).decode().splitlines():
            _, when, blob = entry.split(" ", 2)
            fields = json.loads(blob)
            if fields.get("url") == url and when == stamp:
                with zf.open("archive/" + fields["filename"]) as warc:
                    data = warc.read()
                start = int(fields["offset"])
                raw = io.BytesIO(data[start:start + int(fields["length"])])
                record = next(iter(ArchiveIterator(raw)))
                return record.rec_headers.get_header("WARC-Target-URI"), int(
                    record.http_headers.get_statuscode())
    raise AssertionError(f"{url} at {ts} is not in the index")


def test_wacz_of_the_store_validates_replays_and_is_reproducible(sample, tmp_path, capsys):
    first, second = tmp_path / "a.wacz", tmp_path / "b.wacz"
    result = cli("export", "wacz", str(first), "--store", str(sample.store))
    assert result.code == 0, result.out
    export_wacz(second, sample.store)
    assert first.read_bytes() == second.read_bytes()
    assert "Validation succeeded" in validate_wacz(first, capsys)
    sums = read_manifest(sample.store / "SHA256SUMS")
    with zipfile.ZipFile(first) as zf:
        infos = zf.infolist()
        assert all(i.compress_type == zipfile.ZIP_STORED and i.date_time == ZIP_TIME
                   for i in infos)
        names = [i.filename for i in infos]
        assert names == [f"archive/{n}" for n in sorted(sums)] + [
            "indexes/index.cdx.gz", "indexes/index.idx", "pages/pages.jsonl",
            "datapackage.json", "datapackage-digest.json"]
        for name in sums:  # the WARC files byte for byte
            assert zf.read(f"archive/{name}") == (sample.store / name).read_bytes()
        package = json.loads(zf.read("datapackage.json"))
        assert package["wacz_version"] == "1.1.1" and package["profile"] == "data-package"
        for resource in package["resources"]:
            assert resource["hash"] == "sha256:" + sha256(zf.read(resource["path"]))
        digest = json.loads(zf.read("datapackage-digest.json"))
        assert digest["hash"] == "sha256:" + sha256(zf.read("datapackage.json"))
        # the index is the store's own, afresh from the files
        lines = gzip.decompress(zf.read("indexes/index.cdx.gz")).decode()
        assert lines == (sample.store / "index.cdxj").read_text("utf-8")
        pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").splitlines()]
        assert pages[0]["format"] == "json-pages-1.0"
        urls = {p["url"] for p in pages[1:]}
        assert {sample.urls[0], sample.urls[1], sample.urls[2]} <= urls
        assert sample.urls[3] not in urls  # the 404 is a capture, not a page
        for page in pages[1:]:
            assert replay(zf, page["url"], page["ts"]) == (page["url"], 200)


def test_wacz_of_a_release_has_its_rows_as_pages(sample, tmp_path, capsys):
    out = tmp_path / "release.wacz"
    export_wacz(out, sample.store, release=sample.folder)
    validate_wacz(out, capsys)
    rows = read_rows(sample.folder)
    with zipfile.ZipFile(out) as zf:
        pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").splitlines()][1:]
        assert [(p["id"], p["url"], p.get("title")) for p in pages] == [
            (r["id"], r["url"], r["title"]) for r in rows]
        assert json.loads(zf.read("datapackage.json"))["title"] == "warcpack release 1.0.0"
        for page in pages:
            assert replay(zf, page["url"], page["ts"]) == (page["url"], 200)


def test_wacz_refuses_bytes_the_store_does_not_vouch_for(sample, tmp_path):
    target = copy_release(sample, tmp_path)
    warc = target.store / sample.plain
    data = bytearray(warc.read_bytes())
    data[500] ^= 1
    warc.write_bytes(bytes(data))
    out = tmp_path / "x.wacz"
    with pytest.raises(ExportError, match=sample.plain):
        export_wacz(out, target.store)
    assert not out.exists() and not list(tmp_path.glob("*.tmp"))
    result = cli("export", "wacz", str(out), "--store", str(target.store))
    assert result.code == 1 and "warcpack audit" in result.out


def bag_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_bag_validates_with_bagit_and_is_reproducible(sample, tmp_path):
    first, second = tmp_path / "bag-a", tmp_path / "bag-b"
    result = cli("export", "bag", str(first), "--store", str(sample.store), "--release",
                 str(sample.folder))
    assert result.code == 0, result.out
    export_bag(second, sample.store, release=sample.folder)
    assert bag_files(first) == bag_files(second)
    bag = bagit.Bag(str(first))
    bag.validate()  # raises BagValidationError if anything is off
    checked = subprocess.run([sys.executable, "-m", "bagit", "--validate", str(first)],
                             capture_output=True, text=True)
    assert checked.returncode == 0 and "is valid" in checked.stderr
    manifest = json.loads((sample.folder / "release.json").read_text("utf-8"))
    assert bag.info["Bagging-Date"] == manifest["rows"]["captured"]["last"][:10]
    files = bag_files(first)
    for entry in manifest["store"]["files"]:
        assert sha256(files[f"data/warcs/{entry['name']}"]) == entry["sha256"]
    for entry in manifest["outputs"]:
        assert sha256(files[f"data/release/{entry['path']}"]) == entry["sha256"]
    assert files["data/release/release.json"] == (sample.folder / "release.json").read_bytes()
    assert files["data/warcs/index.cdxj"] == (sample.store / "index.cdxj").read_bytes()


def test_bag_refuses_a_release_whose_files_were_changed(sample, tmp_path):
    target = copy_release(sample, tmp_path)
    shard = target.folder / "data" / "text" / "train-00000-of-00003.jsonl"
    shard.write_bytes(shard.read_bytes().replace(b"e", b"E", 1))
    with pytest.raises(ExportError, match="train-00000-of-00003.jsonl"):
        export_bag(tmp_path / "bag", target.store, release=target.folder)
    assert not (tmp_path / "bag").exists() and not (tmp_path / "bag.tmp-bag").exists()
    assert bagit.Bag  # the bagit package is what validates bags above
