"""An audit's verdict: a summary a person reads on screen, and the full JSON report.

Exit status: 0 when clean (notes allowed), 1 when there is any finding, 2 when the audit could
not run (that one is the CLI's: no report is made). The JSON report holds no time and no
random value: the same corpus and store give the same report.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from warcpack import __version__
from warcpack.audit.findings import CHECKS, FINDING, INFO, NOTE, Finding, Ledger
from warcpack.store.atomic import fsync_dir

REPORT_FORMAT = 1
KEEP = 1000  # findings (and notes) of each check kept on the report object; the JSON has all
SHOWN = 10  # findings printed per check


@dataclass
class CheckResult:
    """One of the five checks: what it covered, and what it left out and why."""

    name: str
    summary: str = ""
    findings: int = 0
    notes: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "findings" if self.findings else "clean"

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "findings": self.findings, "notes": self.notes,
                "summary": self.summary, "skipped": self.skipped}


@dataclass
class AuditReport:
    """What `audit` found. `findings` and `notes` keep the first KEEP of each check, in report
    order;
    `finding_counts` and `note_counts` count them all (check -> code -> number)."""

    target: str
    kind: str  # "release" or "build"
    release: str | None
    store: str
    checks: dict[str, CheckResult]
    figures: dict[str, Any]
    timeline: list[dict[str, Any]]
    reextract: dict[str, Any]
    finding_counts: dict[str, dict[str, int]]
    note_counts: dict[str, dict[str, int]]
    findings: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)

    @property
    def finding_total(self) -> int:
        return sum(sum(c.values()) for c in self.finding_counts.values())

    @property
    def note_total(self) -> int:
        return sum(sum(c.values()) for c in self.note_counts.values())

    @property
    def clean(self) -> bool:
        return self.finding_total == 0

    @property
    def exit_status(self) -> int:
        return 0 if self.clean else 1

    @property
    def title(self) -> str:
        what = f"release {self.release}" if self.release is not None else "build"
        return f"audit of {what} ({self.target}) against the store {self.store}"

    def verdict(self) -> str:
        if self.clean:
            notes = f", {self.note_total} note(s)" if self.note_total else ""
            return f"clean: no findings{notes}"
        return f"{self.finding_total} finding(s), {self.note_total} note(s)"

    def head(self) -> dict[str, Any]:
        """Every key of the JSON report but the lists of findings, notes and info."""
        return {
            "format": REPORT_FORMAT,
            "tool": {"name": "warcpack", "version": __version__},
            "target": {"folder": self.target, "kind": self.kind, "release": self.release,
                       "store": self.store},
            "verdict": "clean" if self.clean else "findings",
            "exit_status": self.exit_status,
            "checks": {name: self.checks[name].to_json() for name in CHECKS},
            "counts": {"findings": self.finding_counts, "notes": self.note_counts},
            "figures": self.figures,
            "reextract": self.reextract,
            "timeline": self.timeline,
        }

    def print(self, console: Console) -> None:
        """The summary for the screen: each check, its findings (the first few), the verdict."""
        console.print(f"[bold]warcpack {escape(self.title)}[/]", highlight=False)
        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold")
        table.add_column()
        table.add_column()
        for name in CHECKS:
            check = self.checks[name]
            status = "[red]FINDINGS[/]" if check.findings else "[green]ok[/]"
            text = escape(check.summary)
            if check.findings:
                text += f" [red]({check.findings} finding(s))[/]"
            if check.notes:
                text += f" ({check.notes} note(s))"
            for skipped in check.skipped:
                text += f"\n[yellow]skipped:[/] {escape(skipped)}"
            table.add_row(name, status, text)
        console.print(table)
        by_check: dict[str, list[Finding]] = {}
        for item in self.findings:
            by_check.setdefault(item.check, []).append(item)
        for name in CHECKS:
            items = by_check.get(name, [])
            if not items:
                continue
            console.print(f"[bold red]{name}[/] findings:")
            for item in items[:SHOWN]:
                where = escape(item.where())
                console.print(f"  [red]{item.code}[/] {where}: {escape(item.message)}",
                              highlight=False)
            more = self.checks[name].findings - min(len(items), SHOWN)
            if more > 0:
                console.print(f"  ... and {more} more (every finding is in the JSON report)")
        for name, codes in sorted(self.note_counts.items()):
            listed = ", ".join(f"{code} {n}" for code, n in sorted(codes.items()))
            console.print(f"[yellow]notes[/] ({name}): {escape(listed)}", highlight=False)
        style = "green" if self.clean else "red"
        console.print(f"[bold {style}]{escape(self.verdict())}[/]", highlight=False)


def write_json(report: AuditReport, ledger: Ledger, path: Path) -> None:
    """The full report, findings streamed from the audit's database; written atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        head = json.dumps(report.head(), ensure_ascii=False, indent=2)
        fh.write(head[:-2])
        for key, severity in (("findings", FINDING), ("notes", NOTE), ("info", INFO)):
            fh.write(f',\n  "{key}": [')
            _write_items(fh, ledger.items(severity))
            fh.write("]")
        fh.write("\n}\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _write_items(fh: IO[str], items: Iterable[Finding]) -> None:
    first = True
    for item in items:
        fh.write(("\n    " if first else ",\n    ")
                 + json.dumps(item.to_json(), ensure_ascii=False, sort_keys=True))
        first = False
    if not first:
        fh.write("\n  ")
