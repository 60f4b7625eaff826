"""SHA256SUMS: the list of committed WARC files and their hashes, in `sha256sum` format.

Readers take the file list from here, so a file is part of the store exactly when it is listed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

MANIFEST_NAME = "SHA256SUMS"
_CHUNK = 1 << 20


class ManifestError(ValueError):
    """SHA256SUMS cannot be read (bad line); the message names the line."""


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks (files can be gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(path: Path) -> dict[str, str]:
    """Name -> hex digest; an absent file is an empty manifest."""
    entries: dict[str, str] = {}
    try:  # not exists() first: that is one more request for a store at a URL
        fh = path.open(encoding="utf-8")
    except FileNotFoundError:
        return entries
    with fh:
        for number, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            hexdigest, sep, name = line.partition("  ")
            if not sep:  # `sha256sum -b` writes "<hex> *<name>"
                hexdigest, sep, name = line.partition(" *")
            if not sep or len(hexdigest) != 64 or not name:
                raise ManifestError(f"{path}:{number}: not a sha256sum line: {line[:80]!r}")
            entries[name] = hexdigest.lower()
    return entries


def manifest_lines(entries: dict[str, str]) -> list[str]:
    """Lines of a manifest, sorted by file name (deterministic bytes for the same files)."""
    return [f"{entries[name]}  {name}\n" for name in sorted(entries)]
