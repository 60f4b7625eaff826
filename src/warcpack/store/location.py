"""Where a store lives: a local folder, or a URL read through fsspec (s3://, gs://, https://...).

A store at a URL is read-only: builds read its SHA256SUMS, index and WARC files by byte range,
so every node of a cluster can read one copy in an object store. Writing (capture, ingest,
recovery of an interrupted commit) needs the local folder, with its lock and journal.
`universal_pathlib` gives URLs the pathlib interface the readers already use (`/`, `open`,
`stat`), so one code path reads both; the helpers here are where a remote read must differ
(block sizes, requests that fetch only metadata).
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from warcpack.store.errors import StoreError

if TYPE_CHECKING:
    from upath import UPath

    Place = Path | UPath  # a local path, or a URL read through fsspec
else:
    Place = Any

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _is_upath(place: object) -> bool:
    return hasattr(place, "fs") and not isinstance(place, PurePath)


def _text(place: str | os.PathLike[str]) -> str:
    """A place as written: a UPath has no os.fspath, its str() is its URL."""
    return str(place) if _is_upath(place) else os.fspath(place)


def is_url(place: str | os.PathLike[str]) -> bool:
    """A URL with a scheme (`s3://bucket/warcs`, or a UPath), not a local path."""
    return not isinstance(place, PurePath) and bool(_URL.match(_text(place)))


def is_remote_url(place: str | os.PathLike[str]) -> bool:
    """A URL read through fsspec: any scheme but file:// (a local folder, written as such)."""
    return is_url(place) and not _text(place).lower().startswith(("file://", "local://"))


def is_remote(root: Place) -> bool:
    """Whether a store root is read through fsspec (a URL other than file://)."""
    return not isinstance(root, Path) and getattr(root, "protocol", "") not in ("", "file",
                                                                               "local")


def unreadable(exc: BaseException) -> str:
    """Why bytes could not be read, as a report says it. Each backend raises its own errors
    (OSError, aiohttp's, botocore's, s3fs's FileExpired), so readers catch any exception around
    a read and name it with this."""
    return f"{type(exc).__name__}: {exc}"


def place_of(place: str | os.PathLike[str], what: str = "the store") -> Place:
    """`place` as a Path, or for a URL as a UPath (file:// URLs are local Paths). A URL whose
    fsspec backend is not installed is a StoreError naming `what` and the package to install.

    fsspec keeps one filesystem per backend and process, with the listings it has made; the
    place is read as it is now, not as it was listed before (an object replaced since then
    would be refused by its old ETag). A UPath is taken as it is, with its own options."""
    if _is_upath(place):
        return place if is_remote(place) else Path(place.path)
    if not is_url(place):
        return Path(place)
    from upath import UPath

    url = os.fspath(place).rstrip("/")
    try:
        root = UPath(url)
        root.fs.invalidate_cache()  # creating the filesystem fails when its package is missing
    except (ImportError, ValueError, OSError) as exc:
        raise StoreError(f"cannot read {what} {url}: {exc}") from None
    if not is_remote(root):  # file:// is a local folder, with its lock and journal
        return Path(root.path)
    return root


_PROBE_BLOCK = 1 << 16  # bytes fetched per seek of a binary search in a remote file
_MIN_SPAN_BLOCK = 1 << 18  # a remote read of records fetches at least this much at a time...
_MAX_SPAN_BLOCK = 1 << 24  # ...and at most this


def open_for_probes(path: Place) -> Any:
    """A binary file for scattered small reads: a remote one fetches small blocks, not the
    megabytes of readahead that suit a sequential read, at each seek."""
    if isinstance(path, Path):
        return path.open("rb")
    return path.open("rb", block_size=_PROBE_BLOCK)


def open_span(path: Place, start: int, stop: int | None) -> Any:
    """A binary file for reading the records that start in [start, stop). A remote one fetches
    the span and half as much again (the last record runs past `stop`) in one request, instead
    of the backend's readahead of 5 to 50 MB for each unit of a few records."""
    if isinstance(path, Path):
        return path.open("rb")
    span = (stop - start) * 3 // 2 if stop is not None else _MAX_SPAN_BLOCK // 4
    block = min(_MAX_SPAN_BLOCK, max(_MIN_SPAN_BLOCK, span))
    return path.open("rb", block_size=block, cache_type="readahead")


def file_head(path: Place, size: int) -> bytes:
    """The first `size` bytes of a file (one small request for a remote one)."""
    if isinstance(path, Path):
        with path.open("rb") as fh:
            return fh.read(size)
    return path.fs.cat_file(path.path, start=0, end=size)


def is_file(path: Place) -> bool:
    """Whether a file is there. For a URL, its metadata only (a HEAD request): fsspec's
    exists() over HTTP starts downloading the whole file."""
    if isinstance(path, Path):
        return path.is_file()
    try:
        return path.fs.info(path.path).get("type") == "file"
    except (OSError, ValueError):
        return False


def holds(root: Place, *names: str) -> bool:
    """Whether a store is at `root`: a local folder; for a URL, one of the files `names` under
    it (an object store has no folders to ask for)."""
    if isinstance(root, Path):
        return root.is_dir()
    return any(is_file(root / name) for name in names)


def size_of(fh: Any) -> int:
    """Size of an open binary file, local or remote (remote files have no descriptor)."""
    here = fh.tell()
    end = fh.seek(0, os.SEEK_END)
    fh.seek(here)
    return end


def file_identity(path: Place) -> str | None:
    """Size and change mark of a file (mtime locally; for an object, its ETag or mtime if the
    store gives one), or None if it cannot be read: a file replaced behind the store's back
    gets another identity."""
    if isinstance(path, Path):
        try:
            st = path.stat()
        except OSError:
            return None
        return f"{st.st_size} {st.st_mtime_ns}"
    try:
        info = path.fs.info(path.path)
    except (OSError, ValueError):
        return None
    mark = next((str(info[k]) for k in ("ETag", "etag", "mtime", "LastModified", "updated",
                                        "last_modified") if info.get(k) is not None), "")
    return f"{info.get('size')} {mark}".rstrip()
