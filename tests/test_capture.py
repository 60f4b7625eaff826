"""`warcpack capture` against a real HTTP server on 127.0.0.1, checked with warcio's own tools."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers import Page, TestServer, benchmark_pages, redirect
from warcio.archiveiterator import ArchiveIterator

from warcpack import __version__
from warcpack.store import Store
from warcpack.store.capture import CaptureError, capture
from warcpack.store.http_client import address_problem

BIN = Path(sys.executable).parent
HTML = benchmark_pages(3)


# --- helpers -----------------------------------------------------------------------------------


@dataclass
class Rec:
    offset: int
    type: str
    headers: dict[str, str]
    http_status: str | None
    content: bytes  # de-chunked and decoded by warcio


def read_warc(path: Path) -> list[Rec]:
    """Every record of a WARC file, read with warcio."""
    out = []
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        for record in it:
            content = record.content_stream().read()  # before the offset: that reads to the end
            out.append(Rec(
                offset=it.get_record_offset(),
                type=record.rec_type,
                headers=dict(record.rec_headers.headers),
                http_status=record.http_headers.get_statuscode() if record.http_headers else None,
                content=content,
            ))
    return out


def raw_block(path: Path, offset: int) -> bytes:
    """The block of the record at `offset`, cut out of its gzip member without warcio."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        data = b""
        while not inflater.eof:
            data += inflater.decompress(fh.read(65536))
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?im)^Content-Length: *(\d+)", head).group(1))
    assert rest[length:] == b"\r\n\r\n"
    return rest[:length]


def responses(path: Path, url_end: str) -> list[Rec]:
    return [r for r in read_warc(path) if r.type in ("response", "revisit")
            and r.headers["WARC-Target-URI"].endswith(url_end)]


def warcio_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([BIN / "warcio", "check", "-v", str(path)],
                          capture_output=True, text=True)


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def run(urls: list[str], store: Path, **options) -> object:
    options = {"allow_private": True, "delay": 0, "timeout": 10.0, **options}
    return capture(urls, store, **options)


def only_file(report, store: Path) -> Path:
    assert report.warc_file is not None
    return store / report.warc_file


@pytest.fixture
def server():
    with TestServer() as srv:
        yield srv


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "warcs"


# --- byte-exact archiving ----------------------------------------------------------------------


def test_chunked_gzip_page_is_archived_exactly_as_sent(server, store):
    server.pages["/article"] = Page(HTML[0], gzip=True, chunk_size=4096)
    report = run([server.url("/article")], store)

    assert [(o.outcome, o.status) for o in report.outcomes] == [("stored", 200)]
    path = only_file(report, store)
    records = read_warc(path)
    # warcinfo, then each exchange as response + request (robots.txt first: a 404 here)
    assert [r.type for r in records] == ["warcinfo", "response", "request", "response", "request"]
    info, _, _, resp, req = records
    assert b"software: warcpack/" + __version__.encode() in info.content
    assert b"robots: obey" in info.content

    sent = server.sent["/article"][0]
    assert raw_block(path, resp.offset) == sent
    assert resp.content == HTML[0]  # warcio undoes chunking and gzip from the stored bytes
    body_as_sent = sent.partition(b"\r\n\r\n")[2]
    assert resp.headers["WARC-Payload-Digest"] == sha1_b32(body_as_sent)
    assert resp.headers["WARC-Block-Digest"] == sha1_b32(sent)
    assert resp.headers["WARC-IP-Address"] == "127.0.0.1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", resp.headers["WARC-Date"])
    assert resp.headers["WARC-Target-URI"] == server.url("/article")
    assert resp.headers["WARC-Concurrent-To"] == req.headers["WARC-Record-ID"]
    assert req.headers["WARC-Concurrent-To"] == resp.headers["WARC-Record-ID"]

    request = raw_block(path, req.offset)
    assert request.startswith(b"GET /article HTTP/1.1\r\n")
    assert b"\r\nAccept-Encoding: gzip, deflate\r\n" in request
    agent = server.request_headers[-1]["User-Agent"]
    assert agent.startswith(f"warcpack/{__version__} (+")
    assert f"\r\nUser-Agent: {agent}\r\n".encode() in request

    check = warcio_check(path)
    assert check.returncode == 0, check.stdout
    assert check.stdout.count("digest pass") == 5
    indexed = subprocess.run([BIN / "cdxj-indexer", "--sort", path.name], cwd=store,
                             capture_output=True, text=True, check=True).stdout
    assert indexed == (store / "index.cdxj").read_text()
    assert '"status": "200"' in indexed


def test_headers_are_kept_as_written_and_close_delimited_body_read_to_the_end(server, store):
    raw = (b"HTTP/1.1 200 Fine\r\ncontent-type:text/html\r\nX-Folded: one\r\n  two\r\n"
           b"X-Padded:    spaced   \r\nConnection: close\r\n\r\n" + HTML[1])
    server.pages["/odd"] = Page(raw=raw)
    report = run([server.url("/odd")], store, respect_robots=False)

    path = only_file(report, store)
    (resp,) = responses(path, "/odd")
    assert raw_block(path, resp.offset) == raw
    assert resp.content == HTML[1]
    assert b"robots: ignore" in read_warc(path)[0].content
    assert server.hits == ["/odd"]
    assert warcio_check(path).returncode == 0


# --- revisits ----------------------------------------------------------------------------------


def test_unchanged_page_becomes_a_revisit_and_a_changed_one_a_response(server, store):
    server.pages["/a"] = Page(HTML[0], gzip=True)
    first = only_file(run([server.url("/a")], store), store)
    (original,) = responses(first, "/a")

    second = only_file(run([server.url("/a")], store), store)
    (revisit,) = responses(second, "/a")
    assert revisit.type == "revisit"
    h = revisit.headers
    assert h["WARC-Profile"] == "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    assert h["WARC-Refers-To"] == original.headers["WARC-Record-ID"]
    assert h["WARC-Refers-To-Target-URI"] == server.url("/a")
    assert h["WARC-Refers-To-Date"] == original.headers["WARC-Date"]
    assert h["WARC-Payload-Digest"] == original.headers["WARC-Payload-Digest"]
    head_only = server.sent["/a"][1].partition(b"\r\n\r\n")[0] + b"\r\n\r\n"
    assert raw_block(second, revisit.offset) == head_only  # no second copy of the body
    assert warcio_check(second).returncode == 0
    (read_back,) = [r for r in Store.open(store).iter_records([second.name])
                    if r.url == server.url("/a")]
    assert read_back.warc_type == "revisit" and read_back.body == HTML[0]
    assert read_back.refers_to.record_id == original.headers["WARC-Record-ID"]

    server.pages["/a"] = Page(HTML[0] + b"<!-- edited -->", gzip=True)
    third = only_file(run([server.url("/a")], store), store)
    (changed,) = responses(third, "/a")
    assert changed.type == "response"
    assert changed.content.endswith(b"<!-- edited -->")

    kinds = [e.record_type for e in Store.open(store).captures(server.url("/a"))]
    assert kinds == ["response", "revisit", "response"]


def test_same_url_twice_in_one_call_is_stored_once(server, store):
    server.pages["/b"] = Page(HTML[1])
    report = run([server.url("/b"), server.url("/b")], store)

    assert [o.outcome for o in report.outcomes] == ["stored", "revisit"]
    first, again = responses(only_file(report, store), "/b")
    assert again.headers["WARC-Refers-To"] == first.headers["WARC-Record-ID"]


def test_error_page_is_never_a_revisit_target(server, store):
    server.pages["/gone"] = Page(b"gone", status=410, reason="Gone")
    report = run([server.url("/gone"), server.url("/gone")], store)
    assert [o.outcome for o in report.outcomes] == ["stored", "stored"]


# --- robots.txt --------------------------------------------------------------------------------


def test_robots_disallow_is_obeyed_and_robots_txt_archived(server, store):
    server.pages["/robots.txt"] = Page(
        b"User-agent: *\nDisallow: /private/\n", headers=[("Content-Type", "text/plain")]
    )
    server.pages["/open"] = Page(HTML[0])
    server.pages["/private/page"] = Page(HTML[1])
    report = run([server.url("/open"), server.url("/private/page")], store)

    assert [(o.outcome, o.reason) for o in report.outcomes] == [
        ("stored", ""), ("skipped", "disallowed by robots.txt")
    ]
    assert server.hits == ["/robots.txt", "/open"]  # robots.txt once per host; never /private
    (robots,) = responses(only_file(report, store), "/robots.txt")
    assert robots.content == b"User-agent: *\nDisallow: /private/\n"
    assert report.failed == 0


def test_robots_rules_for_our_user_agent_apply(server, store):
    server.pages["/robots.txt"] = Page(b"User-agent: warcpack\nDisallow: /\n\nUser-agent: *\n"
                                       b"Allow: /\n")
    server.pages["/x"] = Page(HTML[0])
    report = run([server.url("/x")], store)
    assert report.outcomes[0].outcome == "skipped"
    assert server.hits == ["/robots.txt"]


@pytest.mark.parametrize(
    ("status", "outcome", "note"),
    [(404, "stored", "all allowed"), (503, "skipped", "disallow-all")],
)
def test_robots_status_decides_4xx_allow_5xx_disallow(server, store, status, outcome, note):
    server.pages["/robots.txt"] = Page(b"User-agent: *\nDisallow: /\n", status=status,
                                       reason="Whatever")
    server.pages["/x"] = Page(HTML[0])
    report = run([server.url("/x")], store)
    assert report.outcomes[0].outcome == outcome
    assert note in report.robots[server.url("/robots.txt")]


# --- address policy, redirects, limits, errors -------------------------------------------------


def test_private_address_is_refused_without_allow_private(server, store):
    server.pages["/a"] = Page(HTML[0])
    report = capture([server.url("/a")], store, delay=0)

    (outcome,) = report.outcomes
    assert outcome.outcome == "failed"
    assert "loopback address" in outcome.reason and "--allow-private" in outcome.reason
    assert server.hits == []
    assert report.warc_file is None and Store.open(store).warc_files() == []


@pytest.mark.parametrize("ip", ["10.1.2.3", "192.168.0.1", "169.254.169.254", "::1", "fe80::1",
                                "224.0.0.1", "0.0.0.0", "::ffff:127.0.0.1", "100.64.0.1"])
def test_non_public_addresses_are_named(ip):
    assert address_problem(ip) is not None


@pytest.mark.parametrize("ip", ["93.184.216.34", "2606:4700:4700::1111"])
def test_public_addresses_pass(ip):
    assert address_problem(ip) is None


def test_redirects_are_recorded_hop_by_hop(server, store):
    server.pages["/start"] = redirect("/middle", 301)
    server.pages["/middle"] = redirect(server.url("/end"), 307)
    server.pages["/end"] = Page(HTML[2])
    report = run([server.url("/start")], store)

    (outcome,) = report.outcomes
    assert (outcome.outcome, outcome.hops, outcome.final_url) == ("stored", 2, server.url("/end"))
    path = only_file(report, store)
    statuses = [(r.headers["WARC-Target-URI"].rsplit("/", 1)[1], r.http_status)
                for r in read_warc(path) if r.type == "response"]
    assert statuses == [("robots.txt", "404"), ("start", "301"), ("middle", "307"), ("end", "200")]
    assert [f.purpose for f in report.fetches] == ["robots", "redirect", "redirect", "page"]


def test_redirect_limit_and_robots_apply_to_every_hop(server, store):
    server.pages["/robots.txt"] = Page(b"User-agent: *\nDisallow: /secret\n")
    server.pages["/one"] = redirect("/two")
    server.pages["/two"] = redirect("/three")
    server.pages["/to-secret"] = redirect("/secret")
    report = run([server.url("/one"), server.url("/to-secret")], store, max_redirects=1)

    too_many, disallowed = report.outcomes
    assert (too_many.outcome, too_many.reason, too_many.hops) == (
        "failed", "more than 1 redirects", 1)
    assert (disallowed.outcome, disallowed.reason) == ("skipped", "disallowed by robots.txt")
    assert server.hits == ["/robots.txt", "/one", "/two", "/to-secret"]


def test_size_cap_stores_a_truncated_record(server, store):
    server.pages["/big"] = Page(HTML[0])
    server.pages["/fits"] = Page(HTML[1][:10_000])
    report = run([server.url("/big"), server.url("/fits")], store, max_size=10_000,
                 respect_robots=False)

    big, fits = report.outcomes
    assert (big.outcome, big.reason) == ("truncated", "body cut short (length)")
    assert fits.outcome == "stored"
    assert report.failed == 1
    path = only_file(report, store)
    (resp,) = responses(path, "/big")
    assert resp.headers["WARC-Truncated"] == "length"
    head, _, body = server.pages["/big"].wire_bytes().partition(b"\r\n\r\n")
    assert raw_block(path, resp.offset) == head + b"\r\n\r\n" + body[:10_000]
    assert "WARC-Truncated" not in responses(path, "/fits")[0].headers
    assert warcio_check(path).returncode == 0


def test_read_timeout_keeps_what_arrived(server, store):
    server.pages["/slow"] = Page(HTML[0], stall=threading.Event())
    report = run([server.url("/slow")], store, timeout=0.5, respect_robots=False)

    assert report.outcomes[0].reason == "body cut short (time)"
    (resp,) = responses(only_file(report, store), "/slow")
    assert resp.headers["WARC-Truncated"] == "time"


def test_bad_urls_and_network_errors_are_outcomes_and_other_urls_go_on(server, store):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    server.pages["/ok"] = Page(HTML[0])
    server.pages["/garbage"] = Page(raw=b"SSH-2.0-OpenSSH\r\n\r\n")
    report = run(["ftp://example.org/x", f"http://127.0.0.1:{closed}/", server.url("/garbage"),
                  "http://no-such-host.invalid/", server.url("/ok")], store, respect_robots=False)

    assert [o.outcome for o in report.outcomes] == ["failed"] * 4 + ["stored"]
    reasons = [o.reason for o in report.outcomes]
    assert "unsupported URL scheme 'ftp'" in reasons[0]
    assert reasons[1].startswith(f"cannot connect to 127.0.0.1:{closed}")
    assert "did not answer with HTTP/1.x" in reasons[2]
    assert "cannot resolve host 'no-such-host.invalid'" in reasons[3]


def test_whole_call_problems_raise_capture_error(tmp_path):
    with pytest.raises(CaptureError, match="no URLs"):
        capture([], tmp_path / "s")
    (tmp_path / "file").write_text("x")
    with pytest.raises(CaptureError, match="not a folder"):
        capture(["http://127.0.0.1/"], tmp_path / "file")
    foreign = tmp_path / "crawl"
    foreign.mkdir()
    (foreign / "other.warc.gz").write_bytes(b"")
    with pytest.raises(CaptureError, match="not a warcpack store"):
        capture(["http://127.0.0.1/"], foreign)
    assert sorted(p.name for p in foreign.iterdir()) == ["other.warc.gz"]


# --- https -------------------------------------------------------------------------------------


@pytest.fixture
def tls_server(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    with TestServer(tls=context) as srv:
        srv.sni_names = names
        srv.cert = cert
        yield srv


def test_https_verifies_the_certificate_and_sends_sni(tls_server, store, monkeypatch):
    tls_server.pages["/s"] = Page(HTML[0], chunk_size=1000)
    url = tls_server.url("/s", host="localhost")

    untrusted = run([url], store, respect_robots=False)
    assert untrusted.outcomes[0].outcome == "failed"
    assert "certificate of localhost not trusted" in untrusted.outcomes[0].reason

    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.cert))
    trusted = run([url], store, respect_robots=False)
    assert trusted.outcomes[0].outcome == "stored"
    assert tls_server.sni_names[-1] == "localhost"
    path = only_file(trusted, store)
    (resp,) = responses(path, "/s")
    assert raw_block(path, resp.offset) == tls_server.sent["/s"][0]
    assert resp.headers["WARC-Target-URI"].startswith("https://localhost:")


# --- the command line and crashes --------------------------------------------------------------


def cli(store: Path, *urls: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [BIN / "warcpack", "capture", "--store", str(store), "--allow-private", "--delay", "0",
         *urls],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )


def assert_store_sound(store: Path) -> list[str]:
    """The store opens, verifies clean, and every file passes `warcio check`."""
    from warcpack.store.verify import verify

    opened = Store.open(store)
    report = verify(store)
    assert report.ok, report
    assert not any((store / ".staging").iterdir())
    assert not (store / ".txn").exists()
    for name in opened.warc_files():
        assert warcio_check(store / name).returncode == 0
    return opened.warc_files()


def test_cli_exit_status_follows_the_outcomes(server, store):
    server.pages["/a"] = Page(HTML[0])
    ok = cli(store, server.url("/a"))
    _, err = ok.communicate(timeout=60)
    assert ok.returncode == 0, err
    assert "stored" in err

    bad = cli(store, server.url("/a"), "ftp://example.org/")
    _, err = bad.communicate(timeout=60)
    assert bad.returncode == 1
    assert "unsupported URL scheme" in err


def test_sigkill_while_fetching_leaves_the_store_as_it_was(server, store):
    server.pages["/a"] = Page(HTML[0])
    server.pages["/hang"] = Page(HTML[1], hold=threading.Event())
    before = run([server.url("/a")], store).warc_file

    proc = cli(store, server.url("/a"), server.url("/hang"))
    deadline = time.monotonic() + 60
    while server.hit_count("/hang") == 0:  # the new file is half written now
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    server.pages["/hang"].hold.set()

    assert assert_store_sound(store) == [before]


@pytest.mark.parametrize(("step", "committed"),
                         [("staged", False), ("journal", True), ("rename", True)])
def test_sigkill_during_commit_leaves_old_or_new_state(server, store, step, committed):
    server.pages["/a"] = Page(HTML[0])
    server.pages["/b"] = Page(HTML[1])
    before = run([server.url("/a")], store).warc_file

    proc = cli(store, server.url("/b"), env={"WARCPACK_TEST_CRASH_AT": step})
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    files = assert_store_sound(store)
    assert (len(files) == 2) is committed and before in files
    urls = [e.url for e in Store.open(store).index_entries()]
    assert (server.url("/b") in urls) is committed
