"""`warcpack verify`: is the store what its manifest and index say, record for record?

Checks, after finishing any interrupted commit: SHA256SUMS against the files (missing, extra,
changed), index.cdxj against a fresh index of the listed files, and every record's
WARC-Block-Digest / WARC-Payload-Digest.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from warcpack.store.errors import StoreError
from warcpack.store.index import iter_index, write_index
from warcpack.store.location import Place, is_file, is_remote, unreadable
from warcpack.store.manifest import sha256_file
from warcpack.store.names import check_name, is_warc_name
from warcpack.store.scan import Damage, scan
from warcpack.store.store import Store

Problem = tuple[str, int | None, str]
_MAX_INDEX_DIFFS = 20


@dataclass
class VerifyReport:
    """What `verify` found: `ok` when there are no problems."""

    store: Place | str
    files: int = 0
    records: int = 0
    index_lines: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # checks that could not be made

    @property
    def ok(self) -> bool:
        return not self.problems

    def print(self, console: Console) -> None:
        checked = (
            f"{self.files} file(s), {self.records} record(s), {self.index_lines} index line(s)"
        )
        for note in self.notes:
            console.print(f"[yellow]note:[/] {note}")
        if self.ok:
            console.print(f"[green]store {self.store} is sound:[/] {checked} checked")
            return
        console.print(f"[bold red]store {self.store}: {len(self.problems)} problem(s)[/]")
        for file, offset, reason in self.problems:
            where = f" offset {offset}" if offset is not None else ""
            console.print(f"  {file}{where}: {reason}")
        console.print(f"{checked} checked")


def verify(store: Path | str | Store) -> VerifyReport:
    """Check the store end to end; never raises for a damaged store, reports instead. A store
    at a URL is checked in place, its files read through fsspec."""
    try:
        st = store if isinstance(store, Store) else Store.open(store)
        manifest = st.manifest()
    except StoreError as exc:
        report = VerifyReport(store.root if isinstance(store, Store) else store)
        report.problems.append((str(report.store), None, str(exc)))
        return report
    root = st.root
    report = VerifyReport(root)
    present: list[tuple[Path, str]] = []
    for name in sorted(manifest):
        unsafe = check_name(name)
        if unsafe:  # never joined onto the root: it could name a file outside the store
            report.problems.append((name, None, f"SHA256SUMS entry refused: {unsafe}"))
            continue
        path = root / name
        if not is_file(path):
            report.problems.append((name, None, "listed in SHA256SUMS but missing"))
            continue
        try:
            digest = sha256_file(path)
        except Exception as exc:  # a disk error, a lost connection, an object replaced meanwhile
            report.problems.append((name, None, f"cannot be read ({unreadable(exc)})"))
            continue
        present.append((path, name))
        if digest != manifest[name]:
            report.problems.append((name, None, "SHA-256 differs from SHA256SUMS (file changed)"))
    for name in _unlisted(root, set(manifest), report):
        reason = "WARC file not listed in SHA256SUMS (`warcpack ingest` it to adopt it)"
        report.problems.append((name, None, reason))
    report.files = len(present)
    try:
        _check_index(st, present, report)
    except Exception as exc:  # the files, or the index, could not be read (again)
        report.problems.append(("index.cdxj", None, f"not checked ({unreadable(exc)})"))
    for path, name in present:
        _check_records(path, name, report)
    return report


def _unlisted(root: Place, listed: set[str], report: VerifyReport) -> list[str]:
    """WARC files in the store's folder that SHA256SUMS does not list (none checked, with a
    note, where the store's location cannot be listed, as a plain web server's cannot)."""
    try:
        found = sorted(root.iterdir())
    except (OSError, NotImplementedError, ValueError) as exc:
        if not is_remote(root):
            raise
        report.notes.append(f"{root} cannot be listed ({type(exc).__name__}), so WARC files "
                            "that SHA256SUMS does not list were not looked for")
        return []
    return [p.name for p in found
            if is_warc_name(p.name) and p.name not in listed and p.is_file()]


def _check_index(st: Store, present: list[tuple[Path, str]], report: VerifyReport) -> None:
    with tempfile.TemporaryDirectory(prefix="warcpack-verify-") as tmp:
        fresh = Path(tmp) / "fresh.cdxj"
        with open(fresh, "w", encoding="utf-8", newline="\n") as out:
            write_index(present, out)
        diffs = 0
        for side, line in _diff_sorted(iter_index(st.index_path), iter_index(fresh)):
            diffs += 1
            if diffs <= _MAX_INDEX_DIFFS:
                what = "not in the files" if side == "index" else "missing from index.cdxj"
                report.problems.append(("index.cdxj", None, f"line {what}: {line.rstrip()[:200]}"))
        if diffs > _MAX_INDEX_DIFFS:
            report.problems.append(
                ("index.cdxj", None, f"... and {diffs - _MAX_INDEX_DIFFS} more differing lines")
            )
        report.index_lines = sum(1 for _ in iter_index(fresh))


def _diff_sorted(a: Iterator[str], b: Iterator[str]) -> Iterator[tuple[str, str]]:
    """Lines only in `a` ("index") or only in `b` ("fresh"); both inputs sorted."""
    x, y = next(a, None), next(b, None)
    while x is not None or y is not None:
        if y is None or (x is not None and x < y):
            yield "index", x  # type: ignore[misc]
            x = next(a, None)
        elif x is None or y < x:
            yield "fresh", y
            y = next(b, None)
        else:
            x, y = next(a, None), next(b, None)


def _check_records(path: Path, name: str, report: VerifyReport) -> None:
    offset = None
    try:
        for item in scan(path, check_digests=True):
            offset = item.offset
            if isinstance(item, Damage):
                report.problems.append((name, item.offset, item.reason))
                continue
            item.finish()
            report.records += 1
            if item.problems:
                report.problems.append((name, item.offset, "; ".join(item.problems)))
    except Exception as exc:  # the file could be read once, and no longer
        report.problems.append((name, offset, f"reading stopped ({unreadable(exc)})"))
