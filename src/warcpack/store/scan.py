"""Walk the records of one WARC/ARC file with exact offsets, noticing damage and moving past it.

warcio parses each record; this module decides where records start and end. Gzip files are read
one member at a time with our own decompressor, because warcio prints and swallows errors in
the middle of a member (a corrupt member would pass unnoticed); uncompressed files are read one
record at a time with warcio's ArchiveIterator. On damage the scanner reports the offset and
resynchronises on the next gzip member header (or `WARC/1.x` line), so the good records after a
bad one still come through. In an uncompressed file a record whose length is in doubt (a digest
that fails, no blank line after it) is never trusted to say where the next record starts: the
scanner looks for the next `WARC/1.x` line after the record's own start instead.

A file gzipped as one stream (not per record) is read too: its records share one gzip member,
so each gets the member's offset and length (the smallest piece of the file that can be
decompressed on its own) and is told apart from the others by its WARC-Record-ID.

Header lines and header blocks are bounded (see `warcpack.limits`): warcio reads a header line
whole, so without a bound one line with no end would take the whole file into memory.
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
from warcio.bufferedreaders import BUFF_SIZE, ChunkedDataReader, DecompressingBufferedReader

from warcpack.limits import DEFAULT_LIMITS, Limits
from warcpack.store.location import file_head, open_span, size_of

GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_STARTS = (b"WARC/1.0\r\n", b"WARC/1.1\r\n")
_CHUNK = 1 << 16
_OUT_MAX = 1 << 20  # bound on decompressed bytes per step (a zip bomb stays small in memory)
_RECORD_STARTS = (b"WARC/", b"filedesc://", b"http://", b"https://")
_NO_BLANK_LINE = "record not followed by a blank line (wrong Content-Length?)"
DAMAGED = "damaged"
HEADER_LIMIT = "header-limit"
# WARC 1.1, section 5: mandatory in every record, and WARC-Target-URI in these types.
_MANDATORY = ("WARC-Record-ID", "WARC-Date", "WARC-Type", "Content-Length")
_NEEDS_URI = ("response", "resource", "revisit", "request")


class DamagedData(Exception):
    """The bytes of a record cannot be read as they should (corrupt or truncated)."""


class HeaderLimit(Exception):
    """A header line or header block is over the limits (see `warcpack.limits.Limits`)."""


@dataclass(frozen=True)
class Damage:
    """A stretch of the file that holds no readable record, starting at `offset`.

    `kind` is "damaged" for bytes that cannot be read, or the limit that refused them
    ("header-limit").
    """

    offset: int
    reason: str
    kind: str = DAMAGED


def describe(exc: BaseException) -> str:
    """A one-line reason from any parsing exception, printable (warcio quotes the bytes it
    could not parse, and a terminal must not receive them raw)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if isinstance(exc, (DamagedData, HeaderLimit)):
        return text
    return f"{type(exc).__name__}: {text}"[:300]


def _kind(exc: BaseException) -> str:
    return HEADER_LIMIT if isinstance(exc, HeaderLimit) else DAMAGED


class GzipMember:
    """A read-only stream of one gzip member's decompressed bytes, starting at a file offset.

    Raises DamagedData on corrupt data, a bad CRC, or a file that ends inside the member (and
    again on every later read). After the member is read to its end, `end` is the file offset
    just past it.
    """

    def __init__(self, fh: IO[bytes], start: int) -> None:
        self._fh = fh
        self._next = start  # file offset of the next compressed byte to read
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._buf = b""  # decompressed, not yet handed out from self._off on
        self._off = 0
        self._pos = 0  # decompressed bytes handed out
        self.end: int | None = None
        self.failure: str | None = None
        self.head = b""  # the first decompressed bytes: tell a real member from a false start

    def _fill(self) -> None:
        if self.failure is not None:
            raise DamagedData(self.failure)
        data = self._d.unconsumed_tail
        if not data:
            self._fh.seek(self._next)
            data = self._fh.read(_CHUNK)
            if not data:
                self._fail(f"gzip member cut short: the file ends at byte {self._next}")
            self._next += len(data)
        try:
            out = self._d.decompress(data, _OUT_MAX)
        except zlib.error as exc:
            self._fail(f"corrupt gzip data ({exc})")
        if self._d.eof:
            self.end = self._next - len(self._d.unused_data)
        if len(self.head) < 16:
            self.head += out[: 16 - len(self.head)]
        self._buf = self._buf[self._off :] + out
        self._off = 0

    def _fail(self, reason: str) -> None:
        self.failure = reason
        raise DamagedData(reason)

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

    def looks_real(self) -> bool:
        """True if the member decompressed to the start of a record: not a chance match of
        the gzip magic bytes inside another member's compressed data."""
        return self.head.startswith(_RECORD_STARTS)

    def drain(self) -> int:
        """Read to the member's end (DamagedData if it has none); returns `end`."""
        while self.end is None:
            self._fill()
        self._buf, self._off = b"", 0
        return self.end

    def tell(self) -> int:
        return self._pos


# --- bounded header parsing ------------------------------------------------------------------


class _CappedReader(DecompressingBufferedReader):
    """warcio's buffered reader, but a line read without a length stops at `max_line` bytes.

    warcio reads header lines and the blank lines between records this way; the record's own
    bytes are read through a LimitReader, which always passes a length.
    """

    def __init__(self, stream: Any, max_line: int) -> None:
        super().__init__(stream, block_size=BUFF_SIZE)
        self.max_line = max_line

    def readline(self, length: int | None = None) -> bytes:
        if length is not None and length >= 0:
            return super().readline(length)
        line = super().readline(self.max_line + 1)
        if len(line) > self.max_line and not line.endswith(b"\n"):
            raise HeaderLimit(f"a header line longer than max_header_bytes={self.max_line}")
        return line


class _Budget:
    """The stream one header block is parsed from: counts its lines and bytes, and keeps the
    lines of a WARC header block for a check warcio does not make."""

    def __init__(self, stream: Any, limits: Limits, used: int, keep: bool) -> None:
        self._stream = stream
        self._limits = limits
        self._used = used
        self._lines = 1 if used else 0
        self.kept: list[bytes] | None = [] if keep else None

    def readline(self, length: int | None = None) -> bytes:
        limits = self._limits
        if self._lines > limits.max_headers + 1:  # the status line, then the headers
            raise HeaderLimit(f"more than max_headers={limits.max_headers} header lines")
        left = limits.max_header_bytes - self._used
        cap = left + 1 if length is None or length < 0 else min(length, left + 1)
        line = self._stream.readline(max(cap, 0))
        self._used += len(line)
        self._lines += 1
        if self.kept is not None:
            self.kept.append(line)
        if self._used > limits.max_header_bytes:
            raise HeaderLimit(
                f"a header block longer than max_header_bytes={limits.max_header_bytes}"
            )
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _BoundedParser:
    """Wraps one of warcio's header parsers so that each block it parses is within limits.

    `strict` (WARC headers): a line that is neither `name: value` nor a continuation is damage.
    warcio drops such lines, so a record whose header block was cut short would silently take
    the header lines of the record after it.
    """

    def __init__(self, inner: Any, limits: Limits, strict: bool = False) -> None:
        self._inner = inner
        self._limits = limits
        self._strict = strict

    def parse(self, stream: Any, full_statusline: Any = None) -> Any:
        used = len(full_statusline) if full_statusline else 0
        budget = _Budget(stream, self._limits, used, self._strict)
        result = self._inner.parse(budget, full_statusline)
        for line in (budget.kept or [])[0 if full_statusline else 1 :]:
            if line.strip() and b":" not in line and not line.startswith((b" ", b"\t")):
                shown = line[:60].decode("latin-1").strip()
                raise DamagedData(f"WARC header line without a colon: {shown!r}")
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Iterator(ArchiveIterator):
    """warcio's ArchiveIterator with every header read bounded by `limits`, reading only the
    format the file is named for: bytes in a WARC file that happen to look like an ARC header
    line are damage, not a record."""

    def __init__(self, stream: Any, check_digests: bool, limits: Limits, fmt: str) -> None:
        super().__init__(stream, check_digests=check_digests, arc2warc=True)
        self.known_format = fmt
        self.reader = _CappedReader(self.fh, limits.max_header_bytes)
        loader = self.loader
        for name in ("warc_parser", "arc_parser", "http_parser", "http_req_parser"):
            strict = name == "warc_parser"
            setattr(loader, name, _BoundedParser(getattr(loader, name), limits, strict))


# --- records ---------------------------------------------------------------------------------


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
class _Group:
    """The records of one gzip member; more than one when the file is gzipped as one stream."""

    path: Path
    start: int
    shared: bool = False
    end: int | None = None

    def member_end(self) -> int:
        """File offset just past the member (the file's end if the member is damaged)."""
        if self.end is None:
            with open_span(self.path, self.start, None) as fh:
                try:
                    self.end = GzipMember(fh, self.start).drain()
                except DamagedData:
                    self.end = size_of(fh)
        return self.end


@dataclass(eq=False)
class Slot:
    """A record the scanner stopped at. Read `record` (warcio), then call `finish()`.

    After finish(): `length` (bytes in the file), `problems` (empty when the record is sound)
    and `broken` (the stream could not be read to the record's end). A record that shares its
    gzip member with others (`shared`) has the member's offset and length.
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
    _group: _Group | None = None
    _following: Any = None  # the next record of the same gzip member, if any
    _after: Damage | None = None  # unreadable data after this record, in the same member
    _next_offset: int | None = None  # uncompressed files: where the next record starts

    def _fail(self, reason: str) -> None:
        self.broken = True
        self.problems.append(reason)

    @property
    def rec_type(self) -> str:
        return self.record.rec_type

    @property
    def shared(self) -> bool:
        return self._group is not None and self._group.shared

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
        if record.length is None:
            self._fail("no Content-Length header")
        elif missing and not self.broken:
            self._fail(f"record cut short: {missing} of its {record.length} bytes are missing")
        if not self.broken:
            self._check_fields()
        if self.check_digests and not self.broken:
            self._check_digests()
        if self.gzipped:
            self._finish_member()
        else:
            self._finish_plain()
        return self.problems

    def _check_fields(self) -> None:
        """The fields every WARC record must have (a flipped byte in a name loses one)."""
        missing = [name for name in _MANDATORY if not self.header(name)]
        if self.rec_type in _NEEDS_URI and not self.header("WARC-Target-URI"):
            missing.append("WARC-Target-URI")
        if missing:
            self.problems.append("missing mandatory header " + ", ".join(missing))

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

    def _block_verified(self) -> bool:
        """True if WARC-Block-Digest was checked and matched: then Content-Length is right."""
        if not self.check_digests or self.broken or self.rec_type == "revisit":
            return False
        if not self.header("WARC-Block-Digest") or not self.record.length:
            return False
        checker = self.record.digest_checker
        return checker is not None and not any("block digest" in str(p) for p in checker.problems)

    def _junk_after(self, where: int) -> None:
        """Bytes follow the record where blank lines should: the record is at fault only if
        its length cannot be vouched for by its block digest."""
        if self._block_verified():
            self._after = Damage(where, "bytes after a record that are not a record")
        else:
            self.problems.append(_NO_BLANK_LINE)

    def _finish_member(self) -> None:
        member, group, it = self._member, self._group, self._iterator
        assert member is not None and group is not None
        following = None
        if not self.broken:
            before = it.err_count
            error: Exception | None = None
            try:
                with _quiet():
                    following = next(it, None)
            except Exception as exc:  # unreadable bytes after the record, in its member
                error = exc
            if it.err_count > before:
                self._junk_after(self.offset)
            if error is not None and not self.problems and self._after is None:
                self._after = Damage(self.offset, describe(error), _kind(error))
        if following is not None and _NO_BLANK_LINE not in self.problems:
            group.shared = True  # more records in this member: the file is one gzip stream
            self._following = following
        else:
            try:
                group.end = member.drain()
            except DamagedData as exc:
                if not group.shared:  # a bad CRC or a cut: this record's bytes are in doubt
                    if not self.broken:
                        self._fail(describe(exc))
                elif not self.broken and self._after is None:
                    self._after = Damage(self.offset, describe(exc))
        if group.shared:
            self.length = group.member_end() - self.offset
        elif group.end is not None:
            self.length = group.end - self.offset

    def _finish_plain(self) -> None:
        it = self._iterator
        before = it.err_count
        try:
            with _quiet():
                self.length = it.get_record_length()
            self._next_offset = it.offset
        except Exception as exc:
            if not self.broken:
                self._fail(describe(exc))
            return
        if it.err_count > before:
            self._junk_after(self.offset + self.length)


def _slot(path: Path, offset: int, record: Any, check: bool, it: Any,
          member: GzipMember | None = None, group: _Group | None = None) -> Slot:
    slot = Slot(path, offset, record, member is not None, check, _iterator=it, _member=member,
                _group=group)
    record.raw_stream = _Guard(record.raw_stream, slot)
    return slot


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
    record_id = slot.header("WARC-Record-ID")
    for other in scan(slot.path, start=slot.offset, stop=slot.offset + 1, check_digests=False):
        if not isinstance(other, Slot):
            return False
        if other.header("WARC-Record-ID") != record_id:  # another record of a shared member
            continue
        reader = ChunkedDataReader(other.record.raw_stream)
        while chunk := reader.read(_CHUNK):
            hasher.update(chunk)
        other.finish()
        return not other.broken and digest_matches(expected, hasher)
    return False


def _format(head: bytes) -> str:
    """"arc" if the file starts with an ARC file header (`filedesc://`), else "warc"."""
    if head.startswith(GZIP_MAGIC):
        with contextlib.suppress(zlib.error):
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 64)
    return "arc" if head.lstrip(b"\r\n").startswith(b"filedesc://") else "warc"


def is_gzipped(path: Path) -> bool:
    with path.open("rb") as fh:
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
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[Slot | Damage]:
    """Yield each record (Slot) or damaged stretch (Damage) whose offset is in [start, stop).

    The consumer reads a slot's record before asking for the next item; unread parts are
    finished automatically.
    """
    head = file_head(path, 512)
    fmt, gz = _format(head), head[:2] == GZIP_MAGIC[:2]
    with open_span(path, start, stop) as fh:
        walk = _scan_gzip if gz else _scan_plain
        yield from walk(path, fh, start, stop, check_digests, limits, fmt)


def _scan_gzip(
    path: Path, fh: IO[bytes], pos: int, stop: int | None, check: bool, limits: Limits, fmt: str
) -> Iterator[Slot | Damage]:
    resyncing = False  # a failed resync candidate extends the damage already reported
    while stop is None or pos < stop:
        fh.seek(pos)
        head = fh.read(3)
        if not head:
            return
        damage: Damage | None = None
        record = None
        if head != GZIP_MAGIC:
            damage = Damage(pos, "not the start of a gzip member (expected bytes 1f 8b 08)")
        else:
            member = GzipMember(fh, pos)
            it = _Iterator(member, check, limits, fmt)
            try:
                with _quiet():
                    record = next(it, None)
            except Exception as exc:
                damage = Damage(pos, describe(exc), _kind(exc))
            if record is None and (damage is None or damage.kind != DAMAGED):
                # An empty member (allowed), or a record refused by a limit: the member itself
                # may be sound, and then reading goes on right after it.
                if damage is not None:
                    yield damage
                try:
                    pos = member.drain()
                    resyncing = False
                    continue
                except DamagedData as exc:
                    if damage is None:
                        damage = Damage(pos, describe(exc))
                    else:
                        resyncing = True  # already reported
            if damage is not None and member.looks_real():
                resyncing = False  # a real member, damaged: always reported
        if damage is not None:
            if not resyncing:
                yield damage
            resyncing = True
            found = _find(fh, pos + 1, (GZIP_MAGIC,))
            if found is None:
                return
            pos = found
            continue
        assert record is not None
        resyncing = False
        group = _Group(path, pos)
        slot = _slot(path, pos, record, check, it, member, group)
        while True:
            yield slot
            slot.finish()
            if slot._after is not None:
                yield slot._after
            if slot._following is None:
                break
            slot = _slot(path, pos, slot._following, check, it, member, group)
        if member.failure is not None or group.end is None:
            resyncing = True
            found = _find(fh, pos + 1, (GZIP_MAGIC,))
            if found is None:
                return
            pos = found
        else:
            pos = group.end


def _scan_plain(
    path: Path, fh: IO[bytes], pos: int, stop: int | None, check: bool, limits: Limits, fmt: str
) -> Iterator[Slot | Damage]:
    while stop is None or pos < stop:
        fh.seek(pos)
        it = _Iterator(fh, check, limits, fmt)
        try:
            with _quiet():
                record = next(it, None)
        except Exception as exc:  # every candidate starts with a `WARC/1.x` line: reported
            yield Damage(pos, describe(exc), _kind(exc))
            found = _find(fh, pos + 1, _WARC_STARTS)
            if found is None:
                return
            pos = found
            continue
        if record is None:
            return
        slot = _slot(path, pos, record, check, it)
        yield slot
        slot.finish()
        if slot._after is not None:
            yield slot._after
        if slot.problems or slot._next_offset is None:
            # Its length is in doubt: look for the next record from just after its start.
            found = _find(fh, pos + 1, _WARC_STARTS)
            if found is None:
                return
            pos = found
        else:
            pos = slot._next_offset
