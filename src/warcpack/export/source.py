"""What an export packages: the store's WARC files (all, or a release's), checked as they are
read, and a fresh CDXJ index of exactly those files.

An export never packages bytes it cannot vouch for: each WARC file is hashed while it is copied
and must match the store's SHA256SUMS (and the release's manifest, for a release), otherwise
the export stops and nothing is written.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from warcpack.diff import RELEASE_MANIFEST
from warcpack.release import RebuildError, load_manifest, releases
from warcpack.store.errors import StoreError
from warcpack.store.index import write_index
from warcpack.store.location import Place, holds, is_file, place_of
from warcpack.store.manifest import MANIFEST_NAME, ManifestError, read_manifest
from warcpack.store.names import check_name

_CHUNK = 1 << 20


class ExportError(Exception):
    """The export cannot be made (no store or release, a file missing or changed...)."""


@dataclass(frozen=True)
class WarcFile:
    name: str
    path: Place
    sha256: str  # what the store (and release) say the file's sha256 is
    size: int | None  # the release's size, if known


@dataclass
class Source:
    """The WARC files to export, and the release they belong to (if any)."""

    store: Place
    files: list[WarcFile]
    release_folder: Path | None = None
    manifest: dict[str, Any] | None = None

    @property
    def release(self) -> str | None:
        return None if self.manifest is None else str(self.manifest["release"])


def release_folder(path: Path | None, root: Path = Path("releases")) -> Path:
    """A release folder: PATH (a folder or its release.json), else the latest in `root`."""
    if path is None:
        found = releases(root)
        if not found:
            raise ExportError(f"no release in {root}: give one with --release")
        return found[-1][1]
    path = Path(path)
    if path.is_file() and path.name == RELEASE_MANIFEST:
        path = path.parent
    if not (path / RELEASE_MANIFEST).is_file():
        raise ExportError(f"{path} is not a release folder (no {RELEASE_MANIFEST})")
    return path


def open_source(store: Path | str, release: Path | None = None) -> Source:
    """The store's committed WARC files, or exactly those of the release folder `release`. The
    store may be at a URL: its files are read, and checked, where they are kept."""
    try:
        store = place_of(store)  # a folder, or a URL read through fsspec
    except StoreError as exc:
        raise ExportError(str(exc)) from None
    if not holds(store, MANIFEST_NAME):
        raise ExportError(f"no WARC store at {store}")
    try:
        sums = read_manifest(store / MANIFEST_NAME)
    except (ManifestError, OSError) as exc:
        raise ExportError(f"the store's {MANIFEST_NAME} cannot be read: {exc}") from None
    manifest = None
    if release is not None:
        try:
            manifest = load_manifest(release / RELEASE_MANIFEST)
        except RebuildError as exc:
            raise ExportError(str(exc)) from None
        listed = [(str(f["name"]), str(f["sha256"]), f.get("size"))
                  for f in manifest["store"]["files"]]
    else:
        listed = [(name, sums[name], None) for name in sorted(sums)]
    files = []
    for name, digest, size in listed:
        unsafe = check_name(name)
        if unsafe:
            raise ExportError(f"cannot export {unsafe}")
        path = store / name
        if not is_file(path):
            raise ExportError(f"{path}: the WARC file is missing from the store")
        if sums.get(name) != digest:
            raise ExportError(f"{path}: the store's {MANIFEST_NAME} gives sha256 "
                              f"{sums.get(name)}, the release {digest}: run `warcpack audit`")
        files.append(WarcFile(name, path, digest, size))
    if not files:
        raise ExportError(f"the store {store} has no WARC files to export")
    return Source(store, sorted(files, key=lambda f: f.name), release, manifest)


def copy_checked(warc: WarcFile, out: IO[bytes], *extra: Any) -> int:
    """Copy a WARC file's bytes to `out`, hashing them (sha256, and any `extra` hashers);
    ExportError, naming the file, if they are not the bytes the store vouches for."""
    digest = hashlib.sha256()
    size = 0
    with warc.path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            for h in extra:
                h.update(chunk)
            out.write(chunk)
            size += len(chunk)
    if digest.hexdigest() != warc.sha256 or (warc.size is not None and size != warc.size):
        raise ExportError(f"{warc.path}: sha256 {digest.hexdigest()} ({size} bytes) is not the "
                          f"{warc.sha256} the store vouches for: run `warcpack audit` or "
                          "`warcpack verify`")
    return size


@contextmanager
def index_lines(files: list[WarcFile]) -> Iterator[Iterator[str]]:
    """The CDXJ lines of `files`, sorted as cdxj-indexer sorts them, indexed afresh from the
    files (one file in memory at a time, then merged from disk)."""
    with tempfile.TemporaryDirectory(prefix="warcpack-export-") as tmp, ExitStack() as stack:
        parts = []
        for i, warc in enumerate(files):
            part = Path(tmp) / f"{i:06d}.cdxj"
            with open(part, "w", encoding="utf-8", newline="\n") as fh:
                write_index([(warc.path, warc.name)], fh)
            parts.append(stack.enter_context(open(part, encoding="utf-8")))
        yield heapq.merge(*parts)


def index_entry(line: str) -> tuple[str, str, dict[str, Any]]:
    urlkey, timestamp, blob = line.rstrip("\n").split(" ", 2)
    return urlkey, timestamp, json.loads(blob)


def remove(path: Path) -> None:
    """Remove a half-written export (a file or a folder)."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
