"""From a record's stored payload to the body a browser would see: de-chunk, then content-decode.

Streaming and bounded: output past `max_body` stops the read. A Content-Encoding the payload does
not actually have (servers do lie) is treated as absent, like browsers and warcio do; corrupt data
part-way through a stream is an error rather than a silently shortened body.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

from warcio.bufferedreaders import ChunkedDataReader

try:  # optional, like in warcio
    import brotli  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the environment
    brotli = None

_CHUNK = 1 << 16


class TooLarge(Exception):
    """The decoded body is over the limit."""


class Undecodable(Exception):
    """The body cannot be decoded (corrupt data, unsupported encoding)."""


class _Stage:
    """One content decoder, fed compressed chunks, giving decoded ones."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.encoding = encoding
        self.limit = limit
        self.started = False  # produced output or accepted input without error
        self.identity = False
        self._tried_raw = False
        self._d: Any = self._new()

    def _new(self, raw_deflate: bool = False) -> Any:
        if self.encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self.encoding == "deflate":
            return zlib.decompressobj(-zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)
        if self.encoding == "br" and brotli is not None:
            return brotli.Decompressor()
        hint = " (install the brotli package)" if self.encoding == "br" else ""
        raise Undecodable(f"Content-Encoding {self.encoding!r} is not supported{hint}")

    def feed(self, data: bytes) -> bytes:
        if self.identity or not data:
            return data
        try:
            out = self._decompress(data)
        except TooLarge:
            raise
        except Exception as exc:  # zlib.error, brotli.error
            if self.started:
                raise Undecodable(f"Content-Encoding {self.encoding}: {exc}") from exc
            if self.encoding == "deflate" and not self._tried_raw:
                self._tried_raw = True
                self._d = self._new(raw_deflate=True)
                return self.feed(data)
            self.identity = True  # the payload was not encoded after all
            return data
        self.started = True
        return out

    def _decompress(self, data: bytes) -> bytes:
        if self.encoding == "br":
            return self._brotli(data)
        out = self._d.decompress(data, self.limit + 1)
        if self._d.unconsumed_tail:
            raise TooLarge
        if self._d.eof and self._d.unused_data:
            rest = self._d.unused_data
            if self.encoding in ("gzip", "x-gzip") and rest[:2] == b"\x1f\x8b":
                self._d = self._new()  # concatenated gzip members
                out += self._decompress(rest)
        return out


    def _brotli(self, data: bytes) -> bytes:
        """Brotli can expand a few bytes into gigabytes: its output is bounded per call."""
        try:
            out = self._d.process(data, output_buffer_limit=self.limit + 1)
        except TypeError:  # a brotli without output limits: feed it small pieces instead
            out = b"".join(self._d.process(data[i : i + 256]) for i in range(0, len(data), 256))
        if len(out) > self.limit or not self._d.can_accept_more_data():
            raise TooLarge
        return out


def body_stream(record: Any) -> tuple[Any, list[str]]:
    """The payload stream (de-chunked) and the content encodings to undo, outermost last."""
    http = record.http_headers
    if record.rec_type == "resource" or http is None:
        return record.raw_stream, []
    stream = record.raw_stream
    if "chunked" in (http.get_header("transfer-encoding") or "").lower():
        stream = ChunkedDataReader(stream)
    encodings = [
        part.strip().lower()
        for part in (http.get_header("content-encoding") or "").split(",")
        if part.strip() and part.strip().lower() != "identity"
    ]
    return stream, encodings


def read_body(record: Any, max_body: int) -> bytes:
    """The decoded body, read in chunks; TooLarge past `max_body`, Undecodable on bad data."""
    stream, encodings = body_stream(record)
    stages = [_Stage(enc, max_body) for enc in reversed(encodings)]
    parts: list[bytes] = []
    size = 0
    read: Callable[[int], bytes] = stream.read
    while True:
        chunk = read(_CHUNK)
        if not chunk:
            break
        for stage in stages:
            chunk = stage.feed(chunk)
        size += len(chunk)
        if size > max_body:
            raise TooLarge
        parts.append(chunk)
    return b"".join(parts)
