"""The output folder of a build: new files are staged, then swapped in as one commit.

Every file of a build is written and fsynced under `OUT/.tmp-build/`. The commit writes a journal
(`.tmp-build/.commit.json`: the files to move in, the old data files to remove) atomically, moves
the files, removes the old ones, then deletes the staging folder. Opening the folder again rolls an
interrupted commit forward (the moves are idempotent) or discards an unfinished build, so a crash
leaves the old corpus or, once reopened, the new one. Nothing is written outside OUT.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path
from typing import Any

from warcpack.store.atomic import fsync_dir, write_atomic

STAGING = ".tmp-build"
JOURNAL = ".commit.json"
MARKER = "build-summary.json"  # a folder holding this (from warcpack) is a previous output
DATA = "data"


class OutputError(Exception):
    """The output folder cannot be used (not ours, locked, not a folder)."""


def _is_previous_output(out: Path) -> bool:
    try:
        summary = json.loads((out / MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and summary.get("tool") == "warcpack"


class Output:
    """An output folder open for one build (locked until `close`)."""

    def __init__(self, root: Path, lock_fd: int):
        self.root = root
        self.staging = root / STAGING
        self._lock_fd = lock_fd

    @classmethod
    def open(cls, out: Path, keep: tuple[str, ...] = ()) -> Output:
        """Check OUT is empty or a previous output, lock it, recover, and start a fresh staging.

        Entries of the staging folder named in `keep` survive (a build's resume state); they
        must be gone before `commit`, which moves every staged file into OUT."""
        root = Path(out)
        if root.exists() and not root.is_dir():
            raise OutputError(f"output {root} exists and is not a folder")
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputError(f"another build is writing to {root}") from None
        output = cls(root, fd)
        try:
            output._recover()
            others = sorted(p for p in os.listdir(root) if p != STAGING)
            if others and not _is_previous_output(root):
                shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
                raise OutputError(
                    f"output folder {root} is not empty ({shown}) and holds no previous warcpack "
                    f"build ({MARKER}); choose a new or empty folder"
                )
            if output.staging.is_symlink() or output.staging.is_file():
                output.staging.unlink()  # a link planted here must not take the files away
            output.staging.mkdir(exist_ok=True)
            for child in sorted(output.staging.iterdir()):
                if child.name in keep and child.is_dir() and not child.is_symlink():
                    continue
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        except BaseException:
            output.close()
            raise
        return output

    def close(self) -> None:
        """Release the lock (staged files of an uncommitted build stay until the next open)."""
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def __enter__(self) -> Output:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def commit(self) -> None:
        """Swap the staged files in, replacing the previous build's files."""
        staged = sorted(
            p.relative_to(self.staging).as_posix()
            for p in self.staging.rglob("*") if p.is_file() and p.name != JOURNAL
        )
        new = set(staged)
        old = sorted(rel for rel, is_dir in self._walk_data() if not is_dir)
        journal: dict[str, Any] = {"move": staged, "remove": [p for p in old if p not in new]}
        write_atomic(self.staging / JOURNAL, json.dumps(journal, indent=1).encode("utf-8"))
        self._roll_forward(journal)

    def _recover(self) -> None:
        journal_path = self.staging / JOURNAL
        if not self.staging.is_symlink() and journal_path.is_file():
            try:
                journal = json.loads(journal_path.read_text("utf-8"))
            except ValueError as exc:
                raise OutputError(f"{journal_path}: unreadable commit journal ({exc})") from None
            self._roll_forward(journal)

    def _walk_data(self) -> list[tuple[str, bool]]:
        """(path relative to OUT, is a folder) of what is in OUT/data, never following a
        symbolic link: a link planted there is an entry of OUT, not a way out of it."""
        data = self.root / DATA
        if data.is_symlink() or not data.is_dir():
            return []
        found = []
        for folder, dirs, files in os.walk(data, followlinks=False):
            here = Path(folder)
            for name in dirs:
                link = (here / name).is_symlink()
                found.append(((here / name).relative_to(self.root).as_posix(), not link))
            found += [((here / name).relative_to(self.root).as_posix(), False) for name in files]
        return found

    def _real_folders(self, rel: str) -> None:
        """Make every folder from OUT down to `rel`'s a real folder of OUT: a symbolic link
        found on the way is removed (the link, not what it points to)."""
        here = self.root
        for part in Path(rel).parent.parts:
            here = here / part
            if here.is_symlink():
                here.unlink()

    def _roll_forward(self, journal: dict[str, Any]) -> None:
        touched = {self.root}
        for rel in journal["move"]:
            src, dst = self.staging / rel, self.root / rel
            if src.exists():
                self._real_folders(rel)
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
            touched.add(dst.parent)
        for rel in journal["remove"]:
            self._real_folders(rel)
            (self.root / rel).unlink(missing_ok=True)
            touched.add((self.root / rel).parent)
        # folders the new build no longer uses, deepest first
        for rel, is_dir in sorted(self._walk_data(), reverse=True):
            folder = self.root / rel
            if is_dir and not any(folder.iterdir()):
                folder.rmdir()
        for folder in sorted(touched):
            if folder.is_dir():
                fsync_dir(folder)
        shutil.rmtree(self.staging)
        fsync_dir(self.root)
