"""Publication-date benchmark: warcpack's `date_published_day` against htmldate alone.

Usage: python scripts/bench_dates.py [--shared PATH] [--workers N] [--out DIR] [--json PATH]

The pages of `<shared>/benchmark/dates/html/` are written into a WARC as HTTP 200 responses with
their labelled URLs, captured two days after the latest label (the latest local day anywhere,
UTC+14, ends before then, so no true date is later than the capture), ingested into a fresh store
and built by `warcpack.build`. A row is right only when its `date_published_day` equals the label;
another day is a false positive, no day (or no row) a false negative. htmldate runs on the same
pages, decoded as the benchmark's source decodes them (UTF-8, else the detected charset), with
`original_date=True` and the same latest date, in its extensive and fast modes. ± is one standard
deviation over 1000 bootstrap resamples of the pages (fixed seed, the same for every system).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (  # noqa: E402
    BenchPage,
    BuildRun,
    Scores,
    build_pages,
    decode_html,
    parse_args,
    pm,
    read_gz,
    resamples,
    score_dates,
    table,
    write_json,
)

CAPTURE_MARGIN = timedelta(days=2)


def load(shared: Path) -> tuple[list[BenchPage], list[str]]:
    """The benchmark pages (sorted by name) and their labelled publication days."""
    bench = shared / "benchmark" / "dates"
    labels = json.loads((bench / "labels.json").read_text("utf-8"))
    files = {p.name[: -len(".html.gz")]: p for p in (bench / "html").glob("*.html.gz")}
    if set(files) != set(labels):
        raise SystemExit(f"{bench}: html/ and labels.json do not name the same pages")
    keys = sorted(labels)
    pages = [BenchPage(k, labels[k]["url"], read_gz(files[k])) for k in keys]
    return pages, [labels[k]["published"] for k in keys]


def capture_day(labels: list[str]) -> date:
    """A capture day later than every label, in every time zone."""
    return max(date.fromisoformat(label) for label in labels) + CAPTURE_MARGIN


def htmldate_modes(max_date: str) -> dict[str, Callable[[str], str | None]]:
    from htmldate import find_date

    return {
        "htmldate (extensive)": lambda html: find_date(
            html, original_date=True, extensive_search=True, max_date=max_date),
        "htmldate (fast)": lambda html: find_date(
            html, original_date=True, extensive_search=False, max_date=max_date),
    }


def run_baseline(find: Callable[[str], str | None], htmls: list[str]) -> tuple[list, float]:
    """Days found by one baseline (None where it finds none or fails) and its run time."""
    started = time.perf_counter()
    found: list[str | None] = []
    for html in htmls:
        try:
            found.append(find(html))
        except Exception:  # a failure is no date, as for warcpack
            found.append(None)
    return found, time.perf_counter() - started


def _delta(label: str, got: str | None) -> str:
    if got is None:
        return "-"
    days = (date.fromisoformat(got) - date.fromisoformat(label)).days
    return f"{days:+d}d"


def report(results: dict[str, tuple[Scores, list[str], list[str | None]]],
           pages: list[BenchPage], labels: list[str], run: BuildRun, capture: str,
           seconds: dict[str, float]) -> None:
    """The table of systems, the build's speed and warcpack's misses."""
    print(f"publication dates: {len(pages)} pages, captured {capture}, exact day; "
          f"± = 1 s.d. over 1000 bootstrap resamples\n")
    rows = []
    for name, (scores, _, _) in results.items():
        f, sd = scores.figures, scores.sd
        rows.append([name, pm(f["accuracy"], sd["accuracy"]), f"{f['precision']:.3f}",
                     f"{f['recall']:.3f}", f"{f['f1']:.3f}", str(f["tp"]), str(f["fp"]),
                     str(f["fn"]), str(scores.pages)])
    print(table(["system", "accuracy", "precision", "recall", "F1", "TP", "FP", "FN", "pages"],
                rows, right=set(range(1, 9))))

    print(f"\nwarcpack build: {run.pages} pages in {run.build_seconds:.2f} s "
          f"= {run.docs_per_second:.1f} docs/s ({run.workers} worker(s), {run.units} units, "
          f"extraction and writing); ingest {run.ingest_seconds:.2f} s")
    print(f"rows {run.summary.rows_written}, "
          f"skipped {dict(sorted(run.summary.skipped_by_reason.items()))}")
    for name, secs in seconds.items():
        print(f"{name}: {secs:.2f} s = {len(pages) / secs:.1f} docs/s (1 process)")

    _, outcomes, got = results["warcpack"]
    extensive = results["htmldate (extensive)"][2]
    misses = []
    for i, page in enumerate(pages):
        if outcomes[i] == "tp":
            continue
        row = run.rows.get(page.url)
        published = ((row or {}).get("dates") or {}).get("published") or {}
        source = published.get("source") or ("no row: " + run.skips.get(page.url, "?")
                                             if row is None else "-")
        modified = (row or {}).get("date_modified_day") or "-"
        misses.append([labels[i], got[i] or "-", _delta(labels[i], got[i]), source,
                       published.get("precision") or "-", modified,
                       extensive[i] or "-", page.url])
    misses.sort(key=lambda m: (m[1] != "-", m[3], m[7]))
    print(f"\nwarcpack misses: {len(misses)} (source/precision of the published date found; "
          f"modified: warcpack's modified day; htmldate: extensive mode)")
    print(table(["label", "got", "off", "source", "precision", "modified", "htmldate", "url"],
                misses, right=set()))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv)
    logging.disable(logging.WARNING)  # htmldate's per-page warnings are not results

    pages, labels = load(args.shared)
    day = capture_day(labels)
    capture = f"{day.isoformat()}T00:00:00Z"
    workers = args.workers or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-dates-") as tmp:
        workdir = args.out or Path(tmp) / "work"
        run = build_pages(pages, workdir, warc_date=capture, workers=workers,
                          text_mode=args.text_mode)

    samples = resamples(len(pages))
    found = {"warcpack": [(run.rows.get(p.url) or {}).get("date_published_day") for p in pages]}
    htmls = [decode_html(p.html) for p in pages]
    seconds: dict[str, float] = {}
    for name, find in htmldate_modes(day.isoformat()).items():
        found[name], seconds[name] = run_baseline(find, htmls)
    results = {}
    for name, days in found.items():
        scores, outcomes = score_dates(labels, days, samples)
        results[name] = (scores, outcomes, days)
    report(results, pages, labels, run, capture, seconds)

    if args.json:
        write_json(args.json, {
            "benchmark": "dates",
            "warc_date": capture,
            "systems": {name: r[0].to_json() for name, r in results.items()},
            "build": {"pages": run.pages, "workers": run.workers, "units": run.units,
                      "seconds": round(run.build_seconds, 3),
                      "docs_per_second": round(run.docs_per_second, 2),
                      "skipped_by_reason": dict(sorted(run.summary.skipped_by_reason.items()))},
            "baseline_seconds": {k: round(v, 3) for k, v in seconds.items()},
            "pages": {p.key: {"url": p.url, "label": labels[i],
                              **{name: r[2][i] for name, r in results.items()}}
                      for i, p in enumerate(pages)},
        })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
