"""Ingest: existing WARCs enter the store byte for byte, damaged ones are refused, snapshots."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from store_helpers import (
    SEED,
    benchmark_pages,
    cdxj_indexer,
    serve_directory,
    store_state,
    warcio_check,
    wget_warc,
    write_warc,
)
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from warcpack.cli import app
from warcpack.record import SkippedRecord, SourceRecord
from warcpack.store import IngestError, Store
from warcpack.store.ingest import ingest, ingest_snapshot, normalise_captured
from warcpack.store.verify import verify


@pytest.fixture(scope="module")
def pages() -> dict[str, bytes]:
    return benchmark_pages(3)


@pytest.fixture(scope="module")
def wget_files(
    tmp_path_factory: pytest.TempPathFactory, pages: dict[str, bytes]
) -> dict[str, Path]:
    """WARCs written by `wget --warc-file` against a real server: gzip, uncompressed, chunked."""
    work = tmp_path_factory.mktemp("wget")
    site = work / "site"
    site.mkdir()
    for name, body in pages.items():
        (site / name).write_bytes(body)
    with serve_directory(site) as base:
        urls = [f"{base}/{name}" for name in pages]
        return {
            "gz": wget_warc(urls, work / "crawl", compress=True),
            "plain": wget_warc(urls, work / "crawl-plain", compress=False),
            "chunked": wget_warc([u + "?chunked" for u in urls], work / "crawl-chunked"),
        }


def _records(path: Path) -> list[tuple[int, int, str]]:
    """(offset, length, WARC-Type) of every record, as warcio reads them."""
    out = []
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        for record in it:
            rec_type = record.rec_type
            record.raw_stream.read()
            out.append((it.get_record_offset(), it.get_record_length(), rec_type))
    return out


@pytest.mark.parametrize("kind", ["gz", "plain", "chunked"])
def test_wget_warc_is_stored_verbatim_and_checks(
    tmp_path: Path, wget_files: dict[str, Path], pages: dict[str, bytes], kind: str
) -> None:
    source = wget_files[kind]
    report = ingest([source], tmp_path / "store")
    st = Store.open(tmp_path / "store")
    (stored,) = report.stored
    assert st.warc_files() == [stored.name] == [source.name]
    target = st.root / stored.name
    src, dst = source.read_bytes(), target.read_bytes()
    records = _records(source)
    assert len(records) == stored.records >= 2 * len(pages) + 1  # warcinfo, requests, responses...
    for offset, length, _ in records:
        assert dst[offset : offset + length] == src[offset : offset + length]
    assert dst == src

    check = warcio_check([target])
    assert check.returncode == 0, check.stdout
    assert "digest pass" in check.stdout
    assert cdxj_indexer([target]) == st.index_path.read_text()
    assert len(st.index_path.read_text().splitlines()) >= len(pages)
    subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=st.root, check=True)

    # The records read back are the pages the server sent (de-chunked and gunzipped for "chunked").
    bodies = {
        r.url.split("?")[0].rsplit("/", 1)[1]: r.body
        for r in st.iter_records()
        if isinstance(r, SourceRecord) and r.warc_type == "response"
    }
    assert bodies == pages
    assert verify(st).ok


def test_warcio_written_uncompressed_warc(tmp_path: Path, pages: dict[str, bytes]) -> None:
    source = tmp_path / "made by warcio.warc"
    bodies = list(pages.values())
    write_warc(source, [
        {"url": f"https://example.org/{i}", "date": f"2024-01-0{i + 1}T00:00:00Z", "body": b}
        for i, b in enumerate(bodies)
    ], compress=False)
    report = ingest([source], tmp_path / "store")
    st = Store.open(tmp_path / "store")
    assert st.warc_files() == ["made_by_warcio.warc"]  # name made safe, bytes kept
    assert (st.root / "made_by_warcio.warc").read_bytes() == source.read_bytes()
    assert report.records == len(bodies)
    assert cdxj_indexer([st.root / "made_by_warcio.warc"]) == st.index_path.read_text()
    assert [r.body for r in st.iter_records()] == bodies


def test_arc_files_are_taken_too(tmp_path: Path) -> None:
    def arc_record(header: str, body: bytes) -> bytes:
        return header.encode() + b" %d\n" % len(body) + body + b"\n"

    http = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>an ARC page</html>"
    members = [
        arc_record("filedesc://old.arc 0.0.0.0 20040101000000 text/plain",
                   b"1 0 Example\nURL IP-address Archive-date Content-type Archive-length\n"),
        arc_record("http://example.com/ 192.0.2.1 20040101000000 text/html", http),
    ]
    source = tmp_path / "old.arc.gz"
    source.write_bytes(b"".join(gzip.compress(m, mtime=0) for m in members))
    ingest([source], tmp_path / "store")
    st = Store.open(tmp_path / "store")
    assert cdxj_indexer([st.root / "old.arc.gz"]) == st.index_path.read_text()
    (record,) = list(st.iter_records())
    assert record.body == b"<html>an ARC page</html>" and record.warc_date == "2004-01-01T00:00:00Z"
    again = list(st.iter_records())[0]
    assert again.ref.record_id == record.ref.record_id  # ARC has no ids: derived, stable


def test_reingest_is_a_no_op(tmp_path: Path, wget_files: dict[str, Path]) -> None:
    store = tmp_path / "store"
    ingest([wget_files["gz"]], store)
    before = store_state(store)
    report = ingest([wget_files["gz"]], store)
    assert [f.status for f in report.files] == ["duplicate"]
    assert store_state(store) == before

    # Same name, other content: both kept, the newcomer under a hash-suffixed name.
    renamed = tmp_path / wget_files["gz"].name
    renamed.write_bytes(wget_files["chunked"].read_bytes())
    (other,) = ingest([renamed], store).stored
    assert other.name.startswith("crawl-") and other.name != "crawl.warc.gz"
    assert len(Store.open(store).warc_files()) == 2


def _response_offsets(path: Path) -> list[tuple[int, int]]:
    return [(o, n) for o, n, t in _records(path) if t == "response"]


def test_damaged_warcs_are_refused_and_store_untouched(
    tmp_path: Path, wget_files: dict[str, Path]
) -> None:
    store = tmp_path / "store"
    ingest([wget_files["gz"]], store)
    before = store_state(store)

    truncated = tmp_path / "truncated.warc.gz"
    data = wget_files["chunked"].read_bytes()
    cut_offset, cut_length = _response_offsets(wget_files["chunked"])[1]
    truncated.write_bytes(data[: cut_offset + cut_length // 2])

    flipped = tmp_path / "flipped.warc"
    plain = bytearray(wget_files["plain"].read_bytes())
    flip_offset, flip_length = _response_offsets(wget_files["plain"])[0]
    plain[flip_offset + flip_length - 500] ^= 0x20  # inside the HTML payload
    flipped.write_bytes(bytes(plain))

    for bad, offset, words in [
        (truncated, cut_offset, "cut short"),
        (flipped, flip_offset, "digest failed"),
    ]:
        with pytest.raises(IngestError) as caught:
            ingest([wget_files["plain"], bad], store)
        message = str(caught.value)
        assert str(bad) in message and f"byte offset {offset}:" in message and words in message
        assert caught.value.problems == [(str(bad), offset, caught.value.problems[0][2])]
        assert store_state(store) == before

    # The CLI says the same on stderr and exits 1.
    result = CliRunner().invoke(app, ["ingest", str(flipped), "--store", str(store)])
    assert result.exit_code == 1
    assert "flipped.warc" in result.output and f"byte offset {flip_offset}" in result.output
    assert store_state(store) == before


def test_accept_damaged_takes_file_whole_and_logs_records(
    tmp_path: Path, wget_files: dict[str, Path]
) -> None:
    store = tmp_path / "store"
    flipped = tmp_path / "flipped.warc"
    plain = bytearray(wget_files["plain"].read_bytes())
    offset, length = _response_offsets(wget_files["plain"])[1]
    plain[offset + length - 300] ^= 0x01
    flipped.write_bytes(bytes(plain))

    report = ingest([flipped], store, accept_damaged=True)
    assert report.problems and report.problems[0][:2] == ("flipped.warc", offset)
    st = Store.open(store)
    assert (st.root / "flipped.warc").read_bytes() == bytes(plain)
    log = [json.loads(line) for line in st.log_path.read_text().splitlines()]
    damaged = [e for e in log if e["event"] == "damaged-record"]
    assert len(damaged) == 1
    assert damaged[0]["file"] == "flipped.warc" and damaged[0]["offset"] == offset
    assert "payload digest failed" in damaged[0]["reason"]

    items = list(st.iter_records())
    skipped = [i for i in items if isinstance(i, SkippedRecord)]
    assert [(s.offset, s.reason) for s in skipped] == [(offset, "damaged")]
    assert sum(isinstance(i, SourceRecord) and i.warc_type == "response" for i in items) == 2
    result = verify(st)
    assert not result.ok and [p[:2] for p in result.problems] == [("flipped.warc", offset)]
    cli = CliRunner().invoke(app, ["verify", "--store", str(store)])
    assert cli.exit_code == 1 and f"offset {offset}" in cli.output


def _b32_sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def test_chunked_payload_digest_of_either_form_is_accepted(tmp_path: Path) -> None:
    body = b"<html><body>" + b"chunked body " * 500 + b"</body></html>"
    chunked = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + 1000]), body[i : i + 1000])
        for i in range(0, len(body), 1000)
    ) + b"0\r\n\r\n"
    headers = [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")]
    source = tmp_path / "chunked.warc"
    write_warc(source, [{"url": "http://example.net/", "date": "2024-05-01T00:00:00Z",
                         "body": chunked, "headers": headers}], compress=False)
    data = source.read_bytes()
    as_written = _b32_sha1(chunked).encode()
    assert as_written in data
    dechunked = source.with_name("dechunked.warc")
    dechunked.write_bytes(data.replace(as_written, _b32_sha1(body).encode()))
    wrong = source.with_name("wrong.warc")
    wrong.write_bytes(data.replace(as_written, _b32_sha1(body + b"x").encode()))

    report = ingest([source, dechunked], tmp_path / "store")
    assert [f.status for f in report.files] == ["stored", "stored"]
    with pytest.raises(IngestError, match="payload digest failed"):
        ingest([wrong], tmp_path / "store")
    bodies = [r.body for r in Store.open(tmp_path / "store").iter_records()]
    assert bodies == [body, body]


def test_snapshot_of_the_seed(tmp_path: Path) -> None:
    seed = SEED.read_bytes()
    ref = ingest_snapshot(
        SEED, tmp_path / "store", url="https://www.tbsnews.net/world/middle-east/example",
        captured="2025-07-03", content_type=None, publisher="The Business Standard",
        site="www.tbsnews.net",
    )
    st = Store.open(tmp_path / "store")
    digest = hashlib.sha256(seed).hexdigest()
    assert st.warc_files() == [ref.warc_file] == [f"snapshot-{digest[:16]}.warc.gz"]
    path = st.root / ref.warc_file

    with open(path, "rb") as fh:
        records = list(ArchiveIterator(fh))  # warcinfo first, then the resource
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        kinds, payloads, heads = [], [], []
        for record in it:
            kinds.append(record.rec_type)
            heads.append(record.rec_headers)
            payloads.append(record.content_stream().read())
    assert len(records) == 2 and kinds == ["warcinfo", "resource"]
    info, head = heads
    assert info.protocol == head.protocol == "WARC/1.1"
    assert b"software: warcpack/" in payloads[0] and b"format: WARC File Format 1.1" in payloads[0]
    assert info.get_header("WARC-Date") == "2025-07-03T00:00:00Z"
    assert payloads[1] == seed
    assert head.get_header("WARC-Date") == "2025-07-03T00:00:00Z"
    assert head.get_header("WARC-Target-URI") == "https://www.tbsnews.net/world/middle-east/example"
    assert head.get_header("Content-Type") == "text/plain; charset=utf-8"
    assert head.get_header("WARC-Payload-Digest") == _b32_sha1(seed)
    assert head.get_header("WARC-Block-Digest") == _b32_sha1(seed)
    assert head.get_header("X-Warcpack-Publisher") == "The Business Standard"
    assert head.get_header("X-Warcpack-Site") == "www.tbsnews.net"
    assert head.get_header("X-Warcpack-Source-Name") == SEED.name
    assert head.get_header("WARC-Record-ID") == ref.record_id
    assert head.get_header("WARC-Warcinfo-ID") == info.get_header("WARC-Record-ID")
    assert gzip.decompress(path.read_bytes()[ref.offset : ref.offset + ref.length]).startswith(
        b"WARC/1.1\r\n"
    )
    assert warcio_check([path]).returncode == 0

    (record,) = list(st.iter_records())
    assert isinstance(record, SourceRecord) and record.body == seed
    assert record.ref == ref and record.warc_type == "resource"
    assert record.hints == {"publisher": "The Business Standard", "site": "www.tbsnews.net"}

    # Again: no-op. Elsewhere: the very same bytes (regenerable store).
    before = store_state(st.root)
    again = ingest_snapshot(
        SEED, st.root, url="https://www.tbsnews.net/world/middle-east/example",
        captured="2025-07-03T00:00:00Z", content_type=None, publisher="The Business Standard",
        site="www.tbsnews.net",
    )
    assert again == ref and store_state(st.root) == before
    other = ingest_snapshot(
        SEED, tmp_path / "other", url="https://www.tbsnews.net/world/middle-east/example",
        captured="2025-07-03", content_type=None, publisher="The Business Standard",
        site="www.tbsnews.net",
    )
    assert (tmp_path / "other" / other.warc_file).read_bytes() == path.read_bytes()

    # Same bytes, another capture time: a second record in a second file.
    later = ingest_snapshot(SEED, st.root, url="https://www.tbsnews.net/world/middle-east/example",
                            captured="2025-07-04", content_type="text/plain")
    assert later.warc_file != ref.warc_file and later.record_id != ref.record_id
    assert len(st.captures("https://www.tbsnews.net/world/middle-east/example")) == 2


def test_captured_times_are_normalised_to_utc() -> None:
    assert normalise_captured("2025-07-03") == "2025-07-03T00:00:00Z"
    assert normalise_captured("2025-07-03T10:15:30+06:00") == "2025-07-03T04:15:30Z"
    assert normalise_captured("2025-07-03T10:15:30.250Z") == "2025-07-03T10:15:30Z"
    with pytest.raises(IngestError, match="ISO 8601"):
        normalise_captured("3 July 2025")


def test_snapshot_cli_and_html_guess(tmp_path: Path, pages: dict[str, bytes]) -> None:
    name, body = next(iter(pages.items()))
    page = tmp_path / name
    page.write_bytes(body)
    result = CliRunner().invoke(app, [
        "ingest", str(page), "--store", str(tmp_path / "store"), "--url", "https://example.com/a",
        "--captured", "2025-01-02T03:04:05+01:00",
    ])
    assert result.exit_code == 0, result.output
    (record,) = list(Store.open(tmp_path / "store").iter_records())
    assert record.content_type == "text/html" and record.body == body
    assert record.warc_date == "2025-01-02T02:04:05Z"
    bad = CliRunner().invoke(app, ["ingest", str(page), "--store", str(tmp_path / "store"),
                                   "--url", "https://example.com/a", "--captured", "yesterday"])
    assert bad.exit_code == 1 and "ISO 8601" in bad.output


def test_missing_file_and_non_warc_are_refused(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file"):
        ingest([tmp_path / "nope.warc.gz"], tmp_path / "store")
    html = tmp_path / "page.warc"
    html.write_bytes(b"<html>not a warc</html>\n")
    with pytest.raises(IngestError, match=r"page\.warc: byte offset 0"):
        ingest([html], tmp_path / "store", accept_damaged=True)  # nothing readable: never taken
    assert Store.open(tmp_path / "store").warc_files() == []


def test_verify_finds_changed_missing_and_extra_files(
    tmp_path: Path, wget_files: dict[str, Path]
) -> None:
    store = tmp_path / "store"
    ingest([wget_files["gz"], wget_files["plain"]], store)
    assert verify(store).ok
    assert CliRunner().invoke(app, ["verify", "--store", str(store)]).exit_code == 0
    (store / "crawl-plain.warc").unlink()
    (store / "stray.warc.gz").write_bytes(wget_files["chunked"].read_bytes())
    data = bytearray((store / "crawl.warc.gz").read_bytes())
    offset, length = _response_offsets(store / "crawl.warc.gz")[0]
    data[offset + length // 2] ^= 0xFF
    (store / "crawl.warc.gz").write_bytes(bytes(data))
    report = verify(store)
    reasons = {(f, o): r for f, o, r in report.problems}
    assert "missing" in reasons[("crawl-plain.warc", None)]
    assert "not listed in SHA256SUMS" in reasons[("stray.warc.gz", None)]
    assert "SHA-256 differs" in reasons[("crawl.warc.gz", None)]
    assert ("crawl.warc.gz", offset) in reasons
    assert any(f == "index.cdxj" for f, _, _ in report.problems)  # the lost file's lines

    # A WARC dropped into the store folder by hand is adopted in place by ingest.
    (stored,) = ingest([store / "stray.warc.gz"], store).stored
    assert stored.name == "stray.warc.gz"
    assert "stray.warc.gz" in Store.open(store).warc_files()
    assert not any(f == "stray.warc.gz" for f, _, _ in verify(store).problems)
