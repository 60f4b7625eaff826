"""Atomic multi-file commits: staging, the `.txn` journal, roll-forward recovery, the writer lock.

A commit stages the new WARC files, the new index and the new manifest under `.staging/`, fsyncs
them, then writes the journal (the list of renames plus the log lines to append) atomically.
From that instant the commit is decided: the renames are redone by whoever opens the store next
if the writer dies. Before the journal exists, a crash leaves only `.staging/` leftovers, which
are deleted.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warcpack.store.atomic import (
    fsync_dir,
    fsync_file,
    remove_tree_contents,
    write_atomic,
    write_lines_durable,
)
from warcpack.store.errors import StoreError
from warcpack.store.index import INDEX_NAME, iter_index, merge_sorted, write_index
from warcpack.store.manifest import MANIFEST_NAME, manifest_lines, read_manifest, sha256_file
from warcpack.store.names import check_name

LOG_NAME = "store-log.jsonl"
LOCK_NAME = ".lock"
STAGING_NAME = ".staging"
JOURNAL_NAME = ".txn"
_NEW_INDEX = ".index.cdxj.new"
_NEW_PART = ".index.cdxj.part"
_NEW_MANIFEST = ".SHA256SUMS.new"


def crash_point(step: str) -> None:
    """Internal test hook: die at a named commit step to prove crash safety (never set by users)."""
    if os.environ.get("WARCPACK_TEST_CRASH_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)


@contextmanager
def writer_lock(root: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Hold the store's fcntl lock; yields False (without waiting) if non-blocking and busy."""
    fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def recover(root: Path) -> bool:
    """Finish an interrupted commit (roll forward) or drop staging leftovers. Call under the lock.

    Returns True if a commit was rolled forward.
    """
    journal_path = root / JOURNAL_NAME
    rolled = False
    if journal_path.exists():
        try:
            journal = json.loads(journal_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"{journal_path}: unreadable commit journal ({exc})") from exc
        _roll_forward(root, journal)
        rolled = True
    tmp = root / (JOURNAL_NAME + ".tmp")
    if tmp.exists():
        tmp.unlink()
    remove_tree_contents(root / STAGING_NAME)
    return rolled


def _roll_forward(root: Path, journal: dict[str, Any]) -> None:
    """Redo a decided commit; every step is idempotent, so running it twice is harmless."""
    for number, (src, dst) in enumerate(journal["renames"]):
        source, target = root / src, root / dst
        if source.exists():
            os.replace(source, target)
        elif not target.exists():
            raise StoreError(
                f"{root}: commit journal names {src} -> {dst} but neither exists; "
                "the store was changed by hand during a commit"
            )
        if number == 0:
            crash_point("rename")
    fsync_dir(root)
    crash_point("renamed")
    lines: list[str] = journal.get("log_lines", [])
    if lines:
        log_path = root / LOG_NAME
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size > journal["log_size"]:  # a previous roll-forward appended part of them
                os.ftruncate(fd, journal["log_size"])
            os.lseek(fd, 0, os.SEEK_END)
            os.write(fd, "".join(lines).encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_dir(root)
    crash_point("logged")
    (root / JOURNAL_NAME).unlink()
    fsync_dir(root)


class Transaction:
    """Files staged and log events collected for one atomic commit."""

    def __init__(self, root: Path, committed: set[str]) -> None:
        self.root = root
        self.staging = root / STAGING_NAME
        self._committed = committed
        self._staged: list[str] = []
        self._adopted: set[str] = set()
        self._events: list[dict[str, Any]] = []

    @property
    def staged(self) -> list[str]:
        """Names staged so far, in staging order."""
        return list(self._staged)

    def stage(self, name: str, *, adopt: bool = False) -> Path:
        """Reserve `name` for a new WARC file; write the complete file at the returned path.

        adopt=True allows a same-named file lying uncommitted at the top of the store (put there
        by hand) to be replaced by the staged one, which the caller copied from it.
        """
        problem = check_name(name)
        if problem:
            raise StoreError(problem)
        if name in self._committed or ((self.root / name).exists() and not adopt):
            raise StoreError(f"{name} is already in the store {self.root}")
        if adopt:
            self._adopted.add(name)
        if name in self._staged:
            raise StoreError(f"{name} is already staged in this transaction")
        self._staged.append(name)
        return self.staging / name

    def scratch(self, tag: str) -> Path:
        """A private path in staging for work files (never committed, dropped with staging)."""
        self.staging.mkdir(exist_ok=True)
        return self.staging / f".scratch-{tag}"

    def unstage(self, name: str) -> None:
        """Give up a staged name (and its file), e.g. when it turned out to be a duplicate."""
        self._staged.remove(name)
        self._adopted.discard(name)
        path = self.staging / name
        if path.exists():
            path.unlink()

    def log(self, event: dict[str, Any]) -> None:
        """Queue an event for store-log.jsonl; written only if the transaction commits."""
        entry = dict(event)
        entry.setdefault("time", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        self._events.append(entry)

    def discard(self) -> None:
        """Drop everything staged."""
        remove_tree_contents(self.staging)
        self._staged.clear()
        self._events.clear()

    def commit(self) -> None:
        """Make staged files, their index lines, manifest entries and log lines visible at once."""
        if not self._staged and not self._events:
            return
        root = self.root
        renames: list[tuple[str, str]] = []
        if self._staged:
            manifest = read_manifest(root / MANIFEST_NAME)
            new_files: list[tuple[Path, str]] = []
            for name in self._staged:
                path = self.staging / name
                if not path.is_file():
                    raise StoreError(f"staged file {name} was never written")
                if name in manifest or ((root / name).exists() and name not in self._adopted):
                    raise StoreError(f"{name} is already in the store {root}")
                fsync_file(path)
                manifest[name] = sha256_file(path)
                new_files.append((path, name))
            crash_point("staged")
            part = self.staging / _NEW_PART
            with open(part, "w", encoding="utf-8", newline="\n") as out:
                write_index(new_files, out)
            new_index = self.staging / _NEW_INDEX
            with open(part, encoding="utf-8") as new_lines:
                with open(new_index, "w", encoding="utf-8", newline="\n") as out:
                    merge_sorted([iter_index(root / INDEX_NAME), new_lines], out)
                    out.flush()
                    os.fsync(out.fileno())
            part.unlink()
            write_lines_durable(self.staging / _NEW_MANIFEST, manifest_lines(manifest))
            renames = [(f"{STAGING_NAME}/{name}", name) for name in sorted(self._staged)]
            renames += [
                (f"{STAGING_NAME}/{_NEW_INDEX}", INDEX_NAME),
                (f"{STAGING_NAME}/{_NEW_MANIFEST}", MANIFEST_NAME),
            ]
            fsync_dir(self.staging)
        crash_point("prepared")
        log_path = root / LOG_NAME
        journal = {
            "version": 1,
            "renames": renames,
            "log_size": log_path.stat().st_size if log_path.exists() else 0,
            "log_lines": [
                json.dumps(event, sort_keys=True, ensure_ascii=False) + "\n"
                for event in self._events
            ],
        }
        write_atomic(root / JOURNAL_NAME, json.dumps(journal, sort_keys=True).encode("utf-8"))
        crash_point("journal")
        _roll_forward(root, journal)
        remove_tree_contents(self.staging)
        self._staged.clear()
        self._events.clear()
