"""Durable file operations: what makes a commit survive a crash at any instant.

A rename is atomic only once the renamed file's bytes and the directory entry are on disk,
so every helper here fsyncs both.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def fsync_file(path: Path) -> None:
    """Flush a closed file's bytes to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (renames, creations, deletions) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: readers see the old bytes or the new ones, never a mix."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_lines_durable(path: Path, lines: Iterable[str]) -> None:
    """Write text lines to a new file and fsync it (the caller renames it into place)."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for line in lines:
            fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def remove_tree_contents(path: Path) -> None:
    """Delete everything inside a directory (not the directory itself)."""
    if not path.is_dir():
        return
    for child in sorted(path.iterdir()):
        if child.is_dir() and not child.is_symlink():
            remove_tree_contents(child)
            child.rmdir()
        else:
            child.unlink()
