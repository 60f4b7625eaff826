"""Fixed-size shards named `train-NNNNN-of-MMMMM.<ext>`, the Hugging Face convention.

The total is only known at the end, so shards are written under a provisional name and renamed
when the writer closes; a shard's rows depend only on the row order, never on the worker count.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

from warcpack.store.atomic import fsync_dir


def fsync_file(fh: IO[Any]) -> None:
    """Flush a file's bytes to disk before it is renamed into place."""
    fh.flush()
    os.fsync(fh.fileno())


class ShardedWriter:
    """Rows into shards of `shard_rows` rows, at least one (maybe empty) shard.

    Subclasses say how one shard file is begun and ended; this class decides when.
    """

    ext = ""
    prefix = "train"

    def __init__(self, folder: Path, shard_rows: int):
        self.folder = folder
        self._shard_rows = shard_rows
        self._count = 0  # shards begun
        self._in_shard = 0
        self._open = False

    def _part(self, i: int) -> Path:
        return self.folder / f"{self.prefix}-{i:05d}.{self.ext}.part"

    def _next_row(self) -> None:
        """Make room for one more row, starting a new shard when the current one is full."""
        if not self._open or self._in_shard == self._shard_rows:
            self._rotate()
        self._in_shard += 1

    @property
    def _shard_full(self) -> bool:
        return self._in_shard == self._shard_rows

    def _rotate(self) -> None:
        if self._open:
            self._end_shard()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._begin_shard(self._part(self._count))
        self._count += 1
        self._in_shard = 0
        self._open = True

    def close(self) -> list[Path]:
        """End the last shard and rename every shard to its final `-of-` name, in order."""
        if self._count == 0:
            self._rotate()
        if self._open:
            self._end_shard()
            self._open = False
        final = []
        for i in range(self._count):
            done = self.folder / f"{self.prefix}-{i:05d}-of-{self._count:05d}.{self.ext}"
            self._part(i).rename(done)
            final.append(done)
        fsync_dir(self.folder)
        return final

    def _begin_shard(self, path: Path) -> None:
        raise NotImplementedError

    def _end_shard(self) -> None:
        """Finish the current shard file and fsync it."""
        raise NotImplementedError
