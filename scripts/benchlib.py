"""What the benchmark scripts share: benchmark pages into a WARC, a fresh store built by warcpack,
and the scoring rules of the two benchmarks, written once so every system is scored the same way.

The scripts run warcpack the way a user does (WARC -> `ingest` -> `build` -> rows), so a figure
measures the whole path and not the extractor called by hand. Scoring follows the READMEs of
`benchmark/article-extraction` (the source's `evaluate.py`) and `benchmark/dates` (the source's
`tests/evaluation.py`).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared"
BOOTSTRAP = 1000
SEED = 20200201  # fixed: the same resamples on every run and for every system
SHINGLE = 4

# --- pages and the WARC ------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchPage:
    """One benchmark page: its key in the ground truth, its URL and its HTML bytes."""

    key: str
    url: str
    html: bytes


def read_gz(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes())


def decode_html(data: bytes) -> str:
    """Page bytes as the benchmarks' sources read them: UTF-8, else the detected charset, else
    UTF-8 with replacement characters."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding:
        try:
            return data.decode(best.encoding)
        except (LookupError, UnicodeDecodeError):
            pass
    return data.decode("utf-8", errors="replace")


def write_warc(path: Path, pages: Iterable[BenchPage], warc_date: str) -> int:
    """Write each page as a `response` record (HTTP/1.1 200, text/html; charset=utf-8) captured
    at `warc_date` (ISO 8601, e.g. 2020-02-01T00:00:00Z); returns the number written."""
    count = 0
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for page in pages:
            http = StatusAndHeaders(
                "200 OK",
                [("Content-Type", "text/html; charset=utf-8"),
                 ("Content-Length", str(len(page.html)))],
                protocol="HTTP/1.1",
            )
            record = writer.create_warc_record(
                page.url, "response", payload=io.BytesIO(page.html), http_headers=http,
                warc_headers_dict={"WARC-Date": warc_date},
            )
            writer.write_record(record)
            count += 1
    return count


@dataclass
class BuildRun:
    """The rows warcpack built from the benchmark pages, and what it took."""

    rows: dict[str, dict[str, Any]]  # by URL
    skips: dict[str, str]  # URL -> why its record gave no row
    summary: Any  # warcpack.build.BuildSummary
    pages: int
    ingest_seconds: float
    build_seconds: float
    workers: int  # processes the build could use: at most one per work unit
    units: int

    @property
    def docs_per_second(self) -> float:
        return self.pages / self.build_seconds if self.build_seconds > 0 else float("inf")


def read_rows(corpus: Path) -> dict[str, dict[str, Any]]:
    """The text-config rows of a built corpus, by URL (the benchmark URLs are unique)."""
    rows: dict[str, dict[str, Any]] = {}
    for shard in sorted((corpus / "data" / "text").glob("*.jsonl")):
        with shard.open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if row["url"] in rows:
                    raise ValueError(f"{shard}: two rows for {row['url']}")
                rows[row["url"]] = row
    return rows


def read_skips(store: Path, corpus: Path) -> dict[str, str]:
    """Why each record without a row gave none ("reason: detail"), by URL."""
    from warcpack.store import Store

    where = {(e.filename, e.offset): e.url for e in Store.open(store).index_entries()}
    saved = json.loads((corpus / "build-summary.json").read_text("utf-8"))
    return {where.get((s["warc_file"], s["offset"]), f"{s['warc_file']}@{s['offset']}"):
            ": ".join(x for x in (s["reason"], s.get("detail")) if x)
            for s in saved["skipped"]}


def build_pages(pages: Sequence[BenchPage], workdir: Path, *, warc_date: str,
                workers: int, unit_records: int | None = None,
                text_mode: str = "accurate") -> BuildRun:
    """WARC -> fresh store -> `warcpack.build` (every row in the text config) -> rows by URL.

    `workdir` must be empty or absent; it keeps `bench.warc.gz`, `store/` and `corpus/`.
    The pages fit in one default work unit (one process); unless `unit_records` is given, they
    are cut into four units per worker so that every worker has pages to extract."""
    from warcpack.build import build
    from warcpack.store.ingest import ingest

    workdir.mkdir(parents=True, exist_ok=True)
    if any(workdir.iterdir()):
        raise SystemExit(f"{workdir} is not empty: the benchmark needs a fresh folder")
    warc = workdir / "bench.warc.gz"
    write_warc(warc, pages, warc_date)
    started = time.perf_counter()
    ingest([warc], workdir / "store")
    ingested = time.perf_counter()
    unit_records = unit_records or max(1, math.ceil(len(pages) / (4 * workers)))
    units = math.ceil(len(pages) / unit_records)
    summary = build(workdir / "store", workdir / "corpus", workers=workers, text_policy="all",
                    progress=False, unit_records=unit_records, text_mode=text_mode)
    built = time.perf_counter()
    corpus = workdir / "corpus"
    return BuildRun(read_rows(corpus), read_skips(workdir / "store", corpus), summary,
                    len(pages), ingested - started, built - ingested, min(workers, units), units)


# --- bootstrap ---------------------------------------------------------------------------------


def resamples(n_items: int, n: int = BOOTSTRAP, seed: int = SEED) -> list[list[int]]:
    """`n` bootstrap resamples (indices drawn with replacement), the same for every system."""
    rng = random.Random(seed)
    return [[rng.randrange(n_items) for _ in range(n_items)] for _ in range(n)]


def bootstrap_sd(items: Sequence[Any], statistic: Callable[[Sequence[Any]], dict[str, float]],
                 samples: list[list[int]]) -> dict[str, float]:
    """Standard deviation of each figure of `statistic` over the resamples; a resample where a
    figure is undefined (NaN: no page defines it) is left out for that figure."""
    values: dict[str, list[float]] = {}
    for indices in samples:
        for key, value in statistic([items[i] for i in indices]).items():
            kept = values.setdefault(key, [])
            if not math.isnan(value):
                kept.append(value)
    return {key: statistics.stdev(v) if len(v) > 1 else math.nan for key, v in values.items()}


# --- article text: shingle scoring ---------------------------------------------------------------

_TOKEN = re.compile(r"\w+")


def tokens(text: str | None) -> list[str]:
    """Unicode word characters, case kept; punctuation and whitespace dropped."""
    return _TOKEN.findall(text or "")


def shingles(text: str | None, n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    """Every run of `n` consecutive tokens, as a multiset; fewer than `n` tokens give one shorter
    shingle, no token gives none."""
    words = tokens(text)
    runs = (tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1)))
    return Counter(run for run in runs if run)


@dataclass(frozen=True)
class PageScore:
    """TP/FP/FN of one page, normalised to sum to 1 (every page weighs the same), and whether
    the predicted token list equals the true one."""

    tp: float
    fp: float
    fn: float
    exact: bool

    @property
    def precision(self) -> float | None:
        """None when the page predicts nothing: it is left out of the precision average."""
        if self.tp + self.fp == 0:
            return None
        return 1.0 if self.fp == self.fn == 0 else self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        """None when the page has no true text: it is left out of the recall average."""
        if self.tp + self.fn == 0:
            return None
        return 1.0 if self.fp == self.fn == 0 else self.tp / (self.tp + self.fn)

    @property
    def f1(self) -> float:
        """Per-page F1, only for ranking pages (the benchmark's F1 is that of the averages)."""
        p, r = self.precision or 0.0, self.recall or 0.0
        return 2 * p * r / (p + r) if p + r else 0.0


def match_page(true: str | None, pred: str | None, n: int = SHINGLE) -> PageScore:
    """Shingle TP/FP/FN of a predicted text against the true one."""
    want, got = shingles(true, n), shingles(pred, n)
    tp = fp = fn = 0.0
    for key in want.keys() | got.keys():
        t, p = want.get(key, 0), got.get(key, 0)
        tp += min(t, p)
        fp += max(0, p - t)
        fn += max(0, t - p)
    total = tp + fp + fn
    if total > 0:
        tp, fp, fn = tp / total, fp / total, fn / total
    return PageScore(tp, fp, fn, tokens(true) == tokens(pred))


def _mean(values: list[float]) -> float:
    """The mean, or NaN when no page defines the figure (e.g. a system that predicts nothing)."""
    return statistics.mean(values) if values else math.nan


def aggregate(pages: Sequence[PageScore]) -> dict[str, float]:
    """Precision and recall averaged over the pages where they are defined (NaN if none is),
    F1 of those two averages, and the share of pages predicted exactly."""
    precision = _mean([p.precision for p in pages if p.precision is not None])
    recall = _mean([p.recall for p in pages if p.recall is not None])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = sum(p.exact for p in pages) / len(pages) if pages else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "accuracy": accuracy}


@dataclass(frozen=True)
class Scores:
    """A system's figures on a benchmark, each with its bootstrap standard deviation."""

    figures: dict[str, float]
    sd: dict[str, float]
    pages: int

    def to_json(self) -> dict[str, Any]:
        return {"pages": self.pages, **self.figures, **{f"{k}_sd": v for k, v in self.sd.items()}}


def score_texts(truths: Sequence[str], preds: Sequence[str | None],
                samples: list[list[int]]) -> tuple[Scores, list[PageScore]]:
    """Score predicted texts (None: no prediction) against the true ones, page by page."""
    if len(truths) != len(preds):
        raise ValueError("one prediction per true text is needed")
    pages = [match_page(t, p) for t, p in zip(truths, preds, strict=True)]
    return Scores(aggregate(pages), bootstrap_sd(pages, aggregate, samples), len(pages)), pages


# --- dates: exact-day scoring --------------------------------------------------------------------


def date_outcome(label: str, got: str | None) -> str:
    """"tp" for the labelled day, "fn" for no date, "fp" for any other date."""
    if got is None:
        return "fn"
    return "tp" if got == label else "fp"


def date_figures(outcomes: Sequence[str]) -> dict[str, float]:
    """Accuracy (no label is null, so TN = 0), precision, recall and F1 of exact-day answers."""
    count = Counter(outcomes)
    tp, fp, fn = count["tp"], count["fp"], count["fn"]
    return {
        "accuracy": tp / len(outcomes) if outcomes else 0.0,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
    }


def score_dates(labels: Sequence[str], got: Sequence[str | None],
                samples: list[list[int]]) -> tuple[Scores, list[str]]:
    """Score found days (None: no date) against the labelled days, page by page."""
    if len(labels) != len(got):
        raise ValueError("one answer per label is needed")
    outcomes = [date_outcome(label, g) for label, g in zip(labels, got, strict=True)]
    counts = Counter(outcomes)
    figures = {**date_figures(outcomes), "tp": counts["tp"], "fp": counts["fp"],
               "fn": counts["fn"]}
    sd = bootstrap_sd(outcomes, date_figures, samples)
    return Scores(figures, sd, len(outcomes)), outcomes


# --- printing ------------------------------------------------------------------------------------


def table(header: Sequence[str], rows: Iterable[Sequence[str]], right: set[int]) -> str:
    """A plain aligned text table (copyable into a README, never truncated)."""
    rows = [list(map(str, r)) for r in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def pm(value: float, sd: float) -> str:
    return f"{value:.3f} ± {sd:.3f}"


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")


def parse_args(doc: str, argv: list[str] | None = None) -> argparse.Namespace:
    """The options both benchmark scripts take."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                        help="the shared data folder (default: ../shared from the repo root)")
    parser.add_argument("--workers", type=int, default=None,
                        help="build processes (default: one per core)")
    parser.add_argument("--out", type=Path, default=None,
                        help="keep the WARC, store and corpus in this new folder")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    from warcpack.textmode import ACCURATE, TEXT_MODES

    parser.add_argument("--text-mode", default=ACCURATE, choices=TEXT_MODES,
                        help="warcpack's text mode (default: accurate)")
    return parser.parse_args(argv)
