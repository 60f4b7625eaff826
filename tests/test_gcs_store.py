"""A store in a Google Cloud Storage bucket, read through gcsfs from a GCS server on loopback
(gcp-storage-emulator's, which speaks the JSON API gcsfs uses): a build by the command line, with
its workers, writes the folder's corpus; verify names a changed object; a rebuild with a cache
reads no unit again.

Every gcsfs call runs in a command, configured only by the environment, as a user would point
warcpack at an emulator: STORAGE_EMULATOR_HOST, FSSPEC_GS_TOKEN=anon (fsspec's per-protocol
default: no credentials to look for), and GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false (the emulator
has no gRPC service for gcsfs to ask a bucket's type; it would wait a minute per command).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys

import pytest
from gcp_storage_emulator.server import create_server
from store_helpers import tree, two_file_store

from warcpack.build import build

pytestmark = pytest.mark.usefixtures("offline_hf")

BUCKET = "warcpack-test-bucket"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


def _gcs(env: dict[str, str], code: str, *args: str) -> None:
    """Run `code` with `fs`, gcsfs's filesystem as the environment configures it."""
    done = _run(env, "-c", f"import sys, fsspec\nfs = fsspec.filesystem('gs')\n{code}", *args)
    assert done.returncode == 0, done.stderr[-3000:]


def _warcpack(env: dict[str, str], *args: str) -> tuple[int, str]:
    """The command's exit code and what it said (both streams, lines rejoined)."""
    done = _run(env, "-m", "warcpack", *args)
    return done.returncode, " ".join((done.stdout + done.stderr).split())


@pytest.fixture(scope="module")
def gcs(tmp_path_factory):
    """(store folder, the environment pointing gcsfs at the server, its gs:// URL)."""
    port = _free_port()
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket=BUCKET)
    server.start()
    try:
        env = {"STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{port}", "FSSPEC_GS_TOKEN": "anon",
               "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}
        store = two_file_store(tmp_path_factory.mktemp("gcssrc"))
        shutil.rmtree(store / ".cache", ignore_errors=True)
        _gcs(env, "fs.put(sys.argv[1], sys.argv[2], recursive=True)", str(store),
             f"{BUCKET}/store")
        yield store, env, f"gs://{BUCKET}/store"
    finally:
        server.stop()


def test_the_command_line_builds_from_a_bucket_on_two_workers_the_folders_corpus(gcs, tmp_path):
    store, env, url = gcs
    local = build(store, tmp_path / "local", workers=1, progress=False, use_cache=False)
    code, said = _warcpack(env, "build", "--store", url, "--out", str(tmp_path / "remote"),
                           "--workers", "2", "--no-progress", "--no-cache")
    assert code == 0, said[-3000:]
    assert tree(tmp_path / "remote") == tree(tmp_path / "local")
    assert local.rows_written == 6


def test_verify_names_a_changed_object(gcs):
    store, env, _ = gcs
    _gcs(env, "fs.put(sys.argv[1], sys.argv[2], recursive=True)", str(store),
         f"{BUCKET}/changed")
    code, said = _warcpack(env, "verify", "--store", f"gs://{BUCKET}/changed")
    assert code == 0 and "is sound" in said, said
    _gcs(env, "data = bytearray(fs.cat(sys.argv[1]))\ndata[len(data) // 2] ^= 0x01\n"
         "fs.pipe(sys.argv[1], bytes(data))", f"{BUCKET}/changed/b.warc.gz")
    code, said = _warcpack(env, "verify", "--store", f"gs://{BUCKET}/changed")
    assert code == 1 and "Traceback" not in said
    assert "b.warc.gz: SHA-256 differs from SHA256SUMS" in said


def test_a_rebuild_from_the_bucket_with_a_cache_reads_no_unit_again(gcs, tmp_path):
    """Units are cached under each object's size and ETag, looked up without reading it."""
    _, env, url = gcs
    cache = str(tmp_path / "cache")
    first = _warcpack(env, "build", "--store", url, "--out", str(tmp_path / "one"),
                      "--workers", "1", "--no-progress", "--cache", cache)
    again = _warcpack(env, "build", "--store", url, "--out", str(tmp_path / "two"),
                      "--workers", "1", "--no-progress", "--cache", cache)
    assert first[0] == 0 and again[0] == 0, first[1][-3000:] + again[1][-3000:]
    units = re.search(r"work units (\d+) \(0 done before, 8 records extracted now\)", first[1])
    assert units, first[1]
    assert f"work units {units[1]} ({units[1]} done before, 0 records extracted now)" in again[1]
    assert tree(tmp_path / "two") == tree(tmp_path / "one")
