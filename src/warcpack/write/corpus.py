"""All outputs of one build, fed row by row in corpus order and finished together.

Rows are turned into their written forms (`prepare`) where they are made, in the workers; the
writer here only appends bytes and values to the shards, so it stays a cheap single stream.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow

from warcpack.store.manifest import sha256_file
from warcpack.write import card, croissant, features
from warcpack.write.columns import Prepared
from warcpack.write.jsonl import JsonlWriter
from warcpack.write.parquet import ParquetWriter
from warcpack.write.shards import fsync_file
from warcpack.write.summary import BuildSummary, Skipped, SkipSpool

TEXT_POLICIES = ("all", "redistributable")
SHARD_ROWS = 10_000
SPOOL = ".skipped.jsonl"  # inside the staging folder; removed before the commit


def in_text_config(values: dict[str, Any], policy: str) -> bool:
    """Whether a row's text goes into the `text` config under a text policy."""
    return policy == "all" or values["license"]["redistributable"] is True


def writer_versions() -> dict[str, str]:
    """Versions of the libraries whose output bytes depend on them."""
    return {"pyarrow": pyarrow.__version__}


def _write_text(path: Path, text: str) -> None:
    with path.open("wb") as fh:
        fh.write(text.encode("utf-8"))
        fsync_file(fh)


class CorpusWriter:
    """Writes every output of a build into a staging folder (see `outdir.Output`)."""

    def __init__(self, staging: Path, summary: BuildSummary, shard_rows: int = SHARD_ROWS,
                 features_yaml: Mapping[str, list[dict[str, Any]]] | None = None):
        if summary.text_policy not in TEXT_POLICIES:
            raise ValueError(f"unknown text policy {summary.text_policy!r}")
        if shard_rows < 1:
            raise ValueError("shard_rows must be at least 1")
        self.root = staging
        self.summary = summary
        text_dir, meta_dir = staging / "data" / "text", staging / "data" / "metadata"
        self._jsonl = JsonlWriter(text_dir, shard_rows)
        self._text = ParquetWriter(text_dir, features.arrow_schema("text"), shard_rows)
        self._meta = ParquetWriter(meta_dir, features.arrow_schema("metadata"), shard_rows)
        self._spool = SkipSpool(staging / SPOOL)
        self._features_yaml = features_yaml

    def add_row(self, row: Prepared) -> None:
        in_text = in_text_config(row.values, self.summary.text_policy)
        if in_text:
            self._jsonl.write(row.line)
            self._text.write(row.values)
        self._meta.write(row.values)
        self.summary.stats.add(row.values, in_text)

    def add_skip(self, skip: Skipped) -> None:
        self.summary.add_skip(skip)
        self._spool.add(skip)

    def _describe(self, paths: list[Path]) -> list[dict[str, Any]]:
        return [
            {"path": p.relative_to(self.root).as_posix(), "bytes": p.stat().st_size,
             "sha256": sha256_file(p)}
            for p in paths
        ]

    def finish(self) -> BuildSummary:
        """Close the shards, then write croissant.json, README.md and build-summary.json."""
        data = self._jsonl.close() + self._text.close() + self._meta.close()
        summary = self.summary
        summary.outputs = sorted(self._describe(data), key=lambda o: o["path"])
        _write_text(self.root / "croissant.json",
                    json.dumps(croissant.document(summary), ensure_ascii=False, indent=2) + "\n")
        _write_text(self.root / "README.md", card.render(summary, self._features_yaml))
        extra = self._describe([self.root / "README.md", self.root / "croissant.json"])
        summary.outputs = sorted(summary.outputs + extra, key=lambda o: o["path"])
        with (self.root / "build-summary.json").open("w", encoding="utf-8", newline="\n") as fh:
            summary.write(fh, self._spool)
            fsync_file(fh)
        self._spool.path.unlink()
        return summary
