"""What a build did: counts, skipped records and the figures of the corpus, for humans and tools.

`build-summary.json` holds no wall-clock time and no absolute path, so two builds of the same
store give the same bytes; its skipped list is streamed from a spool file, never held in memory.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from warcpack.limits import TIMEOUT_REASON

if TYPE_CHECKING:
    from rich.console import Console

ERROR_REASON = "invalid-row"  # a row the schema refused: a defect, so the build is not ok
# Skips worth a line of their own when the build is printed (with their file and offset).
NOTABLE = {"invalid-row": "red", "extract-error": "yellow", "damaged": "yellow"}
PRINTED = 20


@dataclass(frozen=True)
class Skipped:
    """A record that gave no row, and where it is."""

    warc_file: str
    offset: int
    reason: str
    detail: str = ""


def rfc3339(value: datetime | None) -> str | None:
    """A UTC instant written as the rows write it (`Z`)."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


@dataclass
class CorpusStats:
    """Figures of the rows, gathered as they stream past."""

    rows: int = 0
    text_rows: int = 0
    sites: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    redistributable: Counter[str] = field(default_factory=Counter)
    captured_first: datetime | None = None
    captured_last: datetime | None = None

    def add(self, row: dict[str, Any], in_text: bool) -> None:
        """Count one row (its values typed as in parquet: instants are datetimes)."""
        self.rows += 1
        self.text_rows += in_text
        self.sites[row["site"] or "(unknown)"] += 1
        self.languages[row["language"] or "(unknown)"] += 1
        flag = row["license"]["redistributable"]
        self.redistributable["unknown" if flag is None else str(flag).lower()] += 1
        first = row["date_first_captured"] or row["date_captured"]
        last = row["date_last_captured"] or row["date_captured"]
        if first is not None and (self.captured_first is None or first < self.captured_first):
            self.captured_first = first
        if last is not None and (self.captured_last is None or last > self.captured_last):
            self.captured_last = last

    def to_json(self) -> dict[str, Any]:
        return {
            "sites": dict(sorted(self.sites.items())),
            "languages": dict(sorted(self.languages.items())),
            "captured": {"first": rfc3339(self.captured_first),
                         "last": rfc3339(self.captured_last)},
            "redistributable": {k: self.redistributable[k] for k in ("true", "false", "unknown")},
        }


@dataclass
class BuildSummary:
    """The outcome of one build; `ok` is False when a row was refused by the schema."""

    text_policy: str
    schema_version: str
    tool_version: str
    extractor_versions: dict[str, str]
    writer_versions: dict[str, str]
    store: dict[str, Any]  # {"warc_files": n, "manifest_sha256": hex}
    records_seen: int = 0
    urls: int = 0  # distinct URLs among the rows
    recaptures: int = 0  # captures identical to their URL's previous revision: no row of their own
    stats: CorpusStats = field(default_factory=CorpusStats)
    skipped_by_reason: Counter[str] = field(default_factory=Counter)
    notable: list[Skipped] = field(default_factory=list)  # the first few, for printing
    error_count: int = 0  # invalid rows
    outputs: list[dict[str, Any]] = field(default_factory=list)  # path, bytes, sha256
    # A build restricted by a record list: {"records": n, "sha256": canonical selection hash}.
    records_list: dict[str, Any] | None = None
    # The limits of a build run with other limits than the defaults (None: the defaults, which
    # the tool version names), so such a build says how it differs.
    limits: dict[str, Any] | None = None
    # "fast" for a build that read main text in one pass (None: the default, "accurate").
    text_mode: str | None = None
    out: Path | None = None  # where it was written (not in the JSON: no absolute paths)
    # How the work was done (printed, never in the JSON: the output must not depend on it).
    units: int = 0
    units_cached: int = 0  # finished in an earlier or interrupted build: not read again
    records_extracted: int = 0  # extracted in this build (the others came from the cache)

    @property
    def rows_written(self) -> int:
        return self.stats.rows

    @property
    def text_rows(self) -> int:
        return self.stats.text_rows

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped_by_reason.values())

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def reproducible(self) -> bool:
        """False when a record hit the wall-clock limit: whether it does depends on the
        machine and its load, so another run may give another output."""
        return not self.skipped_by_reason.get(TIMEOUT_REASON)

    def add_skip(self, skip: Skipped) -> None:
        self.skipped_by_reason[skip.reason] += 1
        self.error_count += skip.reason == ERROR_REASON
        if skip.reason in NOTABLE and len(self.notable) < PRINTED:
            self.notable.append(skip)

    def head(self) -> dict[str, Any]:
        """Every key of build-summary.json but the skipped list, in a fixed order."""
        return {
            "tool": "warcpack",
            "tool_version": self.tool_version,
            "schema_version": self.schema_version,
            "extractor_versions": dict(sorted(self.extractor_versions.items())),
            "writer_versions": dict(sorted(self.writer_versions.items())),
            "text_policy": self.text_policy,
            **({"limits": self.limits} if self.limits is not None else {}),
            **({"text_mode": self.text_mode} if self.text_mode is not None else {}),
            "store": self.store,
            **({"records_list": self.records_list} if self.records_list is not None else {}),
            **({} if self.reproducible else {"reproducible": False}),
            "records_seen": self.records_seen,
            "rows_written": self.rows_written,
            "text_rows": self.text_rows,
            "urls": self.urls,
            "identical_recaptures": self.recaptures,
            "skipped_total": self.skipped_total,
            "skipped_by_reason": dict(sorted(self.skipped_by_reason.items())),
            "invalid_rows": self.error_count,
            **self.stats.to_json(),
            "outputs": self.outputs,
        }

    def write(self, fh: IO[str], skipped: Iterable[Skipped]) -> None:
        """Write build-summary.json: the head, then the skipped records in (file, offset) order."""
        head = json.dumps(self.head(), ensure_ascii=False, indent=2)
        fh.write(head[:-2] + ',\n  "skipped": [')
        for i, skip in enumerate(skipped):
            fh.write(("\n    " if i == 0 else ",\n    ")
                     + json.dumps(asdict(skip), ensure_ascii=False))
        fh.write("\n  ]\n}\n" if self.skipped_total else "]\n}\n")

    def print(self, console: Console) -> None:
        """A readable account of the build."""
        from rich.markup import escape  # imported here: workers import this module, not rich
        from rich.table import Table

        table = Table(title="warcpack build", show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold")
        table.add_column()
        table.add_row("records seen", str(self.records_seen))
        if self.units:
            table.add_row("work units", f"{self.units} ({self.units_cached} done before, "
                          f"{self.records_extracted} records extracted now)")
        table.add_row("rows written", f"{self.rows_written} (metadata config)")
        table.add_row("text rows", f"{self.text_rows} (text config, policy {self.text_policy})")
        table.add_row("pages (URLs)", str(self.urls))
        table.add_row("identical re-captures", f"{self.recaptures} (counted in the row of "
                      "their revision)")
        for reason, count in sorted(self.skipped_by_reason.items()):
            style = NOTABLE.get(reason)
            table.add_row(f"skipped: {reason}", f"[{style}]{count}[/]" if style else str(count))
        sites = self.stats.sites
        table.add_row("sites", str(len(sites)))
        first, last = rfc3339(self.stats.captured_first), rfc3339(self.stats.captured_last)
        table.add_row("captured", f"{first} to {last}" if first else "-")
        red = self.stats.redistributable
        table.add_row("redistributable",
                      f"true {red['true']}, false {red['false']}, unknown {red['unknown']}")
        if self.out is not None:
            table.add_row("output", escape(str(self.out)))
        console.print(table)
        if not self.reproducible:
            console.print("[yellow]note:[/] a record ran past the extraction time limit "
                          "(skipped: timeout); another run may give another output, so the "
                          "summary says \"reproducible\": false")
        if self.rows_written and not self.text_rows:
            console.print("[yellow]note:[/] the text config has no rows under this text policy; "
                          "`datasets` cannot load an empty config (the metadata config loads)")
        for skip in self.notable:
            label = "error" if skip.reason == ERROR_REASON else "warning"
            console.print(f"[{NOTABLE[skip.reason]}]{label}:[/] {escape(skip.warc_file)} at offset "
                          f"{skip.offset}: {skip.reason}: {escape(skip.detail)}")
        more = sum(self.skipped_by_reason[r] for r in NOTABLE) - len(self.notable)
        if more > 0:
            console.print(f"... and {more} more (every skipped record is in build-summary.json)")


class SkipSpool:
    """Skipped records spooled to a file as they come, so their number does not bound memory."""

    def __init__(self, path: Path):
        self.path = path
        self._fh: IO[str] | None = path.open("w", encoding="utf-8")

    def add(self, skip: Skipped) -> None:
        assert self._fh is not None
        self._fh.write(json.dumps(asdict(skip), ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __iter__(self) -> Iterator[Skipped]:
        self.close()
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                yield Skipped(**json.loads(line))
