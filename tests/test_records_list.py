"""`warcpack build --records LIST`: only the records a CSV or parquet table names (the form of
Common Crawl's columnar index) become rows; records the store lacks are counted, never fatal; a
bad list is a clear error naming the file and line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from store_helpers import benchmark_pages, tree, write_warc
from typer.testing import CliRunner

from warcpack.build import BuildError, build
from warcpack.cli import app
from warcpack.store import Store
from warcpack.store.ingest import ingest

CC_PATH = "crawl-data/CC-MAIN-2024-22/segments/1715971057494.65/warc/"


pytestmark = pytest.mark.usefixtures("offline_hf")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """Two WARC files of three benchmark pages each."""
    base = tmp_path_factory.mktemp("crawl")
    pages = benchmark_pages(6)
    for n, names in enumerate((sorted(pages)[:3], sorted(pages)[3:])):
        write_warc(base / f"part-{n}.warc.gz", [
            {"url": f"https://news.example.org/{name}", "date": "2024-05-01T08:00:00Z",
             "body": pages[name]} for name in names])
    ingest([base / "part-0.warc.gz", base / "part-1.warc.gz"], base / "store")
    return base / "store"


def entries(store: Path) -> list:
    return sorted(Store.open(store).index_entries(), key=lambda e: (e.filename, e.offset))


def urls_of(out: Path) -> list[str]:
    return [json.loads(line)["url"] for shard in sorted((out / "data/text").glob("*.jsonl"))
            for line in shard.read_text("utf-8").splitlines()]


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_only_listed_records_become_rows_from_csv_or_parquet(store, tmp_path):
    chosen = [entries(store)[i] for i in (4, 0, 2)]  # out of order, across both files
    # Common Crawl's column names, and its file paths (the store holds the base names)
    listed = write_csv(tmp_path / "pick.csv",
                       ["url", "warc_filename", "warc_record_offset", "warc_record_length"],
                       [[e.url, CC_PATH + e.filename, e.offset, e.length] for e in chosen])
    summary = build(store, tmp_path / "from-csv", records=listed, workers=2, unit_records=1,
                    progress=False)
    assert summary.ok and summary.records_seen == 3 and not summary.skipped_by_reason
    assert urls_of(tmp_path / "from-csv") == sorted(e.url for e in chosen)
    saved = json.loads((tmp_path / "from-csv/build-summary.json").read_text("utf-8"))
    assert saved["records_list"]["records"] == 3
    card = (tmp_path / "from-csv/README.md").read_text("utf-8")
    assert "--records LIST" in card and saved["records_list"]["sha256"] in card

    table = pa.table({"warc_file": [e.filename for e in reversed(chosen)],
                      "offset": pa.array([e.offset for e in reversed(chosen)], pa.int64())})
    pq.write_table(table, tmp_path / "pick.parquet")
    build(store, tmp_path / "from-parquet", records=tmp_path / "pick.parquet", workers=1,
          progress=False)
    assert tree(tmp_path / "from-csv") == tree(tmp_path / "from-parquet")  # same selection


def test_listed_records_the_store_lacks_are_counted_with_their_line(store, tmp_path):
    first, second = entries(store)[:2]
    listed = write_csv(tmp_path / "pick.csv", ["warc_file", "offset", "length"], [
        [first.filename, first.offset, first.length],
        [first.filename, first.offset + 1, ""],  # not a record's offset
        [second.filename, second.offset, second.length + 7],  # another length
        ["elsewhere.warc.gz", 0, 100],  # a file the store does not hold
        [first.filename, first.offset, first.length],  # listed twice: built once
    ])
    summary = build(store, tmp_path / "out", records=listed, workers=1, progress=False)
    assert summary.rows_written == 1 and summary.skipped_by_reason == {"not-in-store": 3}
    saved = json.loads((tmp_path / "out/build-summary.json").read_text("utf-8"))
    details = {(s["warc_file"], s["offset"]): s["detail"] for s in saved["skipped"]}
    assert "line 3" in details[(first.filename, first.offset + 1)]
    assert f"is {second.length} bytes" in details[(second.filename, second.offset)]
    assert "no WARC file elsewhere.warc.gz" in details[("elsewhere.warc.gz", 0)]


def test_a_list_build_reuses_a_full_build(store, tmp_path):
    build(store, tmp_path / "all", workers=1, progress=False)
    chosen = entries(store)[1:3]
    listed = write_csv(tmp_path / "pick.csv", ["warc_file", "offset"],
                       [[e.filename, e.offset] for e in chosen])
    summary = build(store, tmp_path / "some", records=listed, workers=1, progress=False)
    assert summary.rows_written == 2 and summary.records_extracted == 0


@pytest.mark.parametrize(("header", "row", "message"), [
    (["file", "start"], ["a.warc.gz", "0"], "needs a file column"),
    (["warc_file", "offset"], ["a.warc.gz", "12x"], "line 2: offset '12x' is not a whole number"),
    (["warc_file", "offset"], ["a.warc.gz", "-5"], "line 2: offset -5 is negative"),
    (["warc_file", "offset", "length"], ["a.warc.gz"], "line 2: 1 fields"),
])
def test_a_bad_list_is_an_error_naming_file_and_line(store, tmp_path, header, row, message):
    listed = write_csv(tmp_path / "bad.csv", header, [row])
    with pytest.raises(BuildError, match=message):
        build(store, tmp_path / "out", records=listed, progress=False)
    result = CliRunner().invoke(app, ["build", "--store", str(store), "--out",
                                      str(tmp_path / "cli"), "--records", str(listed)])
    assert result.exit_code == 1 and "bad.csv" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "cli" / "data").exists()
    missing = CliRunner().invoke(app, ["build", "--store", str(store), "--out",
                                       str(tmp_path / "cli"), "--records",
                                       str(tmp_path / "nowhere.csv")])
    assert missing.exit_code == 1 and "cannot read the record list" in missing.output
