"""A store at a URL (an object store, any web server) is read through fsspec, by byte range:
a build from it writes the same bytes as a build from the folder, workers read it themselves,
and it is never written to."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil

import pytest
from store_helpers import serve_objects, tree, two_file_store, write_warc
from typer.testing import CliRunner
from upath import UPath

from warcpack.audit import audit
from warcpack.build import BuildError, build
from warcpack.cache import fingerprint
from warcpack.cli import app
from warcpack.engines.unit import Job, run_job_unit
from warcpack.plan import plan
from warcpack.release import release
from warcpack.store import Store, StoreError
from warcpack.store.ingest import ingest

pytestmark = pytest.mark.usefixtures("offline_hf")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The store's folder, and its URL on a loopback server that answers byte ranges."""
    root = tmp_path_factory.mktemp("bucket")
    store = two_file_store(root)
    shutil.rmtree(store / ".cache", ignore_errors=True)
    with serve_objects(root) as (base, requests):
        yield store, f"{base}/store", requests


def test_a_build_from_a_url_writes_the_folders_corpus_reading_warcs_by_range(served, tmp_path):
    store, url, requests = served
    local = build(store, tmp_path / "local", workers=2, unit_records=2, progress=False,
                  use_cache=False)
    requests.clear()
    remote = build(url, tmp_path / "remote", workers=2, unit_records=2, progress=False)
    assert remote.records_extracted == local.records_extracted == 8
    assert remote.rows_written == 6 and remote.recaptures == 1  # the revisit, across files
    assert tree(tmp_path / "remote") == tree(tmp_path / "local")
    warc_reads = [(method, rng) for method, path, rng in requests if ".warc" in path]
    assert any(method == "GET" for method, _ in warc_reads)
    assert all(rng is not None for method, rng in warc_reads if method == "GET")
    assert not any(path.endswith("/") for _, path, _ in requests)  # no listing is needed
    assert not (store / ".cache").exists()  # nothing was written beside the store


def test_a_rebuild_from_a_url_with_a_cache_extracts_nothing_again(served, tmp_path):
    _, url, _ = served
    first = build(url, tmp_path / "one", workers=1, progress=False, cache=tmp_path / "cache")
    again = build(url, tmp_path / "two", workers=1, progress=False, cache=tmp_path / "cache")
    assert first.records_extracted == 8 and again.records_extracted == 0
    assert tree(tmp_path / "two") == tree(tmp_path / "one")


def test_a_store_at_a_url_is_never_written(served, tmp_path):
    store, url, requests = served
    opened = Store.open(url)
    assert opened.remote and opened.warc_files() == Store.open(store).warc_files()
    with pytest.raises(StoreError, match="read-only"):
        with opened.transaction():
            pass
    with pytest.raises(StoreError, match="read-only"):
        Store.open(url + "/new", create=True)
    with pytest.raises(StoreError, match="read-only"):  # a UPath made by the caller alike
        Store.open(UPath(url + "/new"), create=True)
    assert Store.open(UPath(url)).warc_files() == opened.warc_files()
    assert all(method in ("GET", "HEAD") for method, _, _ in requests)
    (store / ".txn").write_text("{}")  # a commit interrupted where the store is written
    try:
        with pytest.raises(StoreError, match="commit was interrupted"):
            Store.open(url)
    finally:
        (store / ".txn").unlink()


def test_the_command_line_names_a_url_without_a_store_or_without_its_backend(served, tmp_path):
    _, url, _ = served
    missing = CliRunner().invoke(app, ["build", "--store", url + "-not-here", "--out",
                                       str(tmp_path / "out"), "--no-progress"])
    assert missing.exit_code == 1 and "no WARC store at" in missing.output
    assert url + "-not-here" in missing.output.replace("\n", "")
    assert "Traceback" not in missing.output and not (tmp_path / "out").exists()
    absent = [(url, package) for url, package in (("gs://bucket/warcs", "gcsfs"),
                                                  ("az://container/warcs", "adlfs"))
              if importlib.util.find_spec(package) is None]  # the backend is an install away
    for url, package in absent[:1]:
        result = CliRunner().invoke(app, ["build", "--store", url, "--out",
                                          str(tmp_path / "out"), "--no-progress"])
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert package in result.output


def test_verify_checks_a_store_at_a_url_in_place_and_names_a_changed_file(served, tmp_path):
    store, _, _ = served
    bucket = tmp_path / "bucket"
    shutil.copytree(store, bucket / "store")
    with serve_objects(bucket) as (base, _):
        sound = CliRunner().invoke(app, ["verify", "--store", f"{base}/store"])
        assert sound.exit_code == 0 and "is sound" in sound.output
        assert "2 file(s), 8 record(s)" in sound.output  # the revisit and the 404 included
        assert "cannot be listed" in sound.output  # a web server lists nothing: said, not hidden
        target = bucket / "store" / "b.warc.gz"
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01  # one bit flipped inside a record
        target.write_bytes(bytes(data))
        found = CliRunner().invoke(app, ["verify", "--store", f"{base}/store"])
    assert found.exit_code == 1 and "Traceback" not in found.output
    assert "b.warc.gz: SHA-256 differs from SHA256SUMS" in found.output.replace("\n", " ")


def test_history_reads_a_pages_captures_from_a_store_at_a_url(served):
    store, url, _ = served
    revisit = next(e for e in Store.open(store).index_entries() if e.record_type == "revisit")
    shown = CliRunner().invoke(app, ["history", revisit.url, "--store", url, "--json"])
    assert shown.exit_code == 0, shown.output
    captures = json.loads(shown.stdout)["captures"]
    assert [(c["warc_file"], c["warc_type"]) for c in captures] == [
        ("a.warc.gz", "response"), ("b.warc.gz", "revisit")]
    assert captures[1]["title"] == captures[0]["title"]  # the revisit read its original's page


def test_an_audit_checks_a_release_against_the_bytes_at_the_url(served, tmp_path):
    store, _, _ = served
    bucket = tmp_path / "bucket"
    shutil.copytree(store, bucket / "store")
    done = release("1.0.0", bucket / "store", tmp_path / "releases", progress=False)
    with serve_objects(bucket) as (base, _):
        clean = audit(done.folder, f"{base}/store")
        assert clean.clean, clean.findings
        target = bucket / "store" / "a.warc.gz"
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
        found = audit(done.folder, f"{base}/store", reextract_rows=0)
    assert not found.clean
    assert {(f.code, f.file) for f in found.findings} >= {("warc-changed", "a.warc.gz")}


def test_writing_to_a_url_is_refused_and_leaves_no_folder_named_after_it(served, tmp_path,
                                                                          monkeypatch):
    store, url, _ = served
    monkeypatch.chdir(tmp_path)
    warc = store / Store.open(store).warc_files()[0]
    for target in (url + "-new", "s3://bucket/warcs"):
        added = CliRunner().invoke(app, ["ingest", str(warc), "--store", target])
        assert added.exit_code == 1 and "read-only" in added.output, added.output
        assert "Traceback" not in added.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no "http:" or "s3:" folder


@pytest.mark.parametrize(("workers", "lost", "kept_units"),
                         [(1, "b.warc.gz", 2), (2, "b.warc.gz", 2),
                          (2, "a.warc.gz", 1)])  # b's first unit, its revisit, needs a's record
def test_a_file_the_url_stops_serving_stops_the_build_clearly_and_it_resumes(
        served, tmp_path, workers, lost, kept_units):
    store, _, _ = served
    bucket = tmp_path / "bucket"
    shutil.copytree(store, bucket / "store")
    reference = build(store, tmp_path / "local", workers=1, progress=False, use_cache=False)
    kept = next(name for name in ("a.warc.gz", "b.warc.gz") if name != lost)
    hidden = bucket / lost
    (bucket / "store" / lost).rename(hidden)  # a lost object, or a lost network
    slow = {kept: 0.5}  # the lost file's units fail while the other's are still reading
    with serve_objects(bucket, slow) as (base, _):
        with pytest.raises(BuildError) as failed:
            build(f"{base}/store", tmp_path / "out", workers=workers, unit_records=2,
                  progress=False, cache=tmp_path / "cache")
        message = str(failed.value)
        assert f"cannot read {lost} from offset" in message and "run the build again" in message
        assert not (tmp_path / "out" / "build-summary.json").exists()
        hidden.rename(bucket / "store" / lost)
        slow.clear()
        again = build(f"{base}/store", tmp_path / "out", workers=workers, unit_records=2,
                      progress=False, cache=tmp_path / "cache")
    # The other file's units were kept: read before (one worker), or under way when the lost
    # file's units failed (two workers take all 4 units at once) and let finish, so that how far
    # a failed build got never depends on which worker failed first.
    assert (again.units, again.units_cached) == (4, kept_units)
    assert again.rows_written == reference.rows_written
    assert tree(tmp_path / "out") == tree(tmp_path / "local")


def test_a_record_list_at_a_url_selects_records_of_a_store_at_a_url(served, tmp_path):
    store, url, _ = served
    entries = [e for e in Store.open(store).index_entries() if e.record_type == "response"]
    chosen = sorted(entries, key=lambda e: (e.filename, e.offset))[1::2]
    listing = store.parent / "lists" / "pages.csv"  # beside the store, on the same server
    listing.parent.mkdir(exist_ok=True)
    listing.write_text("warc_filename,warc_record_offset,warc_record_length\n" + "".join(
        f"crawl-data/x/{e.filename},{e.offset},{e.length}\n" for e in chosen), "utf-8")
    local = build(store, tmp_path / "local", workers=1, progress=False, use_cache=False,
                  records=listing)
    remote = build(url, tmp_path / "remote", workers=1, progress=False, use_cache=False,
                   records=url.rsplit("/", 1)[0] + "/lists/pages.csv")
    assert remote.records_seen == local.records_seen == len(chosen) >= 3
    assert tree(tmp_path / "remote") == tree(tmp_path / "local")
    gone = CliRunner().invoke(app, ["build", "--store", url, "--out", str(tmp_path / "x"),
                                    "--records", url + "/no-such-list.csv", "--no-progress"])
    assert gone.exit_code == 1 and "no-such-list.csv" in gone.output.replace("\n", "")
    assert "Traceback" not in gone.output


def test_a_worker_that_outlives_a_build_reads_the_store_at_the_url_as_it_grew(served, tmp_path):
    """Ray keeps its worker processes between builds: a worker that opened the store for one
    build must see the files added to it before the next."""
    store, _, _ = served
    bucket = tmp_path / "bucket"
    shutil.copytree(store, bucket / "store")
    with serve_objects(bucket) as (base, _):
        url = f"{base}/store"

        def job() -> Job:
            state = hashlib.sha256((bucket / "store" / "SHA256SUMS").read_bytes()).hexdigest()
            return Job(url, fingerprint(), store_state=state)

        before = plan(Store.open(url), 2)
        assert run_job_unit(job(), before[0], {}).records == 2
        write_warc(tmp_path / "c.warc.gz", [{"url": "https://later.example.com/", "body":
                                             b"<p>later</p>", "date": "2024-07-01T08:00:00Z"}])
        ingest([tmp_path / "c.warc.gz"], bucket / "store")  # where the store is written
        [added] = [u for u in plan(Store.open(url), 2) if u.file not in
                   {b.file for b in before}]
        assert run_job_unit(job(), added, {}).records == 1  # the same process, a new state


def test_exports_of_a_store_at_a_url_are_the_folders_byte_for_byte(served, tmp_path):
    store, url, _ = served
    done = release("1.0.0", store, tmp_path / "releases", progress=False)
    for kind, name in (("wacz", "store.wacz"), ("bag", "bag")):
        for source, where in ((str(store), "folder"), (url, "url")):
            made = CliRunner().invoke(app, ["export", kind, str(tmp_path / where / name),
                                            "--store", source, "--release", str(done.folder)])
            assert made.exit_code == 0, made.output
    assert tree(tmp_path / "url") == tree(tmp_path / "folder")
    assert (tmp_path / "url" / "bag" / "data" / "warcs" / "b.warc.gz").read_bytes() == (
        store / "b.warc.gz").read_bytes()
