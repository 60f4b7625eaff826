"""A store in an S3 bucket, read through s3fs from an S3 server on loopback (moto's): a build by
the command line, with its workers, writes the folder's corpus; verify lists the bucket and names a
changed object; a rebuild with a cache reads no unit again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import s3fs
from moto.server import ThreadedMotoServer
from store_helpers import tree, two_file_store
from typer.testing import CliRunner

from warcpack.audit import audit
from warcpack.build import build
from warcpack.cli import app
from warcpack.release import release
from warcpack.store import Store
from warcpack.store.verify import verify

pytestmark = pytest.mark.usefixtures("offline_hf")

BUCKET = "warcpack-test-bucket"


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """(store folder, its s3:// URL, the environment that points S3 clients at the server, the
    bucket's filesystem)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        env = {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "testing",
               "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
        fs = s3fs.S3FileSystem(endpoint_url=env["AWS_ENDPOINT_URL"], key="testing",
                               secret="testing", skip_instance_cache=True)
        fs.mkdir(BUCKET)
        store = two_file_store(tmp_path_factory.mktemp("s3src"))
        shutil.rmtree(store / ".cache", ignore_errors=True)
        fs.put(str(store), f"{BUCKET}/store", recursive=True)
        yield store, f"s3://{BUCKET}/store", env, fs
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3, monkeypatch):
    """This process talks to the loopback server (as a user's environment would point it at
    a bucket), with no S3 filesystem cached from before."""
    for key, value in s3[2].items():
        monkeypatch.setenv(key, value)
    s3fs.S3FileSystem.clear_instance_cache()
    yield
    s3fs.S3FileSystem.clear_instance_cache()


def test_the_command_line_builds_from_a_bucket_on_two_workers_the_folders_corpus(s3, tmp_path):
    store, url, env, _ = s3
    local = build(store, tmp_path / "local", workers=1, progress=False, use_cache=False)
    done = subprocess.run(
        [sys.executable, "-m", "warcpack", "build", "--store", url, "--out",
         str(tmp_path / "remote"), "--workers", "2", "--no-progress"],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert tree(tmp_path / "remote") == tree(tmp_path / "local")
    assert local.rows_written == 6


def test_verify_lists_the_bucket_and_names_a_changed_object(s3, s3_env, tmp_path):
    store, _, _, fs = s3
    fs.put(str(store), f"{BUCKET}/changed", recursive=True)
    sound = CliRunner().invoke(app, ["verify", "--store", f"s3://{BUCKET}/changed"])
    assert sound.exit_code == 0 and "is sound" in sound.output, sound.output
    assert "cannot be listed" not in sound.output  # a bucket lists its objects
    data = bytearray(fs.cat(f"{BUCKET}/changed/b.warc.gz"))
    data[len(data) // 2] ^= 0x01  # one bit flipped inside a record
    fs.pipe(f"{BUCKET}/changed/b.warc.gz", bytes(data))
    found = CliRunner().invoke(app, ["verify", "--store", f"s3://{BUCKET}/changed"])
    assert found.exit_code == 1 and "Traceback" not in found.output
    assert "b.warc.gz: SHA-256 differs from SHA256SUMS" in found.output.replace("\n", " ")


def test_a_rebuild_from_the_bucket_with_a_cache_reads_no_unit_again(s3, s3_env, tmp_path):
    """Units are cached under each object's size and ETag, looked up without reading it."""
    _, url, _, _ = s3
    cache = tmp_path / "cache"
    first = build(url, tmp_path / "one", workers=1, progress=False, cache=cache)
    again = build(url, tmp_path / "two", workers=1, progress=False, cache=cache)
    assert first.records_extracted == 8 and first.units_cached == 0
    assert again.records_extracted == 0 and again.units_cached == first.units
    assert tree(tmp_path / "two") == tree(tmp_path / "one")


def test_an_object_replaced_under_an_open_store_is_reported_not_raised(s3, s3_env, tmp_path):
    """An open Store keeps its filesystem's listing, so s3fs refuses to read an object replaced
    since (its ETag changed): verify and audit name the file and go on with the others."""
    store, _, _, fs = s3
    done = release("1.0.0", store, tmp_path / "releases", progress=False)
    fs.put(str(store), f"{BUCKET}/held", recursive=True)
    held = Store.open(f"s3://{BUCKET}/held")
    assert verify(held).ok  # lists the bucket: the listing holds every object's ETag
    data = bytearray(fs.cat(f"{BUCKET}/held/b.warc.gz"))
    data[len(data) // 2] ^= 0x01
    fs.pipe(f"{BUCKET}/held/b.warc.gz", bytes(data))
    report = verify(held)
    assert not report.ok and report.files == 1  # a.warc.gz was still checked
    assert [(f, r.split(" (")[0]) for f, _, r in report.problems if f == "b.warc.gz"] == [
        ("b.warc.gz", "cannot be read")]
    found = audit(done.folder, held.root, reextract_rows=0)
    assert {(f.code, f.file) for f in found.findings} >= {("warc-unreadable", "b.warc.gz")}
    fresh = CliRunner().invoke(app, ["verify", "--store", f"s3://{BUCKET}/held"])
    assert "b.warc.gz: SHA-256 differs from SHA256SUMS" in fresh.output.replace("\n", " ")
