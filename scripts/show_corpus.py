"""Load a built corpus the way a researcher would, offline, and show its features and a few rows.

Usage: python scripts/show_corpus.py [CORPUS] [ROWS]
Loads CORPUS with `datasets.load_dataset(CORPUS)` (the `text` config) and
`load_dataset(CORPUS, "metadata")`, with the Hugging Face Hub switched off; a config without
rows (e.g. `text` under the redistributable policy when no page allows it) is named, not loaded.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

# Before `datasets` is imported: a local folder must load without the network.
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

from rich.console import Console  # noqa: E402

console = Console(soft_wrap=True)


def _plain(text: str) -> None:
    """Print data as it is (a title or a type like `timestamp[us, tz=UTC]` is not markup)."""
    console.print(text, markup=False, highlight=False)


def _licence(lic: dict) -> str:
    flag = lic["redistributable"]
    state = "unknown" if flag is None else ("redistributable" if flag else "not redistributable")
    named = lic["spdx"] or lic["url"] or lic["statement"]
    return f"{state}" + (f" ({named})" if named else "")


def show(corpus: Path, rows: int = 3) -> None:
    """Print both configs' features and the first rows of the text config."""
    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    summary = json.loads((corpus / "build-summary.json").read_text("utf-8"))
    sizes = {"text": summary["text_rows"], "metadata": summary["rows_written"]}
    loaded = {}
    with tempfile.TemporaryDirectory() as cache:  # leave no cache behind
        for name, size in sizes.items():
            if not size:  # `datasets` refuses a config without rows
                console.rule(f"config {name!r}: no rows in this build "
                             f"(text policy {summary['text_policy']})")
                continue
            args = (str(corpus),) if name == "text" else (str(corpus), name)
            ds = loaded[name] = datasets.load_dataset(*args, cache_dir=cache)["train"]
            console.rule(f"config {name!r}: {ds.num_rows} rows")
            for column, feature in ds.features.items():
                _plain(f"  {column}: {feature}")
        text = loaded.get("text")
        if text is None:
            return
        console.rule(f"first {min(rows, text.num_rows)} rows of 'text'")
        for row in text.select(range(min(rows, text.num_rows))):
            console.print(row["title"] or "(no title)", style="bold", markup=False)
            _plain(f"  url:       {row['url']}")
            _plain(f"  published: {row['date_published']}   day: {row['date_published_day']}")
            _plain(f"  modified:  {row['date_modified']}")
            _plain(f"  captured:  {row['date_captured']}")
            _plain(f"  licence:   {_licence(row['license'])}")
            _plain(f"  text:      {' '.join(row['text'][:200].split())}...")


def main(argv: list[str]) -> int:
    corpus = Path(argv[0] if argv else "corpus")
    if not (corpus / "build-summary.json").is_file():
        console.print(f"[red]error:[/] {corpus} is not a built corpus (no build-summary.json); "
                      f"run `warcpack build --out {corpus}` first")
        return 2
    show(corpus, int(argv[1]) if len(argv) > 1 else 3)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
