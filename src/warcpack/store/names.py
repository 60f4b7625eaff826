"""File names allowed at the top of a store: plain, safe basenames of WARC/ARC files."""

from __future__ import annotations

import re

WARC_SUFFIXES = (".warc.gz", ".warc", ".arc.gz", ".arc")
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._+-]+")


def is_warc_name(name: str) -> bool:
    """True for a name the store keeps as a WARC/ARC file."""
    return name.endswith(WARC_SUFFIXES)


def check_name(name: str) -> str | None:
    """Why `name` cannot be a stored file name, or None if it can."""
    if not _SAFE.match(name) or ".." in name:
        return f"unsafe file name {name!r} (use letters, digits, '.', '_', '-', '+'; no '/')"
    if not is_warc_name(name):
        return f"file name {name!r} must end with one of {', '.join(WARC_SUFFIXES)}"
    return None


def split_suffix(name: str) -> tuple[str, str]:
    """('crawl-1', '.warc.gz') for 'crawl-1.warc.gz'."""
    for suffix in WARC_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)], suffix
    return name, ""


def sanitise(name: str) -> str:
    """A safe basename close to `name` (spaces and odd characters become '_')."""
    stem, suffix = split_suffix(name)
    stem = _UNSAFE_CHARS.sub("_", stem).strip("._-+") or "warc"
    stem = stem.replace("..", "_")
    return stem[: 200 - len(suffix)] + suffix
