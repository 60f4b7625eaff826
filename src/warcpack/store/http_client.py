"""A small HTTP/1.1 GET client that keeps every byte the server sent.

An archive must hold the response exactly as it came over the wire: status line, headers as
written, body still chunked and still gzip-compressed. Standard clients decode all of that away,
so this one parses only enough to know where the response ends and copies the raw stream aside.

It also resolves the host itself and connects to an address it has checked, so a host name cannot
pass the private-address check with one answer and connect with another (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import tempfile
from dataclasses import dataclass
from io import BytesIO
from typing import BinaryIO
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

from warcio.bufferedreaders import BufferedReader, ChunkedDataReader
from warcio.statusandheaders import (
    StatusAndHeaders,
    StatusAndHeadersParser,
    StatusAndHeadersParserException,
)

from warcpack import __version__

DEFAULT_USER_AGENT = f"warcpack/{__version__} (+https://example.invalid/set-a-contact-url)"
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

MAX_HEAD_BYTES = 64 * 1024  # status line + headers; larger heads are refused
MAX_HEADERS = 100  # same cap as http.client
MAX_LINE = 8 * 1024  # a chunk-size or trailer line
MAX_INTERIM = 10  # 1xx responses before the final one
READ_SIZE = 64 * 1024
SPOOL_SIZE = 1024 * 1024  # bodies above this go to a temp file instead of memory

_HTTP_PARSER = StatusAndHeadersParser(["HTTP/1.0", "HTTP/1.1"])
_REQUEST_PARSER = StatusAndHeadersParser(["GET"])


class FetchError(Exception):
    """This URL could not be fetched; the message says why, in words for the user."""


class AddressRefused(FetchError):
    """The host resolves to an address we are told not to connect to."""


@dataclass
class Response:
    """One HTTP exchange as it happened: the exact bytes both ways, and the few facts we parsed.

    `head` and `body` together are exactly what the server wrote, except interim 1xx responses
    (e.g. 103 Early Hints), which carry no page and are passed over so readers see the final
    status; `body` is still transfer- and content-encoded. `truncated` is the WARC-Truncated reason
    ("length", "time", "disconnect") when the body was not read to its end.
    """

    url: str
    ip: str
    request: bytes
    request_headers: StatusAndHeaders
    head: bytes
    headers: StatusAndHeaders
    body: BinaryIO
    body_length: int
    truncated: str | None = None

    @property
    def status(self) -> int:
        return int(self.headers.get_statuscode())

    def header(self, name: str) -> str | None:
        return self.headers.get_header(name)

    def decoded_body(self, limit: int) -> bytes:
        """Up to `limit` bytes of the body with chunking and gzip/deflate removed."""
        self.body.seek(0)
        encoding = (self.header("content-encoding") or "").strip().lower()
        if encoding not in BufferedReader.get_supported_decompressors():
            encoding = None
        if _is_chunked(self.headers):
            reader = ChunkedDataReader(self.body, decomp_type=encoding)
        elif encoding:
            reader = BufferedReader(self.body, decomp_type=encoding)
        else:
            reader = self.body
        try:
            return reader.read(limit)
        finally:
            self.body.seek(0)

    def close(self) -> None:
        self.body.close()


# --- addresses ---------------------------------------------------------------------------------


def address_problem(ip: str) -> str | None:
    """Why this address is not a public one we may connect to by default, or None if it is."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    for kind, flag in (
        ("an unspecified", addr.is_unspecified),
        ("a loopback", addr.is_loopback),
        ("a link-local", addr.is_link_local),
        ("a multicast", addr.is_multicast),
        ("a private", addr.is_private),
        ("a reserved", addr.is_reserved),
    ):
        if flag:
            return f"{kind} address"
    if not addr.is_global:
        return "a non-public address"
    return None


def resolve(host: str, port: int, *, allow_private: bool) -> list[tuple]:
    """getaddrinfo answers for host:port we may connect to; AddressRefused if none is allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc}") from None
    if allow_private:
        return infos
    allowed = [info for info in infos if address_problem(info[4][0]) is None]
    if not allowed:
        ip = infos[0][4][0]
        where = f"{host} is" if ip == host else f"{host} resolves to {ip},"
        raise AddressRefused(
            f"refused: {where} {address_problem(ip)} "
            "(allow_private=True / --allow-private captures it)"
        )
    return allowed


# --- requests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A URL split into what the connection and the request line need."""

    url: str  # as archived: fragment dropped, non-ASCII percent-encoded
    scheme: str
    host: str  # IDNA/ASCII form, no brackets
    port: int
    host_header: str
    path: str  # request target: path and query


def parse_target(url: str) -> Target:
    """Check and normalise a URL for fetching; FetchError says what is wrong with it."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise FetchError(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = parts.scheme or "(none)"
        raise FetchError(f"unsupported URL scheme {shown!r}: only http and https are captured")
    if not parts.hostname:
        raise FetchError("URL has no host")
    if parts.username is not None or parts.password is not None:
        raise FetchError("URLs with credentials (user:password@) are not captured")
    host = parts.hostname
    try:
        if not _is_ip(host):
            host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise FetchError(f"invalid host name {parts.hostname!r}: {exc}") from None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    clean = SplitResult(
        scheme, netloc, _ascii(parts.path) or "/", _ascii(parts.query), ""
    )
    path = clean.path + (f"?{clean.query}" if clean.query else "")
    return Target(
        url=urlunsplit(clean),
        scheme=scheme,
        host=host,
        port=port if port is not None else (443 if scheme == "https" else 80),
        host_header=netloc,
        path=path,
    )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _ascii(part: str) -> str:
    """Percent-encode what cannot go on a request line, leave existing escapes alone."""
    return quote(part, safe="/?&=;:@!$'()*+,~%#[]-._")


def build_request(target: Target, user_agent: str) -> bytes:
    """The exact GET we send (and archive as the request record)."""
    lines = [
        f"GET {target.path} HTTP/1.1",
        f"Host: {target.host_header}",
        f"User-Agent: {user_agent}",
        f"Accept: {ACCEPT}",
        "Accept-Encoding: gzip, deflate",
        "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


# --- the client --------------------------------------------------------------------------------


@dataclass
class HttpClient:
    """Fetches one URL per call over a fresh connection (Connection: close)."""

    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = 30.0
    max_size: int = 50_000_000
    allow_private: bool = False

    def get(self, url: str) -> Response:
        """GET `url`; FetchError if no usable response head arrived.

        A body cut short (size cap, timeout, dropped connection) still returns, with
        `truncated` set: the bytes received are part of the record.
        """
        target = parse_target(url)
        infos = resolve(target.host, target.port, allow_private=self.allow_private)
        sock = self._connect(target, infos)
        try:
            ip = sock.getpeername()[0]
            request = build_request(target, self.user_agent)
            sock.sendall(request)
            with sock.makefile("rb") as reader:
                return self._read_response(target, ip, request, reader)
        except OSError as exc:  # the body's own errors are handled inside: this is before it
            raise FetchError(f"talking to {target.host} failed: {_describe(exc)}") from None
        finally:
            sock.close()

    def _connect(self, target: Target, infos: list[tuple]) -> socket.socket:
        errors = []
        for family, socktype, proto, _name, sockaddr in infos:
            sock = socket.socket(family, socktype, proto)
            sock.settimeout(self.timeout)
            try:
                sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                errors.append(f"{sockaddr[0]}: {_describe(exc)}")
                continue
            if target.scheme == "https":
                return self._tls(sock, target)
            return sock
        raise FetchError(f"cannot connect to {target.host}:{target.port}: " + "; ".join(errors))

    def _tls(self, sock: socket.socket, target: Target) -> socket.socket:
        context = ssl.create_default_context()  # verifies the chain and the host name
        try:
            return context.wrap_socket(sock, server_hostname=target.host)
        except ssl.SSLCertVerificationError as exc:
            sock.close()
            raise FetchError(
                f"TLS certificate of {target.host} not trusted: {exc.verify_message}"
            ) from None
        except (ssl.SSLError, OSError) as exc:
            sock.close()
            raise FetchError(f"TLS handshake with {target.host} failed: {_describe(exc)}") from None

    def _read_response(
        self, target: Target, ip: str, request: bytes, reader: BinaryIO
    ) -> Response:
        for _ in range(MAX_INTERIM + 1):
            head = _read_head(reader, target.host)
            headers = _parse_head(head, target.host)
            code = _status_code(headers, target.host)
            if not 100 <= code < 200:
                break
        else:
            raise FetchError(f"{target.host} sent more than {MAX_INTERIM} interim 1xx responses")
        body = tempfile.SpooledTemporaryFile(max_size=SPOOL_SIZE)
        sink = _Sink(body, self.max_size)
        truncated = None
        try:
            _read_body(reader, headers, code, sink)
        except _Truncated as exc:
            truncated = exc.reason
        except TimeoutError:
            truncated = "time"
        except OSError:
            truncated = "disconnect"
        body.seek(0)
        return Response(
            url=target.url,
            ip=ip,
            request=request,
            request_headers=_REQUEST_PARSER.parse(BytesIO(request)),
            head=head,
            headers=headers,
            body=body,
            body_length=sink.written,
            truncated=truncated,
        )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


# --- reading a response ------------------------------------------------------------------------


def _read_head(reader: BinaryIO, host: str) -> bytes:
    """Status line and header lines up to and including the blank line, as received."""
    head = bytearray()
    lines = 0
    try:
        while True:
            line = reader.readline(MAX_HEAD_BYTES + 1 - len(head))
            if not line:
                if not head:
                    raise FetchError(f"{host} closed the connection without a response")
                raise FetchError(f"{host} closed the connection inside the response headers")
            head += line
            if line in (b"\r\n", b"\n"):
                return bytes(head)
            lines += 1
            if len(head) > MAX_HEAD_BYTES:
                raise FetchError(f"{host} sent response headers over {MAX_HEAD_BYTES} bytes")
            if lines > MAX_HEADERS + 1:
                raise FetchError(f"{host} sent more than {MAX_HEADERS} response headers")
    except TimeoutError:
        raise FetchError(f"timed out waiting for the response from {host}") from None
    except OSError as exc:
        raise FetchError(f"reading the response from {host} failed: {_describe(exc)}") from None


def _parse_head(head: bytes, host: str) -> StatusAndHeaders:
    # warcio's parser: what we decide from the headers is what WARC readers will see in them
    try:
        return _HTTP_PARSER.parse(BytesIO(head))
    except (StatusAndHeadersParserException, EOFError):
        line = head.split(b"\n", 1)[0][:80]
        raise FetchError(f"{host} did not answer with HTTP/1.x: {line!r}") from None


def _status_code(headers: StatusAndHeaders, host: str) -> int:
    code = headers.get_statuscode()
    if not (len(code) == 3 and code.isdigit()):
        raise FetchError(f"{host} sent a malformed status line: {headers.statusline!r}")
    return int(code)


def _is_chunked(headers: StatusAndHeaders) -> bool:
    te = headers.get_header("transfer-encoding")
    return bool(te) and te.split(",")[-1].strip().lower() == "chunked"


class _Truncated(Exception):
    def __init__(self, reason: str):
        self.reason = reason


class _Sink:
    """Where the raw body goes: counts bytes and stops at the size cap."""

    def __init__(self, out: BinaryIO, cap: int):
        self.out = out
        self.cap = cap
        self.written = 0

    def room(self) -> int:
        return self.cap - self.written

    def write(self, data: bytes) -> None:
        self.out.write(data)
        self.written += len(data)


def _read_body(reader: BinaryIO, headers: StatusAndHeaders, code: int, sink: _Sink) -> None:
    """Copy the body, framed as RFC 9112 section 6.3 says, raw into `sink`."""
    if code in (204, 304):
        return
    if headers.get_header("transfer-encoding") is not None:
        if _is_chunked(headers):
            _read_chunked(reader, sink)
        else:
            _read_to_close(reader, sink)
        return
    length = _content_length(headers)
    if length is None:
        _read_to_close(reader, sink)
    else:
        _read_exact(reader, length, sink)


def _content_length(headers: StatusAndHeaders) -> int | None:
    values = {
        v.strip() for name, value in headers.headers if name.lower() == "content-length"
        for v in value.split(",")
    }
    if len(values) != 1:
        return None
    value = values.pop()
    return int(value) if value.isdigit() else None


def _read_exact(reader: BinaryIO, length: int, sink: _Sink) -> None:
    while length > 0:
        if sink.room() <= 0:
            raise _Truncated("length")
        data = reader.read(min(length, READ_SIZE, sink.room()))
        if not data:
            raise _Truncated("disconnect")
        sink.write(data)
        length -= len(data)


def _read_to_close(reader: BinaryIO, sink: _Sink) -> None:
    while True:
        if sink.room() <= 0:
            if reader.read(1):  # one byte past the cap tells a cut from an exact fit
                raise _Truncated("length")
            return
        data = reader.read1(min(READ_SIZE, sink.room()))
        if not data:
            return
        sink.write(data)


def _read_line(reader: BinaryIO, sink: _Sink) -> bytes:
    if sink.room() <= 0:
        raise _Truncated("length")
    line = reader.readline(min(MAX_LINE, sink.room()))
    sink.write(line)
    if not line:
        raise _Truncated("disconnect")
    if not line.endswith(b"\n"):
        if sink.room() <= 0:
            raise _Truncated("length")
        if len(line) < MAX_LINE:
            raise _Truncated("disconnect")
    return line


def _read_chunked(reader: BinaryIO, sink: _Sink) -> None:
    while True:
        line = _read_line(reader, sink)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            # not chunked after all (a server bug seen in the wild): keep the rest as sent
            _read_to_close(reader, sink)
            return
        if size == 0:
            while _read_line(reader, sink).strip():  # trailer fields, then the final CRLF
                pass
            return
        _read_exact(reader, size, sink)
        _read_line(reader, sink)  # CRLF after the chunk data
