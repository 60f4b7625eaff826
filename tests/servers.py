"""A real HTTP server on 127.0.0.1 whose answers a test controls, byte for byte.

Each page is written by hand (status line, headers, chunked framing, gzip) so a test knows the
exact bytes that went over the socket; the server keeps a copy of every response it wrote.
"""

from __future__ import annotations

import gzip
import ssl
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
ARTICLE_HTML = SHARED / "benchmark" / "article-extraction" / "html"


def benchmark_pages(count: int) -> list[bytes]:
    """The first `count` article-extraction benchmark pages (sorted by name), gunzipped."""
    paths = sorted(ARTICLE_HTML.glob("*.html.gz"))[:count]
    return [gzip.decompress(p.read_bytes()) for p in paths]


@dataclass
class Page:
    """What the server answers for one path."""

    body: bytes = b""
    status: int = 200
    reason: str = "OK"
    headers: list[tuple[str, str]] = field(
        default_factory=lambda: [("Content-Type", "text/html; charset=utf-8")]
    )
    gzip: bool = False  # Content-Encoding: gzip
    chunk_size: int = 0  # > 0: Transfer-Encoding: chunked in chunks of this size
    raw: bytes | None = None  # send exactly these bytes instead of building a response
    hold: threading.Event | None = None  # wait for this event before answering
    stall: threading.Event | None = None  # send the first half, then wait for this event

    def wire_bytes(self) -> bytes:
        """The full response as it goes on the socket."""
        if self.raw is not None:
            return self.raw
        body = gzip.compress(self.body, mtime=0) if self.gzip else self.body
        headers = list(self.headers)
        if self.gzip:
            headers.append(("Content-Encoding", "gzip"))
        if self.chunk_size:
            headers.append(("Transfer-Encoding", "chunked"))
            framed = b"".join(
                b"%x\r\n%s\r\n" % (len(body[i:i + self.chunk_size]), body[i:i + self.chunk_size])
                for i in range(0, len(body), self.chunk_size)
            ) + b"0\r\n\r\n"
        else:
            headers.append(("Content-Length", str(len(body))))
            framed = body
        headers.append(("Connection", "close"))
        head = f"HTTP/1.1 {self.status} {self.reason}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers
        )
        return head.encode("latin-1") + b"\r\n" + framed


def redirect(location: str, status: int = 302) -> Page:
    reasons = {301: "Moved Permanently", 302: "Found", 303: "See Other",
               307: "Temporary Redirect", 308: "Permanent Redirect"}
    return Page(status=status, reason=reasons[status], headers=[("Location", location)])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: TestServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        server = self.server
        with server.lock:
            server.hits.append(self.path)
            server.request_headers.append(dict(self.headers.items()))
            page = server.pages.get(self.path) or Page(
                b"not found\n", 404, "Not Found", [("Content-Type", "text/plain")]
            )
        if page.hold is not None:
            page.hold.wait()
        data = page.wire_bytes()
        parts = [data]
        if page.stall is not None:
            parts = [data[: len(data) // 2], data[len(data) // 2:]]
        written = b""
        try:
            for number, part in enumerate(parts):
                if number:
                    page.stall.wait()
                self.wfile.write(part)
                self.wfile.flush()
                written += part
        except OSError:
            pass  # the client went away (size cap, timeout): nothing more to answer
        with server.lock:
            server.sent[self.path].append(written)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        return None


class TestServer(ThreadingHTTPServer):
    """`with TestServer() as server: server.pages["/a"] = Page(...); server.url("/a")`."""

    daemon_threads = True
    __test__ = False  # not a pytest test class

    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        super().__init__((host, 0), _Handler)
        self.tls = tls
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.pages: dict[str, Page] = {}
        self.hits: list[str] = []  # request paths, in arrival order
        self.request_headers: list[dict[str, str]] = []
        self.sent: dict[str, list[bytes]] = defaultdict(list)  # path -> responses written
        self.lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str, host: str | None = None) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host or self.server_address[0]}:{self.port}{path}"

    def hit_count(self, path: str) -> int:
        with self.lock:
            return self.hits.count(path)

    def __enter__(self) -> TestServer:
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for page in self.pages.values():  # release anything a test left waiting
            for event in (page.hold, page.stall):
                if event is not None:
                    event.set()
        self.shutdown()
        self.server_close()
