"""Walk the records of one WARC/ARC file with exact offsets, noticing damage and moving past it.

warcio parses each record; this module decides where records start and end. Gzip files are read
one member at a time with our own decompressor, because warcio prints and swallows errors in
the middle of a member (a corrupt member would pass unnoticed); uncompressed files go through
warcio's ArchiveIterator. On damage the scanner reports the offset and resynchronises on the next
gzip member header (or `WARC/1.x` line), so the good records after a bad one still come through.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader

GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_STARTS = (b"WARC/1.0\r\n", b"WARC/1.1\r\n")
_CHUNK = 1 << 16
_OUT_MAX = 1 << 20  # bound on decompressed bytes per step (a zip bomb stays small in memory)
_NO_BLANK_LINE = "record not followed by a blank line (wrong Content-Length?)"


class DamagedData(Exception):
    """The bytes of a record cannot be read as they should (corrupt or truncated)."""


@dataclass(frozen=True)
class Damage:
    """A stretch of the file that holds no readable record, starting at `offset`."""

    offset: int
    reason: str


def describe(exc: BaseException) -> str:
    """A one-line reason from any parsing exception."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, DamagedData):
        return text
    return f"{type(exc).__name__}: {text}"[:300]


class GzipMember:
    """A read-only stream of one gzip member's decompressed bytes, starting at a file offset.

    Raises DamagedData on corrupt data, a bad CRC, or a file that ends inside the member.
    After the member is read to its end, `end` is the file offset just past it.
    """

    def __init__(self, fh: IO[bytes], start: int) -> None:
        self._fh = fh
        self._next = start  # file offset of the next compressed byte to read
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._buf = b""  # decompressed, not yet handed out from self._off on
        self._off = 0
        self._pos = 0  # decompressed bytes handed out
        self.end: int | None = None

    def _fill(self) -> None:
        data = self._d.unconsumed_tail
        if not data:
            self._fh.seek(self._next)
            data = self._fh.read(_CHUNK)
            if not data:
                raise DamagedData(f"gzip member cut short: the file ends at byte {self._next}")
            self._next += len(data)
        try:
            out = self._d.decompress(data, _OUT_MAX)
        except zlib.error as exc:
            raise DamagedData(f"corrupt gzip data ({exc})") from exc
        if self._d.eof:
            self.end = self._next - len(self._d.unused_data)
        self._buf = self._buf[self._off :] + out
        self._off = 0

    def _available(self) -> int:
        return len(self._buf) - self._off

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            while self.end is None:
                self._fill()
            size = self._available()
        while self._available() < size and self.end is None:
            self._fill()
        out = self._buf[self._off : self._off + size]
        self._off += len(out)
        self._pos += len(out)
        return out

    def tell(self) -> int:
        return self._pos


class _Guard:
    """Wraps a record's raw stream: a read error ends the stream and is noted on the slot."""

    def __init__(self, stream: Any, slot: Slot) -> None:
        self.stream = stream
        self.slot = slot

    def read(self, size: int | None = None) -> bytes:
        if self.slot.broken:
            return b""
        try:
            return self.stream.read(size)
        except Exception as exc:
            self.slot._fail(describe(exc))
            return b""

    def readline(self, size: int | None = None) -> bytes:
        if self.slot.broken:
            return b""
        try:
            return self.stream.readline(size)
        except Exception as exc:
            self.slot._fail(describe(exc))
            return b""

    def tell(self) -> int:
        return self.stream.tell()

    def close(self) -> None:
        pass


@dataclass(eq=False)
class Slot:
    """A record the scanner stopped at. Read `record` (warcio), then call `finish()`.

    After finish(): `length` (bytes in the file), `problems` (empty when the record is sound)
    and `broken` (the stream could not be read to the record's end).
    """

    path: Path
    offset: int
    record: Any  # warcio ArcWarcRecord
    gzipped: bool
    check_digests: bool
    length: int = 0
    problems: list[str] = field(default_factory=list)
    broken: bool = False
    finished: bool = False
    _iterator: Any = None
    _member: GzipMember | None = None

    def _fail(self, reason: str) -> None:
        self.broken = True
        self.problems.append(reason)

    @property
    def rec_type(self) -> str:
        return self.record.rec_type

    def header(self, name: str) -> str | None:
        return self.record.rec_headers.get_header(name)

    def finish(self) -> list[str]:
        """Read the rest of the record, check its length and digests; returns the problems."""
        if self.finished:
            return self.problems
        self.finished = True
        record = self.record
        raw = record.raw_stream
        with _quiet():
            while raw.read(_CHUNK):
                pass
        inner = raw.stream if isinstance(raw, _Guard) else raw
        missing = getattr(inner, "limit", 0)
        if record.length is None and record.format != "arc":
            self._fail("no Content-Length header")
        elif missing and not self.broken:
            self._fail(f"record cut short: {missing} of its {record.length} bytes are missing")
        if self.check_digests and not self.broken:
            self._check_digests()
        if self.gzipped:
            self._finish_member()
        else:
            self._finish_plain()
        return self.problems

    def _check_digests(self) -> None:
        checker = self.record.digest_checker
        if checker is None or checker.passed is not False:
            return
        problems = [str(p) for p in checker.problems]
        only_payload = all(p.startswith("payload digest failed") for p in problems)
        http = self.record.http_headers
        chunked = http is not None and (http.get_header("transfer-encoding") or "").lower() == (
            "chunked"
        )
        if only_payload and chunked and _dechunked_digest_matches(self):
            return  # the payload digest was taken over the de-chunked body: also accepted
        self.problems.extend(problems)

    def _finish_member(self) -> None:
        member = self._member
        assert member is not None
        if not self.broken:
            try:
                before = self._iterator.err_count
                with _quiet():
                    extra = next(self._iterator, None)
                if self._iterator.err_count > before:
                    self.problems.append(_NO_BLANK_LINE)
                if extra is not None:
                    self._fail(
                        "gzip member holds more than one record (the file is not gzipped per "
                        "record; `warcio recompress` makes it so)"
                    )
                while member.read(_CHUNK):
                    pass
            except Exception as exc:
                self._fail(describe(exc))
        self.length = (member.end - self.offset) if member.end is not None else 0

    def _finish_plain(self) -> None:
        it = self._iterator
        before = it.err_count
        try:
            with _quiet():
                self.length = it.get_record_length()
        except Exception as exc:
            self._fail(describe(exc))
            return
        if it.err_count > before:
            self.problems.append(_NO_BLANK_LINE)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """warcio prints warnings to stderr; we report them ourselves, with offsets."""
    with contextlib.redirect_stderr(io.StringIO()):
        yield


def _digest_bytes(value: str, size: int) -> bytes | None:
    """Decode a digest value written in base32, base16 or base64 (WARC allows any)."""
    for decode in (
        lambda v: base64.b32decode(v, casefold=True),
        lambda v: base64.b16decode(v, casefold=True),
        lambda v: base64.b64decode(v, validate=True),
        lambda v: base64.urlsafe_b64decode(v),
    ):
        try:
            raw = decode(value)
        except (ValueError, TypeError):
            continue
        if len(raw) == size:
            return raw
    return None


def digest_matches(expected: str, data_digest: Any) -> bool:
    """True if a WARC digest header value ("sha1:BASE32") equals a hashlib object's digest."""
    _, _, value = expected.partition(":")
    raw = _digest_bytes(value.strip(), data_digest.digest_size)
    return raw is not None and raw == data_digest.digest()


def _dechunked_digest_matches(slot: Slot) -> bool:
    """Re-read the record and hash its de-chunked payload (some tools digest that form)."""
    expected = slot.header("WARC-Payload-Digest") or ""
    algo = expected.partition(":")[0].lower().replace("-", "")
    try:
        hasher = hashlib.new(algo)
    except ValueError:
        return False
    for other in scan(slot.path, start=slot.offset, stop=slot.offset + 1, check_digests=False):
        if not isinstance(other, Slot):
            return False
        reader = ChunkedDataReader(other.record.raw_stream)
        while chunk := reader.read(_CHUNK):
            hasher.update(chunk)
        other.finish()
        return not other.broken and digest_matches(expected, hasher)
    return False


def is_gzipped(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC[:2]


def _find(fh: IO[bytes], start: int, needles: tuple[bytes, ...]) -> int | None:
    """Offset of the first occurrence of any needle at or after `start`."""
    keep = max(len(n) for n in needles) - 1
    pos = start
    tail = b""
    while True:
        fh.seek(pos)
        block = fh.read(_CHUNK)
        if not block:
            return None
        data = tail + block
        base = pos - len(tail)
        hits = [i for i in (data.find(n) for n in needles) if i >= 0]
        if hits:
            return base + min(hits)
        tail = data[-keep:] if keep else b""
        pos += len(block)


def scan(
    path: Path,
    *,
    start: int = 0,
    stop: int | None = None,
    check_digests: bool = True,
) -> Iterator[Slot | Damage]:
    """Yield each record (Slot) or damaged stretch (Damage) whose offset is in [start, stop).

    The consumer reads a slot's record before asking for the next item; unread parts are
    finished automatically.
    """
    with open(path, "rb") as fh:
        fh.seek(start)
        gz = fh.read(2) == GZIP_MAGIC[:2] if start == 0 else is_gzipped(path)
        walk = _scan_gzip if gz else _scan_plain
        yield from walk(path, fh, start, stop, check_digests)


def _scan_gzip(
    path: Path, fh: IO[bytes], pos: int, stop: int | None, check: bool
) -> Iterator[Slot | Damage]:
    resyncing = False  # a failed resync candidate extends the damage already reported
    while stop is None or pos < stop:
        fh.seek(pos)
        head = fh.read(3)
        if not head:
            return
        damage: str | None = None
        if head != GZIP_MAGIC:
            damage = "not the start of a gzip member (expected bytes 1f 8b 08)"
        else:
            member = GzipMember(fh, pos)
            it = ArchiveIterator(member, check_digests=check, arc2warc=True)
            try:
                with _quiet():
                    record = next(it, None)
            except Exception as exc:
                record = None
                damage = describe(exc)
            if record is None and damage is None:  # an empty member: allowed, nothing to yield
                try:
                    while member.read(_CHUNK):
                        pass
                    assert member.end is not None
                    pos = member.end
                    continue
                except DamagedData as exc:
                    damage = describe(exc)
        if damage is not None:
            if not resyncing:
                yield Damage(pos, damage)
            resyncing = True
            found = _find(fh, pos + 1, (GZIP_MAGIC,))
            if found is None:
                return
            pos = found
            continue
        resyncing = False
        slot = Slot(path, pos, record, True, check, _iterator=it, _member=member)
        record.raw_stream = _Guard(record.raw_stream, slot)
        yield slot
        slot.finish()
        if slot.broken or member.end is None:
            resyncing = True
            found = _find(fh, pos + 1, (GZIP_MAGIC,))
            if found is None:
                return
            pos = found
        else:
            pos = member.end


def _scan_plain(
    path: Path, fh: IO[bytes], pos: int, stop: int | None, check: bool
) -> Iterator[Slot | Damage]:
    resyncing = False
    while stop is None or pos < stop:
        fh.seek(pos)
        it = ArchiveIterator(fh, check_digests=check, arc2warc=True)
        resync_from: int | None = None
        while True:
            offset = it.offset
            try:
                with _quiet():
                    record = next(it, None)
            except Exception as exc:
                if not resyncing:
                    yield Damage(offset, describe(exc))
                resyncing = True
                resync_from = offset + 1
                break
            if record is None:
                return
            offset = it.offset
            if stop is not None and offset >= stop:
                return
            resyncing = False
            slot = Slot(path, offset, record, False, check, _iterator=it)
            record.raw_stream = _Guard(record.raw_stream, slot)
            yield slot
            slot.finish()
            if slot.broken:
                resyncing = True
                resync_from = offset + 1
                break
        found = _find(fh, resync_from, _WARC_STARTS)
        if found is None:
            return
        pos = found


def readable_records(path: Path) -> Iterator[tuple[int, int]]:
    """(offset, length) of every record that can be read to its end (digests not checked)."""
    for item in scan(path, check_digests=False):
        if isinstance(item, Slot):
            item.finish()
            if not item.broken:
                yield item.offset, item.length
