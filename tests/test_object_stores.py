"""A store in a Google Cloud Storage bucket (gcsfs) and in an Azure Blob Storage container
(adlfs), each read from its emulator on loopback: a build by the command line, with its workers,
writes the folder's corpus; verify names a changed object; a rebuild with a cache reads no unit
again. (S3 has its own module: moto's server also runs in this process.)

Every gcsfs or adlfs call runs in a command configured only by the environment, as a user would
point warcpack at an emulator:
- Cloud Storage (gcp-storage-emulator, which speaks the JSON API gcsfs uses):
  STORAGE_EMULATOR_HOST, FSSPEC_GS_TOKEN=anon (fsspec's per-protocol default: no credentials to
  look for), and GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false (gcsfs reads it when imported; the
  emulator has no gRPC service for gcsfs to ask a bucket's type, and it would wait a minute);
- Azure (Azurite, an npm package `make test` installs into the venv, run with its data in memory
  and its telemetry, on by default, off): AZURE_STORAGE_CONNECTION_STRING, Azurite's development
  account with a BlobEndpoint on loopback; with it adlfs looks for no other credential.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from store_helpers import tree, two_file_store

from warcpack.build import build

pytestmark = pytest.mark.usefixtures("offline_hf")

# where `make test` installs it (npm install --prefix .venv/azurite)
AZURITE = Path(__file__).resolve().parents[1] / ".venv/azurite/node_modules/.bin/azurite-blob"
# Azurite's one account, with the key Microsoft publishes for it (not a secret).
AZ_ACCOUNT = "devstoreaccount1"
AZ_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw"
          "==")


@dataclass
class Bucket:
    """A bucket on a loopback server, and the environment that points its client at it."""

    protocol: str  # fsspec's: gs, az
    name: str
    env: dict[str, str]
    store: Path  # the folder uploaded to NAME/store

    def url(self, key: str) -> str:
        return f"{self.protocol}://{self.name}/{key}"

    def fs(self, code: str, *args: str) -> None:
        """Run `code` with `fs`, the backend's filesystem as the environment configures it."""
        done = _run(self.env, "-c",
                    f"import sys, fsspec\nfs = fsspec.filesystem({self.protocol!r})\n{code}",
                    *args)
        assert done.returncode == 0, done.stderr[-3000:]

    def upload(self, key: str) -> None:
        self.fs("fs.put(sys.argv[1], sys.argv[2], recursive=True)", str(self.store),
                f"{self.name}/{key}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


def _warcpack(bucket: Bucket, *args: str) -> tuple[int, str]:
    """The command's exit code and what it said (both streams, lines rejoined)."""
    done = _run(bucket.env, "-m", "warcpack", *args)
    return done.returncode, " ".join((done.stdout + done.stderr).split())


def _source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = two_file_store(tmp_path_factory.mktemp("bucketsrc"))
    shutil.rmtree(store / ".cache", ignore_errors=True)
    return store


def _gcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bucket]:
    from gcp_storage_emulator.server import create_server

    name, port = "warcpack-test-bucket", _free_port()
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket=name)
    server.start()
    try:
        bucket = Bucket("gs", name, {"STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{port}",
                                     "FSSPEC_GS_TOKEN": "anon",
                                     "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"},
                        _source(tmp_path_factory))
        bucket.upload("store")
        yield bucket
    finally:
        server.stop()


def _wait_for(port: int, server: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    """Return once the port takes connections; fail with the server's words if it stopped."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"Azurite exited with {server.returncode}: "
                        f"{log.read_text(errors='replace')[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"Azurite did not listen on 127.0.0.1:{port} within {timeout} s")


def _azure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bucket]:
    if not os.access(AZURITE, os.X_OK):
        pytest.skip(f"Azurite is not installed at {AZURITE}: run `make test`, which installs it")
    port = _free_port()
    here = tmp_path_factory.mktemp("azurite")  # data in memory, but it needs a working folder
    log = here / "azurite.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port),
             "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
            cwd=here, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, server, log)
        bucket = Bucket("az", "warcpack-test-container",  # Azure wants 3 to 63 characters
                        {"AZURE_STORAGE_CONNECTION_STRING": (
                            f"DefaultEndpointsProtocol=http;AccountName={AZ_ACCOUNT};"
                            f"AccountKey={AZ_KEY};"
                            f"BlobEndpoint=http://127.0.0.1:{port}/{AZ_ACCOUNT};")},
                        _source(tmp_path_factory))
        bucket.fs("fs.mkdir(sys.argv[1])", bucket.name)
        bucket.upload("store")
        yield bucket
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module", params=["gcs", "azure"])
def bucket(request, tmp_path_factory) -> Iterator[Bucket]:
    yield from {"gcs": _gcs, "azure": _azure}[request.param](tmp_path_factory)


def test_the_command_line_builds_from_a_bucket_on_two_workers_the_folders_corpus(
        bucket, tmp_path):
    local = build(bucket.store, tmp_path / "local", workers=1, progress=False, use_cache=False)
    code, said = _warcpack(bucket, "build", "--store", bucket.url("store"),
                           "--out", str(tmp_path / "remote"), "--workers", "2", "--no-progress",
                           "--no-cache")
    assert code == 0, said[-3000:]
    assert tree(tmp_path / "remote") == tree(tmp_path / "local")
    assert local.rows_written == 6


def test_verify_names_a_changed_object(bucket):
    bucket.upload("changed")
    code, said = _warcpack(bucket, "verify", "--store", bucket.url("changed"))
    assert code == 0 and "is sound" in said, said
    bucket.fs("data = bytearray(fs.cat(sys.argv[1]))\ndata[len(data) // 2] ^= 0x01\n"
              "fs.pipe(sys.argv[1], bytes(data))", f"{bucket.name}/changed/b.warc.gz")
    code, said = _warcpack(bucket, "verify", "--store", bucket.url("changed"))
    assert code == 1 and "Traceback" not in said
    assert "b.warc.gz: SHA-256 differs from SHA256SUMS" in said


def test_a_rebuild_from_the_bucket_with_a_cache_reads_no_unit_again(bucket, tmp_path):
    """Units are cached under each object's size and change mark (ETag), looked up without
    reading it."""
    cache = str(tmp_path / "cache")
    first = _warcpack(bucket, "build", "--store", bucket.url("store"),
                      "--out", str(tmp_path / "one"), "--workers", "1", "--no-progress",
                      "--cache", cache)
    again = _warcpack(bucket, "build", "--store", bucket.url("store"),
                      "--out", str(tmp_path / "two"), "--workers", "1", "--no-progress",
                      "--cache", cache)
    assert first[0] == 0 and again[0] == 0, first[1][-3000:] + again[1][-3000:]
    units = re.search(r"work units (\d+) \(0 done before, 8 records extracted now\)", first[1])
    assert units, first[1]
    assert f"work units {units[1]} ({units[1]} done before, 0 records extracted now)" in again[1]
    assert tree(tmp_path / "two") == tree(tmp_path / "one")
