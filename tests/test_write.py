"""The corpus writers on rows made by `make_row`: shards, typed parquet, the dataset card read
back by the real `datasets` loader, croissant.json read by `mlcroissant`, the summary, and the
output folder's atomic commit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from warcpack.record import RecordRef, SourceRecord
from warcpack.row import Extracted, make_row, schema, validate
from warcpack.write import features
from warcpack.write.columns import prepare
from warcpack.write.corpus import CorpusWriter
from warcpack.write.jsonl import loads
from warcpack.write.outdir import JOURNAL, STAGING, Output, OutputError
from warcpack.write.parquet import ParquetWriter
from warcpack.write.summary import BuildSummary, Skipped

pytestmark = pytest.mark.usefixtures("offline_hf")


def _record(i: int) -> SourceRecord:
    ref = RecordRef("crawl-1.warc.gz", 1000 * i, 900 + i,
                    f"<urn:uuid:00000000-0000-0000-0000-{i:012d}>")
    refers = RecordRef("crawl-1.warc.gz", 0, 900, "<urn:uuid:00000000-0000-0000-0000-000000000000>")
    return SourceRecord(
        ref=ref, warc_type="revisit" if i == 4 else "response",
        url=f"https://news.example.org/{i}/story.html",
        warc_date=f"2025-07-{i + 1:02d}T08:30:0{i % 10}Z",
        payload_digest=f"sha1:{'A' * 31}{i}", content_type="text/html; charset=utf-8",
        http_status=200, http_headers=(("Content-Type", "text/html; charset=utf-8"),),
        warc_headers=(), body=b"<html></html>", refers_to=refers if i == 4 else None,
    )


def _extracted(i: int) -> Extracted:
    """Varied rows: offsets east and west of UTC, fractions, nulls, licences of each kind."""
    offsets = ["+02:00", "-05:00", "Z", "+05:45"]
    flags = [True, False, None]
    published = f"2025-06-{i + 1:02d}T23:15:00.25{offsets[i % 4]}" if i % 5 != 3 else None
    return Extracted(
        text=f"Paragraph one of story {i}: naïve café, Дели, 東京.\n\nParagraph two [x].",
        title=f"Story {i}" if i != 2 else None, language="en", authors=[f"Author {i}", "Desk"],
        publisher="Example News", section="World", tags=["a", "b"] if i % 2 else [],
        description=None, site="news.example.org",
        date_published=published,
        date_published_day=published[:10] if published else None,
        dates={"published": {"raw": "yesterday" if published else None,
                             "source": "json-ld" if published else None,
                             "precision": "second" if published else None,
                             "timezone": offsets[i % 4] if published else None,
                             "timezone_source": "page" if published else None}},
        http_last_modified="2025-06-30T10:00:00Z" if i == 1 else None,
        license={"redistributable": flags[i % 3],
                 "spdx": "CC-BY-4.0" if flags[i % 3] else None,
                 "source": "rel-license" if flags[i % 3] is not None else None},
        charset="utf-8", charset_source="http-header", extractor_version="2.0.0",
    )


def make_rows(n: int) -> list[dict]:
    return [make_row(_record(i), _extracted(i)) for i in range(n)]


def _summary(policy: str = "all") -> BuildSummary:
    return BuildSummary(
        text_policy=policy, schema_version="1.0.0", tool_version="0.1.0",
        extractor_versions={"trafilatura": "2.0.0"}, writer_versions={"pyarrow": pa.__version__},
        store={"warc_files": 1, "manifest_sha256": "0" * 64},
    )


def write_corpus(folder: Path, rows: list[dict], policy: str = "all", shard_rows: int = 3,
                 skips: tuple[Skipped, ...] = ()) -> BuildSummary:
    """Write through a real Output (staging, journal, commit), as a build does."""
    with Output.open(folder) as output:
        summary = _summary(policy)
        writer = CorpusWriter(output.staging, summary, shard_rows)
        for row in rows:
            summary.records_seen += 1
            writer.add_row(prepare(row))
        for skip in skips:
            summary.records_seen += 1
            writer.add_skip(skip)
        writer.finish()
        output.commit()
    return summary


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def jsonl_rows(folder: Path) -> list[dict]:
    out = []
    for shard in sorted((folder / "data" / "text").glob("*.jsonl")):
        out.extend(json.loads(line) for line in shard.read_text("utf-8").splitlines())
    return out


def parquet_ids(folder: Path) -> list[str]:
    return [i for shard in sorted(folder.glob("*.parquet"))
            for i in pq.read_table(shard).column("id").to_pylist()]


def instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC)


# --- the schema mapping --------------------------------------------------------------------------


def test_every_schema_field_has_its_typed_column():
    props = schema()["properties"]
    text, meta = features.arrow_schema("text"), features.arrow_schema("metadata")
    assert text.names == list(props)
    assert meta.names == [name for name in props if name != "text"]
    for name in props:
        node = features.resolve(props[name])
        kind = text.field(name).type
        if node.get("format") == "date-time":
            assert kind == pa.timestamp("us", tz="UTC"), name
        elif node.get("format") == "date":
            assert kind == pa.date32(), name
        elif features.types_of(node) == ["object"]:
            assert pa.types.is_struct(kind), name
            assert [f.name for f in kind] == list(node["properties"]), name
        elif features.types_of(node) == ["array"]:
            assert kind == pa.list_(pa.string()), name
    refers = text.field("provenance").type.field("refers_to")
    assert refers.nullable and pa.types.is_struct(refers.type)
    assert not text.field("id").nullable and text.field("title").nullable


def test_parse_instant_is_exact_and_refuses_what_it_cannot_keep():
    assert features.parse_instant("2025-07-03T01:30:00+02:00") == datetime(2025, 7, 2, 23, 30,
                                                                          tzinfo=UTC)
    assert features.parse_instant("2025-07-03T00:00:00.123456Z").microsecond == 123456
    assert features.parse_instant("2025-07-03T00:00:00.1234560Z").microsecond == 123456
    half = features.parse_instant("2025-07-02T18:30:00.5-05:30")
    assert half == datetime(2025, 7, 3, 0, 0, 0, 500000, tzinfo=UTC) and half.tzinfo is UTC
    for bad in ("2025-07-03T00:00:00.1234567Z", "2025-13-03T00:00:00Z", "2025-07-03 00:00:00Z",
                "2025-07-03T00:00:00", "20250703T000000Z", "2025-W27-4T00:00:00Z",
                "2025-07-03T00:00:00+24:00"):
        with pytest.raises(ValueError):
            features.parse_instant(bad)


def test_reading_json_back_gives_what_the_standard_parser_gives():
    row = make_rows(1)[0]
    row["provenance"]["warc_offset"] = 2**63 - 1  # the largest integer a row may hold
    tricky = ['{"x": NaN}', '["\\ud800"]', json.dumps(row, ensure_ascii=False)]
    for text in tricky:
        assert repr(loads(text.encode("utf-8"))) == repr(json.loads(text))
    with pytest.raises(ValueError):
        loads(b'{"a": ')


def test_a_row_that_parquet_cannot_hold_exactly_is_refused():
    row = make_rows(1)[0]
    row["date_modified"] = "2025-07-03T00:00:00.0000001Z"  # valid RFC 3339, finer than parquet's µs
    validate(row)
    with pytest.raises(ValueError, match="finer than a microsecond"):
        prepare(row)
    row = make_rows(1)[0]
    row["text"] = "lone surrogate \udc80"
    with pytest.raises(ValueError, match="not valid Unicode"):
        prepare(row)


# --- shards and loading --------------------------------------------------------------------------


def test_shards_jsonl_and_parquet_hold_the_same_rows_in_order(tmp_path):
    rows = make_rows(7)
    write_corpus(tmp_path / "out", rows, shard_rows=3)
    out = tmp_path / "out"
    names = sorted(p.name for p in (out / "data" / "text").iterdir())
    assert names == [f"train-{i:05d}-of-00003.{ext}"
                     for i in range(3) for ext in ("jsonl", "parquet")]
    assert sorted(p.name for p in (out / "data" / "metadata").iterdir()) == [
        f"train-{i:05d}-of-00003.parquet" for i in range(3)]
    lines = b"".join((out / "data" / "text" / f"train-{i:05d}-of-00003.jsonl").read_bytes()
                     for i in range(3)).decode("utf-8").splitlines()
    assert lines == [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in rows]
    assert "naïve café, Дели, 東京" in lines[0]  # UTF-8, not \u escapes
    shard = pq.read_table(out / "data" / "text" / "train-00001-of-00003.parquet")
    assert shard.column("id").to_pylist() == [r["id"] for r in rows[3:6]]
    assert not (out / STAGING).exists()


def test_a_row_group_that_cannot_be_written_stops_the_writer(tmp_path):
    """A row group pyarrow refuses stops the writing with pyarrow's error, and no shard is
    renamed into place."""
    values = [prepare(row).values for row in make_rows(4)]
    values[2]["revision"] = "two"  # not an int64
    writer = ParquetWriter(tmp_path / "text", features.arrow_schema("text"), shard_rows=3,
                           row_group_rows=2)
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        for v in values:
            writer.write(v)
        writer.close()
    assert not list((tmp_path / "text").glob("*-of-*"))


def test_load_dataset_offline_gives_typed_rows_equal_to_the_jsonl(tmp_path):
    from datasets import load_dataset

    rows = make_rows(7)
    out = tmp_path / "corpus"
    write_corpus(out, rows, shard_rows=3)
    text = load_dataset(str(out), cache_dir=str(tmp_path / "cache"))["train"]
    meta = load_dataset(str(out), "metadata", cache_dir=str(tmp_path / "cache"))["train"]
    assert text.num_rows == meta.num_rows == 7
    assert "text" not in meta.column_names and meta.column_names == [
        c for c in text.column_names if c != "text"]
    for name in ("date_published", "date_modified", "date_captured", "http_last_modified"):
        assert text.features[name].dtype == "timestamp[us, tz=UTC]"
        assert meta.features[name].dtype == "timestamp[us, tz=UTC]"
    assert text.features["date_published_day"].dtype == "date32"
    assert text.features["license"]["redistributable"].dtype == "bool"
    for got, want in zip(text, jsonl_rows(out), strict=True):
        for name in ("date_published", "date_modified", "date_captured", "http_last_modified"):
            assert got[name] == instant(want[name]), name
            assert got[name] is None or got[name].utcoffset().total_seconds() == 0
        day = want["date_published_day"]
        assert got["date_published_day"] == (date.fromisoformat(day) if day else None)
        assert got["text"] == want["text"] and got["authors"] == want["authors"]
        assert got["license"] == want["license"]
        assert got["provenance"]["refers_to"] == want["provenance"]["refers_to"]
        assert got["dates"] == want["dates"]
    assert text[0]["date_published"] == datetime(2025, 6, 1, 21, 15, 0, 250000, tzinfo=UTC)


def test_an_empty_corpus_has_typed_empty_shards_and_says_so(tmp_path):
    out = tmp_path / "empty"
    summary = write_corpus(out, [], skips=(Skipped("a.warc.gz", 0, "not-html", "image/png"),))
    assert summary.rows_written == 0
    for config in features.CONFIGS:
        table = pq.read_table(out / "data" / config / "train-00000-of-00001.parquet")
        assert table.num_rows == 0 and table.schema == features.arrow_schema(config)
    assert (out / "data/text/train-00000-of-00001.jsonl").read_bytes() == b""
    assert "`datasets` cannot load a config with no rows" in (out / "README.md").read_text()


def test_redistributable_policy_keeps_only_free_text_but_every_metadata_row(tmp_path):
    rows = make_rows(7)
    out = tmp_path / "free"
    summary = write_corpus(out, rows, policy="redistributable")
    free = [r["id"] for r in rows if r["license"]["redistributable"] is True]
    assert 0 < len(free) < len(rows)
    assert [r["id"] for r in jsonl_rows(out)] == free
    assert parquet_ids(out / "data" / "text") == free
    assert parquet_ids(out / "data" / "metadata") == [r["id"] for r in rows]
    assert summary.text_rows == len(free) and summary.rows_written == len(rows)
    card = (out / "README.md").read_text("utf-8")
    assert "text policy `redistributable`" in card
    saved = json.loads((out / "build-summary.json").read_text("utf-8"))
    assert saved["text_policy"] == "redistributable"
    assert saved["text_rows"] == len(free) and saved["rows_written"] == len(rows)
    assert saved["redistributable"] == {"true": 3, "false": 2, "unknown": 2}


def _write_in_another_process(rows: list[dict], folder: Path, before: str = "",
                              env: dict[str, str] | None = None) -> str:
    """`write_corpus(folder, rows)` in a new Python process, after the code `before` (which
    may use `t`, this module, and `Path`); what the process printed."""
    rows_file = folder.parent / f"{folder.name}-rows.json"
    rows_file.parent.mkdir(parents=True, exist_ok=True)
    rows_file.write_text(json.dumps(rows), "utf-8")
    code = "; ".join(filter(None, [
        "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[3])", before,
        "import test_write as t",
        "t.write_corpus(Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text('utf-8')))"]))
    done = subprocess.run([sys.executable, "-c", code, str(folder), str(rows_file),
                           str(Path(__file__).parent)], capture_output=True, text=True,
                          check=True, env=env)
    return done.stdout


def test_same_rows_give_the_same_bytes_in_any_folder_zone_and_locale(tmp_path):
    """Writing twice, in another process with another TZ and locale, gives identical files."""
    rows = make_rows(5)
    first = tmp_path / "a"
    write_corpus(first, rows)
    env = {**os.environ, "TZ": "Pacific/Chatham", "LC_ALL": "C", "LANG": "C"}
    second = tmp_path / "elsewhere" / "b"
    _write_in_another_process(rows, second, env=env)
    assert tree(first) == tree(second)
    assert len(tree(first)) == 9
    meta = pq.ParquetFile(first / "data/metadata/train-00000-of-00002.parquet").metadata
    assert meta.created_by.startswith("parquet-cpp-arrow version")
    assert str(tmp_path) not in "".join(v.decode("utf-8", "replace") for v in tree(first).values())


def test_writing_without_pandas_gives_the_same_bytes_and_leaves_pandas_importable(tmp_path):
    """The command line tells pyarrow pandas is absent (`forgo_pandas`): converting rows then
    imports no pandas, the shards are the library's byte for byte, and pandas still works."""
    rows = make_rows(5)
    write_corpus(tmp_path / "a", rows)
    before = (
        "from warcpack.write import features, parquet; parquet.forgo_pandas(); "
        "import test_write as t; "
        "w = parquet.ParquetWriter(Path(sys.argv[1] + '-alone'), features.arrow_schema('text'), "
        "3); [w.write(t.prepare(row).values) for row in t.make_rows(5)]; w.close(); "
        "print('pandas' in sys.modules)"
    )
    printed = _write_in_another_process(rows, tmp_path / "b", before)
    assert printed.split() == ["False"]
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    pandas = subprocess.run([sys.executable, "-c", "import sys; from warcpack.write import "
                             "parquet; parquet.forgo_pandas(); import pandas; "
                             "print(pandas.DataFrame({'a': [1]}).size)"],
                            capture_output=True, text=True, check=True)
    assert pandas.stdout.split() == ["1"]


# --- card, croissant, summary --------------------------------------------------------------------


def test_card_declares_both_configs_and_reports_the_build(tmp_path):
    import yaml

    out = tmp_path / "c"
    skips = (Skipped("crawl-1.warc.gz", 5000, "not-html", "application/pdf"),
             Skipped("crawl-1.warc.gz", 9000, "http-error", "404"))
    write_corpus(out, make_rows(4), skips=skips)
    card = (out / "README.md").read_text("utf-8")
    head, body = card.removeprefix("---\n").split("\n---\n", 1)
    meta = yaml.safe_load(head)
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert configs["text"]["default"] is True
    assert configs["text"]["data_files"] == [{"split": "train", "path": "data/text/*.parquet"}]
    assert configs["metadata"]["data_files"] == [
        {"split": "train", "path": "data/metadata/*.parquet"}]
    info = {i["config_name"]: i["features"] for i in meta["dataset_info"]}
    assert {f["name"]: f.get("dtype") for f in info["text"]}["date_captured"] == \
        "timestamp[us, tz=UTC]"
    assert "text" not in [f["name"] for f in info["metadata"]]
    assert "Records skipped: 2 (http-error 1, not-html 1)" in body
    assert "Captured: 2025-07-01T08:30:00Z to 2025-07-04T08:30:03Z" in body
    assert "| true | 2 |" in body and "| false | 1 |" in body and "| unknown (null) | 1 |" in body
    assert "| `license.redistributable` | bool, nullable |" in body
    assert "Whether the text may be redistributed" in body  # descriptions come from the schema


def test_summary_lists_skipped_records_in_order_with_checksums(tmp_path):
    import hashlib

    out = tmp_path / "s"
    skips = (Skipped("a.warc.gz", 10, "not-html", "image/png"),
             Skipped("a.warc.gz", 20, "invalid-row", "title: 5 is not of type 'string'"),
             Skipped("b.warc.gz", 0, "damaged", "bad gzip member"))
    summary = write_corpus(out, make_rows(2), skips=skips)
    saved = json.loads((out / "build-summary.json").read_text("utf-8"))
    assert saved["records_seen"] == 5 and saved["rows_written"] == 2
    assert saved["skipped_by_reason"] == {"damaged": 1, "invalid-row": 1, "not-html": 1}
    assert saved["invalid_rows"] == 1 and not summary.ok
    assert [(s["warc_file"], s["offset"], s["reason"]) for s in saved["skipped"]] == [
        ("a.warc.gz", 10, "not-html"), ("a.warc.gz", 20, "invalid-row"),
        ("b.warc.gz", 0, "damaged")]
    for entry in saved["outputs"]:
        data = (out / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"]
    assert {e["path"] for e in saved["outputs"]} == set(tree(out)) - {"build-summary.json"}


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:The inplace keyword")
def test_croissant_validates_and_mlcroissant_reads_records(tmp_path):
    import mlcroissant as mlc

    rows = make_rows(5)
    out = tmp_path / "cr"
    write_corpus(out, rows, shard_rows=2)
    doc = json.loads((out / "croissant.json").read_text("utf-8"))
    files = {d["@id"]: d for d in doc["distribution"] if d["@type"] == "cr:FileObject"}
    assert len(files) == 6  # 3 text + 3 metadata parquet shards
    for path, entry in files.items():
        assert entry["contentSize"] == f"{(out / path).stat().st_size} B"
    dataset = mlc.Dataset(jsonld=out / "croissant.json")
    assert not dataset.metadata.ctx.issues.errors
    records = list(dataset.records("text"))
    assert [r["text/id"].decode() for r in records] == [r["id"] for r in rows]
    for got, want in zip(records, rows, strict=True):
        assert got["text/date_captured"].to_pydatetime() == instant(want["date_captured"])
        assert got["text/license"]["text/license/redistributable"] == \
            want["license"]["redistributable"]
        assert got["text/text"].decode() == want["text"]
    meta = list(dataset.records("metadata"))
    assert len(meta) == 5 and "metadata/text" not in meta[0]


# --- the output folder ---------------------------------------------------------------------------


def test_output_refuses_a_folder_that_is_not_a_previous_build(tmp_path):
    foreign = tmp_path / "docs"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(OutputError, match="not empty"):
        Output.open(foreign)
    assert sorted(p.name for p in foreign.iterdir()) == ["thesis.tex"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        Output.open(tmp_path / "file")


def test_one_build_at_a_time_per_output_folder(tmp_path):
    with Output.open(tmp_path / "out"):
        with pytest.raises(OutputError, match="another build is writing"):
            Output.open(tmp_path / "out")
    Output.open(tmp_path / "out").close()  # free again once the first is done


def test_rebuild_replaces_the_old_corpus_and_removes_stale_shards(tmp_path):
    out = tmp_path / "corpus"
    write_corpus(out, make_rows(7), shard_rows=3)
    assert len(list((out / "data" / "text").glob("*.parquet"))) == 3
    write_corpus(out, make_rows(2), shard_rows=3)
    fresh = tmp_path / "fresh"
    write_corpus(fresh, make_rows(2), shard_rows=3)
    assert tree(out) == tree(fresh)


def test_an_interrupted_commit_is_rolled_forward_and_an_unfinished_build_discarded(
    tmp_path, monkeypatch
):
    out = tmp_path / "corpus"
    write_corpus(out, make_rows(7), shard_rows=3)
    expected = tmp_path / "expected"
    write_corpus(expected, make_rows(2), shard_rows=3)
    # Stage the new build and write its journal, then "crash" after moving one file.
    output = Output.open(out)
    summary = _summary()
    writer = CorpusWriter(output.staging, summary, 3)
    for row in make_rows(2):
        summary.records_seen += 1
        writer.add_row(prepare(row))
    writer.finish()
    commit_then_crash(output, monkeypatch)
    output.close()
    assert (out / STAGING / JOURNAL).exists()
    Output.open(out).close()  # the next open finishes the commit
    assert tree(out) == tree(expected)
    # An unfinished build (no journal) leaves the corpus untouched and its staging is cleared.
    (out / STAGING / "data").mkdir(parents=True)
    (out / STAGING / "data" / "half.parquet").write_bytes(b"PAR1")
    with Output.open(out):
        pass
    assert tree(out) == tree(expected)


def commit_then_crash(output: Output, monkeypatch) -> None:
    """Output.commit, stopped after its journal and first move."""
    moves = []
    real_replace = os.replace

    def replace_once(src, dst):
        if moves:
            raise KeyboardInterrupt  # the crash
        moves.append(dst)
        real_replace(src, dst)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", replace_once)
        with pytest.raises(KeyboardInterrupt):
            output.commit()
    assert len(moves) == 1
