"""Main-text extraction benchmark: warcpack's rows against trafilatura alone, on the same pages.

Usage: python scripts/bench_extraction.py [--shared PATH] [--workers N] [--out DIR] [--json PATH]

The pages of `<shared>/benchmark/article-extraction/html/` are written into a WARC as HTTP 200
responses with their ground-truth URLs (captured 2020-02-01, after the benchmark was made),
ingested into a fresh store and built by `warcpack.build`; each row's `text` is scored against
`ground-truth.json` with the benchmark's own rules (4-token shingles, per-page normalised TP/FP/FN,
precision and recall averaged over pages, F1 of the averages, exact-token accuracy). trafilatura
is scored on the same decoded pages in three settings. A page without a row is an empty
prediction. ± is one standard deviation over 1000 bootstrap resamples of the pages (fixed seed,
the same resamples for every system; the source's evaluate.py prints 1.96 times it).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (  # noqa: E402
    BenchPage,
    BuildRun,
    PageScore,
    Scores,
    build_pages,
    decode_html,
    parse_args,
    pm,
    read_gz,
    resamples,
    score_texts,
    table,
    tokens,
    write_json,
)

WARC_DATE = "2020-02-01T00:00:00Z"  # after the benchmark pages were fetched (January 2020)
WORST = 10


def load(shared: Path) -> tuple[list[BenchPage], list[str]]:
    """The benchmark pages (sorted by id) and their true article texts."""
    bench = shared / "benchmark" / "article-extraction"
    truth = json.loads((bench / "ground-truth.json").read_text("utf-8"))
    files = {p.name[: -len(".html.gz")]: p for p in (bench / "html").glob("*.html.gz")}
    if set(files) != set(truth):
        raise SystemExit(f"{bench}: html/ and ground-truth.json do not name the same pages")
    keys = sorted(truth)
    pages = [BenchPage(k, truth[k]["url"], read_gz(files[k])) for k in keys]
    return pages, [truth[k].get("articleBody", "") for k in keys]


def trafilatura_modes() -> dict[str, Callable[[str], str | None]]:
    import trafilatura

    return {
        "trafilatura (default)": lambda html: trafilatura.extract(html),
        "trafilatura (no comments)": lambda html: trafilatura.extract(
            html, include_comments=False),
        "trafilatura (no comments, precision)": lambda html: trafilatura.extract(
            html, include_comments=False, favor_precision=True),
    }


def run_baseline(extract: Callable[[str], str | None], htmls: list[str]) -> tuple[list, float]:
    """Predictions of one baseline (None where it finds nothing or fails) and its run time."""
    started = time.perf_counter()
    preds: list[str | None] = []
    for html in htmls:
        try:
            preds.append(extract(html))
        except Exception:  # a baseline failing on a page is an empty prediction, as for warcpack
            preds.append(None)
    return preds, time.perf_counter() - started


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def report(results: dict[str, tuple[Scores, list[PageScore], list[str | None]]],
           pages: list[BenchPage], truths: list[str], run: BuildRun,
           seconds: dict[str, float]) -> None:
    """The table of systems, the build's speed and warcpack's worst pages."""
    print(f"article extraction: {len(pages)} pages, ± = 1 s.d. over 1000 bootstrap resamples\n")
    rows = []
    for name, (scores, _, preds) in results.items():
        f, sd = scores.figures, scores.sd
        empty = sum(not tokens(p) for p in preds)
        rows.append([name, pm(f["precision"], sd["precision"]), pm(f["recall"], sd["recall"]),
                     pm(f["f1"], sd["f1"]), f"{f['accuracy']:.3f}", str(scores.pages),
                     str(empty)])
    print(table(["system", "precision", "recall", "F1", "accuracy", "pages", "empty"], rows,
                right={1, 2, 3, 4, 5, 6}))

    summary = run.summary
    print(f"\nwarcpack build: {run.pages} pages in {run.build_seconds:.2f} s "
          f"= {run.docs_per_second:.1f} docs/s ({run.workers} worker(s), {run.units} units, "
          f"extraction and writing); ingest {run.ingest_seconds:.2f} s")
    print(f"rows {summary.rows_written}, skipped {dict(sorted(summary.skipped_by_reason.items()))}")
    for name, secs in seconds.items():
        print(f"{name}: {secs:.2f} s = {len(pages) / secs:.1f} docs/s (1 process, extract only)")

    _, page_scores, preds = results["warcpack"]
    order = sorted(range(len(pages)), key=lambda i: (page_scores[i].f1, pages[i].key))
    print(f"\n{WORST} worst pages of warcpack (per-page F1; tokens: predicted/true)")
    worst = []
    for i in order[:WORST]:
        s, page = page_scores[i], pages[i]
        why = run.skips.get(page.url, "") if preds[i] is None else ""
        worst.append([_fmt(s.precision), _fmt(s.recall), f"{s.f1:.3f}",
                      f"{len(tokens(preds[i]))}/{len(tokens(truths[i]))}",
                      page.url + (f"  [no row: {why}]" if why else "")])
    print(table(["P", "R", "F1", "tokens", "url"], worst, right={0, 1, 2, 3}))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv)
    logging.disable(logging.WARNING)  # trafilatura's per-page warnings are not results

    pages, truths = load(args.shared)
    workers = args.workers or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-extraction-") as tmp:
        workdir = args.out or Path(tmp) / "work"
        run = build_pages(pages, workdir, warc_date=WARC_DATE, workers=workers,
                          text_mode=args.text_mode)

    samples = resamples(len(pages))
    preds = {"warcpack": [run.rows.get(p.url, {}).get("text") for p in pages]}
    htmls = [decode_html(p.html) for p in pages]
    seconds: dict[str, float] = {}
    for name, extract in trafilatura_modes().items():
        preds[name], seconds[name] = run_baseline(extract, htmls)
    results = {}
    for name, predicted in preds.items():
        scores, page_scores = score_texts(truths, predicted, samples)
        results[name] = (scores, page_scores, predicted)
    report(results, pages, truths, run, seconds)

    if args.json:
        write_json(args.json, {
            "benchmark": "article-extraction",
            "warc_date": WARC_DATE,
            "systems": {name: r[0].to_json() for name, r in results.items()},
            "build": {"pages": run.pages, "workers": run.workers, "units": run.units,
                      "seconds": round(run.build_seconds, 3),
                      "docs_per_second": round(run.docs_per_second, 2),
                      "skipped_by_reason": dict(sorted(run.summary.skipped_by_reason.items()))},
            "baseline_seconds": {k: round(v, 3) for k, v in seconds.items()},
            "pages": {p.key: {"url": p.url, **{
                name: {"precision": r[1][i].precision, "recall": r[1][i].recall,
                       "f1": r[1][i].f1, "exact": r[1][i].exact}
                for name, r in results.items()}} for i, p in enumerate(pages)},
        })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
