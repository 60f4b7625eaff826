"""The Store: a folder of committed WARC files with their CDXJ index, checksums and log."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from warcio.archiveiterator import ArchiveIterator

from warcpack.store.atomic import write_atomic
from warcpack.store.errors import StoreError
from warcpack.store.index import INDEX_NAME, IndexEntry, iter_index, lookup, url_key
from warcpack.store.location import Place, is_file, is_remote, is_remote_url, place_of
from warcpack.store.manifest import MANIFEST_NAME, ManifestError, read_manifest
from warcpack.store.names import check_name, is_warc_name
from warcpack.store.txn import (
    LOG_NAME,
    STAGING_NAME,
    Transaction,
    recover,
    writer_lock,
)

if TYPE_CHECKING:
    from warcpack.limits import Limits
    from warcpack.record import SkippedRecord, SourceRecord


_open_transactions = threading.local()
_READ_ONLY = "{}: a store at a URL is read-only; write to a local folder and copy it there"


class Headers(Mapping[str, str]):
    """WARC headers of one record, in file order; lookup is case-insensitive, first one wins."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = tuple(pairs)
        self._map: dict[str, str] = {}
        for key, value in self.pairs:
            self._map.setdefault(key.lower(), value)

    def __getitem__(self, key: str) -> str:
        return self._map[key.lower()]

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for key, _ in self.pairs:
            if key.lower() not in seen:
                seen.add(key.lower())
                yield key

    def __len__(self) -> int:
        return len(self._map)

    def __repr__(self) -> str:
        return f"Headers({list(self.pairs)!r})"


class Store:
    """A WARC store folder. Open with `Store.open(path)`; write inside `store.transaction()`.
    A store at a URL (`warcpack.store.location`) is opened read-only."""

    def __init__(self, root: Place) -> None:
        self.root = root
        # A store at a URL is read once: every file lookup would otherwise be a request.
        self._fixed_manifest: dict[str, str] | None = None

    @property
    def remote(self) -> bool:
        """Read through fsspec from a URL: no lock, no journal, no writing."""
        return is_remote(self.root)

    # --- opening -----------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path | str, *, create: bool = False) -> Store:
        """Open (or create) the store at `path`, finishing any commit a crash interrupted.
        `path` may be a URL that fsspec reads (s3://bucket/warcs): the store is then read-only."""
        if create and is_remote_url(path):
            raise StoreError(_READ_ONLY.format(path))  # before asking for the URL's backend
        root = place_of(path)
        if is_remote(root):
            return cls._open_remote(root)
        if not root.exists():
            if not create:
                raise StoreError(
                    f"no WARC store at {root} (create one with `warcpack capture` or "
                    "`warcpack ingest`)"
                )
            root.mkdir(parents=True)
        elif not root.is_dir():
            raise StoreError(f"{root} is not a folder")
        store = cls(root)
        store._recover(create=create)
        try:
            read_manifest(root / MANIFEST_NAME)
        except ManifestError as exc:
            raise StoreError(str(exc)) from exc
        return store

    @classmethod
    def _open_remote(cls, root: Place) -> Store:
        """A store at a URL, read as it is: its commits are finished where it is written (`open`
        has refused to create one)."""
        try:
            if is_file(root / ".txn"):
                raise StoreError(f"{root}: a commit was interrupted; open the store's folder "
                                 "with warcpack where it is written to finish it")
            if not is_file(root / MANIFEST_NAME):
                raise StoreError(f"no WARC store at {root} (no {MANIFEST_NAME} there, or the "
                                 "address cannot be reached)")
            store = cls(root)
            store._fixed_manifest = read_manifest(root / MANIFEST_NAME)
        except ManifestError as exc:
            raise StoreError(str(exc)) from exc
        except OSError as exc:
            raise StoreError(f"cannot read the store {root}: {exc}") from exc
        return store

    def _recover(self, *, create: bool) -> None:
        root = self.root
        journal = root / ".txn"
        staging = root / STAGING_NAME
        needs_work = journal.exists() or (staging.is_dir() and any(staging.iterdir()))
        if not needs_work and not create:
            if not (root / MANIFEST_NAME).exists() and any(
                is_warc_name(p.name) for p in root.iterdir() if p.is_file()
            ):
                raise StoreError(
                    f"{root} holds WARC files but no {MANIFEST_NAME}: it is not a warcpack store; "
                    "bring the files into a store with `warcpack ingest`"
                )
            return
        try:
            with writer_lock(root, blocking=False) as locked:
                # A busy lock means a live writer: nothing was interrupted; it finishes its commit.
                if locked:
                    recover(root)
                    if create:
                        self._initialise()
        except PermissionError as exc:
            if journal.exists():
                raise StoreError(
                    f"{root}: an interrupted commit needs finishing but the store is read-only"
                ) from exc

    def _initialise(self) -> None:
        """Give a new store its (empty) manifest and index so tools see a valid store."""
        staging = self.root / STAGING_NAME
        staging.mkdir(exist_ok=True)
        for name in (MANIFEST_NAME, INDEX_NAME):
            if not (self.root / name).exists():
                write_atomic(self.root / name, b"")

    # --- files -------------------------------------------------------------------------------
    @property
    def index_path(self) -> Place:
        return self.root / INDEX_NAME

    @property
    def manifest_path(self) -> Place:
        return self.root / MANIFEST_NAME

    @property
    def log_path(self) -> Path:
        return self.root / LOG_NAME

    def manifest(self) -> dict[str, str]:
        """Committed file name -> sha256 hex."""
        if self._fixed_manifest is not None:
            return dict(self._fixed_manifest)
        return read_manifest(self.manifest_path)

    def warc_files(self) -> list[str]:
        """Committed WARC file names, sorted."""
        return sorted(self.manifest())

    def path_of(self, name: str) -> Place:
        """Path of a committed file; StoreError if it is not committed."""
        unsafe = check_name(name)
        if unsafe:  # a hand-edited SHA256SUMS must not lead outside the store
            raise StoreError(f"{self.root}: {unsafe}")
        if name not in self.manifest():
            raise StoreError(f"{name} is not a committed file of the store {self.root}")
        return self.root / name

    # --- writing -----------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Stage files and log events; commit atomically on success, discard on exception.

        Takes the writer lock (waiting for another writer). A second transaction on the same
        store from the same thread would wait for itself forever, so it is refused instead.
        """
        if self.remote:
            raise StoreError(_READ_ONLY.format(self.root))
        key = str(self.root.resolve())
        held: set[str] = _open_transactions.__dict__.setdefault("roots", set())
        if key in held:
            raise StoreError(f"a transaction is already open on {self.root} in this thread")
        with ExitStack() as stack:
            try:
                (self.root / STAGING_NAME).mkdir(exist_ok=True)
                stack.enter_context(writer_lock(self.root))
            except OSError as exc:
                raise StoreError(f"cannot write to the store {self.root}: {exc}") from exc
            held.add(key)
            stack.callback(held.discard, key)
            recover(self.root)
            self._initialise()
            txn = Transaction(self.root, set(self.manifest()))
            try:
                yield txn
            except BaseException:
                txn.discard()
                raise
            try:
                txn.commit()
            except BaseException:
                if not (self.root / ".txn").exists():  # not decided yet: nothing happened
                    txn.discard()
                raise

    # --- reading -----------------------------------------------------------------------------
    def index_entries(self) -> Iterator[IndexEntry]:
        """Every index entry, in index order."""
        for line in iter_index(self.index_path):
            if line.strip():
                yield IndexEntry.from_line(line)

    def captures(self, url: str, *, exact: bool = True) -> list[IndexEntry]:
        """Index entries of this URL, oldest first (exact=False: every URL with the same SURT)."""
        entries = lookup(self.index_path, url_key(url))
        if exact:
            entries = [e for e in entries if e.url == url]
        return sorted(entries, key=lambda e: (e.timestamp, e.filename, e.offset))

    def record_headers(self, filename: str, offset: int) -> Headers:
        """WARC headers of the record at (filename, offset), e.g. WARC-Record-ID and WARC-Date."""
        with self.open_record(filename, offset) as record:
            return Headers(list(record.rec_headers.headers))

    @contextmanager
    def open_record(self, filename: str, offset: int) -> Iterator[object]:
        """The warcio record at (filename, offset), readable inside the block."""
        path = self.path_of(filename)
        with path.open("rb") as fh:
            fh.seek(offset)
            try:
                record = next(iter(ArchiveIterator(fh, arc2warc=True)))
            except Exception as exc:
                raise StoreError(
                    f"{filename}: no readable record at offset {offset} ({exc})"
                ) from exc
            yield record

    def iter_records(
        self,
        files: list[str] | None = None,
        *,
        start: int = 0,
        stop: int | None = None,
        max_body: int | None = None,
        limits: Limits | None = None,
    ) -> Iterator[SourceRecord | SkippedRecord]:
        """Stream response/resource/revisit records as SourceRecord (see warcpack.store.reader).
        `limits` (default `DEFAULT_LIMITS`) bound each record; `max_body` overrides its
        `max_record_bytes`."""
        from warcpack.limits import DEFAULT_LIMITS
        from warcpack.store.reader import iter_records

        return iter_records(self, files, start=start, stop=stop, max_body=max_body,
                            limits=limits or DEFAULT_LIMITS)
