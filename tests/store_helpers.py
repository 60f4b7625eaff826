"""Helpers for the store tests: a real HTTP server over benchmark pages, wget, warcio, snapshots.

Kept out of conftest.py so the store tests import exactly what they use.
"""

from __future__ import annotations

import gzip
import io
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

SHARED = Path(__file__).resolve().parents[2] / "shared"
ARTICLE_HTML = SHARED / "benchmark" / "article-extraction" / "html"
SEED = SHARED / "seed" / "000_14b711aa33428448.txt"
BIN = Path(sys.executable).parent


def benchmark_pages(count: int) -> dict[str, bytes]:
    """The first `count` benchmark pages (sorted by name), decompressed: {name.html: bytes}."""
    paths = sorted(ARTICLE_HTML.glob("*.html.gz"))[:count]
    return {p.name[: -len(".gz")]: gzip.decompress(p.read_bytes()) for p in paths}


class _Handler(SimpleHTTPRequestHandler):
    """Static files; `?chunked` answers with Transfer-Encoding: chunked + Content-Encoding: gzip."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path, _, query = self.path.partition("?")
        if query != "chunked":
            self.path = path
            return super().do_GET()
        body = gzip.compress((Path(self.directory) / path.lstrip("/")).read_bytes(), mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        for i in range(0, len(body), 4000):
            piece = body[i : i + 4000]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        return None


@contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 (free port) over `root`; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _ObjectHandler(SimpleHTTPRequestHandler):
    """Files of a folder as an object store serves them: byte ranges and ETags, no listings
    (a store at a URL must not need one). Every request is noted in `server.requests`."""

    def send_head(self) -> io.BytesIO | None:
        path = Path(self.translate_path(self.path))
        self.server.requests.append((self.command, self.path, self.headers.get("Range")))
        if self.command == "GET":
            time.sleep(self.server.slow.get(path.name, 0.0))
        if not path.is_file():
            self.send_error(404, "Not Found")
            return None
        data = path.read_bytes()
        start, stop = 0, len(data)
        wanted = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range") or "")
        if wanted and (wanted[1] or wanted[2]):
            if wanted[1]:
                start = int(wanted[1])
                stop = min(len(data), int(wanted[2]) + 1) if wanted[2] else len(data)
            else:
                start = max(0, len(data) - int(wanted[2]))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{len(data)}")
        else:
            self.send_response(200)
        stat = path.stat()
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"')
        self.send_header("Content-Length", str(stop - start))
        self.end_headers()
        return io.BytesIO(data[start:stop])

    def log_message(self, format: str, *args: object) -> None:
        return None


@contextmanager
def serve_objects(root: Path, slow: dict[str, float] | None = None
                  ) -> Iterator[tuple[str, list[tuple[str, str, str | None]]]]:
    """A real HTTP server on 127.0.0.1 over `root`, answering byte ranges like an object store;
    yields its base URL and the (method, path, Range header) of every request it gets. `slow`
    (file name: seconds, changeable while it runs) delays each GET of those files."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_ObjectHandler, directory=str(root)))
    server.daemon_threads = True
    server.requests = []  # type: ignore[attr-defined]
    server.slow = {} if slow is None else slow  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests  # type: ignore
    finally:
        server.shutdown()
        server.server_close()


def wget_warc(urls: list[str], base: Path, *, compress: bool = True) -> Path:
    """Fetch `urls` with `wget --warc-file`, returning the WARC it wrote."""
    wget = shutil.which("wget")
    assert wget, "wget is needed for this test (apt-get install wget)"
    cmd = [wget, "--quiet", "--tries=1", "--timeout=10", f"--warc-file={base}", "-O", "/dev/null"]
    if not compress:
        cmd.append("--no-warc-compression")
    subprocess.run([*cmd, *urls], check=True, cwd=base.parent)
    return base.with_name(base.name + (".warc.gz" if compress else ".warc"))


def warcio_check(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    """`warcio check -v` on files (the real CLI of the installed warcio)."""
    return subprocess.run(
        [str(BIN / "warcio"), "check", "-v", *map(str, paths)], capture_output=True, text=True
    )


def cdxj_indexer(paths: list[Path]) -> str:
    """What `cdxj-indexer --sort` prints for the files."""
    out = subprocess.run(
        [str(BIN / "cdxj-indexer"), "--sort", *map(str, paths)],
        capture_output=True, text=True, check=True,
    )
    return out.stdout


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (its path relative to it) with its bytes: two builds, exports
    or releases are the same when their trees are equal."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def store_state(root: Path) -> dict[str, bytes]:
    """Every visible file of a store (WARCs, index, manifest, log) with its bytes."""
    return {p.name: p.read_bytes() for p in sorted(root.iterdir()) if p.is_file()
            and not p.name.startswith(".")}


def write_warc(path: Path, records: list[dict], *, compress: bool = True) -> list[int]:
    """Write response records with warcio (dicts: url, date, body, [headers]); their offsets."""
    offsets = []
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=compress)
        for rec in records:
            offsets.append(fh.tell())
            headers = rec.get("headers", [("Content-Type", "text/html; charset=utf-8")])
            http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
            record = writer.create_warc_record(
                rec["url"], "response", payload=BytesIO(rec["body"]), http_headers=http,
                warc_headers_dict={"WARC-Date": rec["date"]},
            )
            writer.write_record(record)
    return offsets


def benchmark_store(base: Path, count: int = 4) -> Path:
    """A store of the first `count` benchmark pages, one WARC file, all captured on one day."""
    from warcpack.store.ingest import ingest

    write_warc(base / "a.warc.gz", [
        {"url": f"https://news.example.org/{name}", "date": "2024-05-01T08:00:00Z",
         "body": body} for name, body in sorted(benchmark_pages(count).items())])
    ingest([base / "a.warc.gz"], base / "store")
    return base / "store"


def two_file_store(base: Path) -> Path:
    """A store of two files: six benchmark pages, a 404, and a revisit of a page of the first
    file in the second (its row needs a record of another file)."""
    from warcpack.store.ingest import ingest

    pages = benchmark_pages(6)
    names = sorted(pages)
    write_warc(base / "a.warc.gz", [
        {"url": f"https://news.example.org/{n}", "date": f"2024-05-0{i + 1}T08:00:00Z",
         "body": pages[n]} for i, n in enumerate(names[:4])])
    with (base / "a.warc.gz").open("rb") as fh:
        first = next(iter(ArchiveIterator(fh))).rec_headers
    with (base / "b.warc.gz").open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_revisit_record(
            first.get_header("WARC-Target-URI"), first.get_header("WARC-Payload-Digest"),
            first.get_header("WARC-Target-URI"), first.get_header("WARC-Date"),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                          protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": "2024-06-02T08:00:00Z",
                               "WARC-Refers-To": first.get_header("WARC-Record-ID")}))
        for name in names[4:]:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                f"https://blog.example.net/{name}", "response", payload=BytesIO(pages[name]),
                http_headers=http, warc_headers_dict={"WARC-Date": "2024-06-01T08:00:00Z"}))
        gone = StatusAndHeaders("404 Not Found", [("Content-Type", "text/html")],
                                protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            "https://blog.example.net/gone", "response", payload=BytesIO(b"<p>gone</p>"),
            http_headers=gone, warc_headers_dict={"WARC-Date": "2024-06-01T08:00:00Z"}))
    ingest([base / "a.warc.gz", base / "b.warc.gz"], base / "store")
    return base / "store"
