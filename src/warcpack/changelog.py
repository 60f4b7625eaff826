"""releases/CHANGELOG.md: one entry per release, newest first, generated from the corpus diff.

An entry says what the release was built from and lists the rows added, removed and changed
since the previous release, by URL. It holds no date of its own (a release is a function of its
inputs, not of the day it was made); the capture range says how recent the data is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from warcpack.diff import ChangedRow, CorpusDiff, RowRef
from warcpack.store.atomic import write_atomic

NAME = "CHANGELOG.md"
HEADER = (
    "# Changelog\n\n"
    "Releases of this corpus, newest first. Each entry is written by `warcpack release` from the\n"
    "difference with the previous release (`warcpack diff releases/OLD releases/NEW` shows it\n"
    "again); `warcpack rebuild releases/VERSION/release.json` rebuilds a release and checks it.\n"
)
LIMIT = 500  # rows listed per section; the rest are counted


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _row(r: RowRef | ChangedRow) -> str:
    line = f"- `{r.url}` (revision {r.revision}, id `{r.id}`)"
    return line + (f": {', '.join(r.fields)}" if isinstance(r, ChangedRow) else "")


def _section(title: str, rows: list[Any], old: str, new: str) -> list[str]:
    if not rows:
        return []
    lines = ["", f"### {title}", ""] + [_row(r) for r in rows[:LIMIT]]
    if len(rows) > LIMIT:
        lines.append(f"- ... and {len(rows) - LIMIT} more: "
                     f"`warcpack diff releases/{old} releases/{new}`")
    return lines


def entry(version: str, manifest: dict[str, Any], changes: CorpusDiff | None) -> str:
    """The Markdown entry of one release; `changes` is None for the first release."""
    files = manifest["store"]["files"]
    captured = manifest["rows"]["captured"]
    lines = [
        f"## {version}",
        "",
        f"- Built from {plural(len(files), 'WARC file')}"
        + (f", captures from {captured['first']} to {captured['last']}" if captured["first"]
           else "") + ".",
        f"- warcpack {manifest['tool']['version']}, row schema {manifest['schema_version']}, "
        f"text policy `{manifest['config']['text_policy']}`.",
    ]
    rows = manifest["rows"]
    if changes is None:
        lines.append(f"- First release: {plural(rows['rows'], 'row')} "
                     f"({plural(rows['urls'], 'URL')}).")
    else:
        lines.append(
            f"- Since {changes.old}: {len(changes.added)} rows added, {len(changes.removed)} "
            f"removed, {len(changes.changed)} changed, {changes.unchanged} unchanged "
            f"({changes.old_rows} -> {changes.new_rows} rows)."
        )
        lines += _section("Added", changes.added, changes.old, version)
        lines += _section("Changed", changes.changed, changes.old, version)
        lines += _section("Removed", changes.removed, changes.old, version)
    return "\n".join(lines) + "\n"


def prepend(path: Path, text: str) -> None:
    """Put an entry above the others (below the header), atomically. An entry of the same
    version already at the top (a release interrupted before its manifest was written, then
    run again) is replaced, never repeated."""
    old = path.read_text("utf-8") if path.exists() else HEADER
    head, sep, rest = old.partition("\n## ")
    if not sep:
        updated = old.rstrip("\n") + "\n\n" + text
    else:
        title = text.partition("\n")[0]
        if "## " + rest.partition("\n")[0] == title:
            _, more, rest = rest.partition("\n## ")
            if not more:
                rest = ""
        updated = head.rstrip("\n") + "\n\n" + text + ("\n## " + rest if rest else "")
    write_atomic(path, updated.encode("utf-8"))
