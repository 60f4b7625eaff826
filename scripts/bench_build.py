"""Build throughput: `warcpack build` beside a bare extraction loop and a datatrove pipeline.

Usage: python scripts/bench_build.py [--shared PATH] [--records N] [--rounds R] [--work DIR]
           [--json PATH] [--readme PATH | --no-readme] [--large N] [--check-rebuild]
           [--datatrove-defaults]

The real pages of `<shared>/benchmark/article-extraction/html/` are copied into at least N
(default 2,000) distinct records, each copy made unique (its own URL and a marker comment, so
every payload digest differs), written as HTTP 200 responses into 8 WARC files (so that every
system can share them among workers; datatrove splits work by file). Every system then reads the
same WARC files, in a process of its own, timed from start to exit, its peak memory being the
largest sum of the resident sets of all its processes, sampled every 0.2 s. Before each run,
dirty pages are written out (`sync`) and the bench waits until the machine has been idle for a
second (at most 15 s), so that no run pays for the teardown or the file writes of the one
before:

- bare loop: warcio + `trafilatura.bare_extraction(html, url=..., with_metadata=True,
  include_comments=False)`, one process: the least any extraction-based build can do.
- `warcpack build --workers 1` and `--workers 2`: reading and checking every record, extraction
  (text, metadata, structured data, dates, licence), validation against the schema, provenance,
  revisions, JSONL + parquet for both configs, card, croissant, summary. Each has a fresh cache.
  Then the same with `--text-mode fast` (one trafilatura pass for the main text instead of two).
- datatrove (installed from the `bench` extra): WarcReader -> Trafilatura -> JsonlWriter with 1
  and 2 tasks, with the extraction settings above (no precision mode, no deduplication, metadata
  on, a 60 s timeout instead of 1 s); it extracts in a helper process next to each task.
- rebuild: 1% new records added to the store in a new WARC file, then `warcpack build --workers
  2` again with the cache of the full build.

docs/s counts input records (every system gets all of them: the WARC headers carry
`WARC-Identified-Payload-Type: text/html`, so datatrove does not guess types). Rounds run the
systems one after another, R times, every other round in the opposite order (the machine's
speed drifts over minutes; with an even R a steady drift cancels out of the medians); the table
gives the median and range of each figure, and ratios are taken within a round. The table is
written into README.md between `<!-- bench_build:start -->` and `<!-- bench_build:end -->`.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared"
PYTHON = sys.executable
WARCPACK = str(Path(sys.executable).with_name("warcpack"))
FILES = 8
WARC_DATE = "2020-02-01T00:00:00Z"
START, END = "<!-- bench_build:start -->", "<!-- bench_build:end -->"
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1

BARE = r"""
import sys
from warcio.archiveiterator import ArchiveIterator
from trafilatura import bare_extraction

docs = 0
for path in sys.argv[1:]:
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type != "response":
                continue
            data = record.content_stream().read()
            try:
                html = data.decode("utf-8")
            except UnicodeDecodeError:
                html = data  # trafilatura detects the charset
            url = record.rec_headers.get_header("WARC-Target-URI")
            doc = bare_extraction(html, url=url, with_metadata=True, include_comments=False)
            docs += doc is not None
print(docs)
"""

DATATROVE = r"""
import sys
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.readers import WarcReader
from datatrove.pipeline.writers import JsonlWriter

warcs, out, logs, tasks, defaults = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), \
    sys.argv[5] == "defaults"
step = Trafilatura() if defaults else Trafilatura(
    favour_precision=False, deduplicate=False, timeout=60, with_metadata=True,
    include_tables=True)
LocalPipelineExecutor(
    pipeline=[WarcReader(warcs, glob_pattern="*.warc.gz"), step, JsonlWriter(out)],
    tasks=tasks, workers=tasks, logging_dir=logs,
).run()
"""


# --- the records -----------------------------------------------------------------------------


def load_pages(shared: Path) -> list[tuple[str, bytes]]:
    """(url, html) of every benchmark page, sorted by id."""
    bench = shared / "benchmark" / "article-extraction"
    truth = json.loads((bench / "ground-truth.json").read_text("utf-8"))
    return [(truth[key]["url"], gzip.decompress((bench / "html" / f"{key}.html.gz").read_bytes()))
            for key in sorted(truth)]


def unique_copy(pages: list[tuple[str, bytes]], i: int) -> tuple[str, bytes]:
    """The i-th record: page i mod n with its own URL and a marker making its payload unique."""
    url, html = pages[i % len(pages)]
    marker = f"<!-- copy {i} -->".encode()
    at = html.rfind(b"</body>")
    body = html[:at] + marker + html[at:] if at >= 0 else html + marker
    return f"{url}{'&' if '?' in url else '?'}copy={i}", body


def write_warcs(folder: Path, pages: list[tuple[str, bytes]], first: int, count: int,
                files: int, prefix: str, payload_type: bool = True) -> list[Path]:
    """Records first..first+count-1 spread over `files` WARC files, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{prefix}-{n:02d}.warc.gz" for n in range(files)]
    per = -(-count // files)
    for n, path in enumerate(paths):
        with path.open("wb") as fh:
            writer = WARCWriter(fh, gzip=True)
            for i in range(first + n * per, min(first + count, first + (n + 1) * per)):
                url, body = unique_copy(pages, i)
                http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                                   ("Content-Length", str(len(body)))],
                                        protocol="HTTP/1.1")
                headers = {"WARC-Date": WARC_DATE}
                if payload_type:
                    headers["WARC-Identified-Payload-Type"] = "text/html"
                writer.write_record(writer.create_warc_record(
                    url, "response", payload=io.BytesIO(body), http_headers=http,
                    warc_headers_dict=headers))
    return paths


# --- running and measuring ---------------------------------------------------------------------


def _tree(root: int) -> list[int]:
    """The pids of a process and all its descendants."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            continue
    return out


def _rss_and_cpu(pid: int) -> tuple[int, int]:
    """(resident bytes, CPU clock ticks used so far) of a process; zeros once it is gone."""
    try:
        with open(f"/proc/{pid}/statm") as fh:
            rss = int(fh.read().split()[1]) * PAGE
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        fields = stat[stat.rfind(b")") + 2:].split()
        return rss, int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0, 0


def _busy_ticks() -> int:
    """CPU clock ticks the whole machine spent busy since boot."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    return sum(values) - values[3] - values[4]  # all but idle and iowait


@dataclass
class Run:
    seconds: float
    peak_rss: int  # bytes, all processes together
    stdout: str
    others: float  # share of the machine's CPUs busy with other processes meanwhile
    cpu: float  # CPU seconds of all its processes


def settle(idle: float = 0.05, span: float = 1.0, limit: float = 15.0) -> None:
    """Write dirty pages out, then wait until the machine's CPUs have been idle (busy under
    `idle` of them) for `span` seconds, at most `limit` seconds: a run should not pay for the
    run before it (processes still ending, the kernel writing its files back)."""
    os.sync()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = _busy_ticks()
        time.sleep(span)
        if (_busy_ticks() - before) / (TICKS * span * CPUS) < idle:
            return


def run(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Run a command to its end: wall time, peak total resident memory of its process tree, and
    how busy the machine was with other work meanwhile (it is shared)."""
    settle()
    peak = 0
    ticks: dict[int, int] = {}
    started, busy = time.perf_counter(), _busy_ticks()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.wait(0.2):
            total = 0
            for pid in _tree(proc.pid):
                rss, used = _rss_and_cpu(pid)
                total += rss
                ticks[pid] = max(ticks.get(pid, 0), used)
            peak = max(peak, total)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    others = (_busy_ticks() - busy - sum(ticks.values())) / (TICKS * seconds * CPUS)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}... failed ({proc.returncode}):\n{err[-3000:]}")
    return Run(seconds, peak, out, max(0.0, others), sum(ticks.values()) / TICKS)


def warcpack_build(store: Path, out: Path, cache: Path, workers: int,
                   text_mode: str = "accurate") -> Run:
    return run([WARCPACK, "build", "--store", str(store), "--out", str(out), "--workers",
                str(workers), "--no-progress", "--cache", str(cache), "--text-mode", text_mode])


def rows_written(out: Path) -> int:
    return json.loads((out / "build-summary.json").read_text("utf-8"))["rows_written"]


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def datatrove_docs(out: Path) -> int:
    count = 0
    for path in out.rglob("*.jsonl*"):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            count += sum(1 for _ in fh)
    return count


def has_datatrove() -> bool:
    found = subprocess.run([PYTHON, "-c", "import datatrove.pipeline.readers, magic, cchardet"],
                           capture_output=True)
    return found.returncode == 0


def libmagic_drops(pages: list[tuple[str, bytes]], work: Path) -> tuple[int, int, str]:
    """(pages datatrove's WarcReader drops, pages, the types it guessed) when the WARC has no
    WARC-Identified-Payload-Type, as in WARCs from wget, warcio or warcpack capture."""
    warc = write_warcs(work / "magic", pages, 0, len(pages), 1, "magic", payload_type=False)[0]
    code = (
        "import sys, collections\n"
        "from warcio.archiveiterator import ArchiveIterator\n"
        "import magic\n"
        "from datatrove.pipeline.readers.warc import process_record\n"
        "def records():\n"
        "    with open(sys.argv[1], 'rb') as fh:\n"
        "        yield from (r for r in ArchiveIterator(fh) if r.rec_type == 'response')\n"
        "dropped = [process_record(r) is None for r in records()]\n"
        "kinds = collections.Counter(magic.from_buffer(r.content_stream().read(), mime=True)\n"
        "                            for r, d in zip(records(), dropped) if d)\n"
        "print(sum(dropped), len(dropped), ', '.join(f'{k} {v}' for k, v in kinds.most_common()))\n"
    )
    out = run([PYTHON, "-c", code, str(warc)]).stdout.split(None, 2)
    return int(out[0]), int(out[1]), (out[2].strip() if len(out) > 2 else "")


# --- the benchmark -----------------------------------------------------------------------------


@dataclass
class Figures:
    """Per system: seconds, peak RSS and documents written, one entry per round."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    rss: dict[str, list[int]] = field(default_factory=dict)
    docs: dict[str, list[int]] = field(default_factory=dict)
    others: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    records: int = 0
    added: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, result: Run, docs: int) -> None:
        self.seconds.setdefault(name, []).append(result.seconds)
        self.rss.setdefault(name, []).append(result.peak_rss)
        self.docs.setdefault(name, []).append(docs)
        self.others.setdefault(name, []).append(result.others)
        self.cpu.setdefault(name, []).append(result.cpu)
        print(f"  {name}: {result.seconds:.1f} s, {self.records / result.seconds:.1f} docs/s, "
              f"{1000 * result.cpu / self.records:.0f} CPU ms/doc, peak RSS "
              f"{result.peak_rss / 2**20:.0f} MiB, {docs} docs, other load {result.others:.0%}",
              flush=True)

    def rate(self, name: str) -> list[float]:
        return [self.records / s for s in self.seconds[name]]

    def ratio(self, a: str, b: str) -> list[float]:
        """docs/s of a over docs/s of b, round by round."""
        return [sb / sa for sa, sb in zip(self.seconds[a], self.seconds[b], strict=True)]


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    med = statistics.median(values)
    if len(values) == 1:
        return fmt.format(med)
    return f"{fmt.format(med)} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def warcpack_name(workers: int, mode: str) -> str:
    """The table's name of a warcpack run: the default text mode, or `--text-mode fast`."""
    flag = " --text-mode fast" if mode == "fast" else ""
    return f"warcpack build{flag}, {workers} worker{'s' if workers > 1 else ''}"


def one_round(figs: Figures, work: Path, base_store: Path, warcs: Path, added: list[Path],
              datatrove: bool, n: int) -> None:
    """Every system once, in the opposite order every other round (the machine's speed drifts
    over minutes: alternating cancels a steady drift from the ratios' medians); then the
    rebuild, which grows this round's copy of the store."""
    here = work / f"round-{n}"
    shutil.rmtree(here, ignore_errors=True)
    here.mkdir(parents=True)
    store = here / "store"
    shutil.copytree(base_store, store)
    print(f"round {n}:", flush=True)
    files = sorted(str(p) for p in warcs.glob("*.warc.gz"))
    outs: dict[tuple[str, int], Path] = {}

    def bare() -> None:
        result = run([PYTHON, "-c", BARE, *files])
        figs.add("bare loop", result, int(result.stdout.strip() or 0))

    def warcpack(mode: str, workers: int) -> None:
        outs[mode, workers] = here / f"corpus-{mode}-{workers}"
        result = warcpack_build(store, outs[mode, workers], here / f"cache-{mode}-{workers}",
                                workers, mode)
        figs.add(warcpack_name(workers, mode), result, rows_written(outs[mode, workers]))

    def datatrove_run(tasks: int) -> None:
        out = here / f"datatrove-{tasks}"
        result = run([PYTHON, "-c", DATATROVE, str(warcs), str(out),
                      str(here / f"datatrove-logs-{tasks}"), str(tasks), "same"])
        figs.add(f"datatrove, {tasks} task{'s' if tasks > 1 else ''}", result,
                 datatrove_docs(out))

    steps = [bare] + [lambda m=m, w=w: warcpack(m, w) for m in ("accurate", "fast")
                      for w in (1, 2)]
    steps += [lambda t=t: datatrove_run(t) for t in (1, 2)] if datatrove else []
    for step in steps if n % 2 else reversed(steps):
        step()
    for mode in ("accurate", "fast"):
        if tree_bytes(outs[mode, 1]) != tree_bytes(outs[mode, 2]):
            raise SystemExit(f"{outs[mode, 1]} and {outs[mode, 2]} differ: the build is not "
                             "deterministic")
    run([WARCPACK, "ingest", *map(str, added), "--store", str(store)])
    rebuilt = warcpack_build(store, outs["accurate", 2], here / "cache-accurate-2", 2)
    figs.add("rebuild after +1% records, 2 workers", rebuilt, rows_written(outs["accurate", 2]))


def table(figs: Figures, datatrove: bool) -> str:
    """The Markdown table and ratio lines for the README."""
    bare = "bare loop"
    lines = [
        f"{figs.records:,} distinct records (the {121} benchmark pages, each copy unique) in "
        f"{FILES} WARC files, {CPUS} cores; {len(figs.seconds[bare])} rounds (systems in the "
        "opposite order every other round), median (range); docs/s counts input records per "
        "second of wall time, process start to exit; CPU ms/doc is the CPU time of all the "
        "run's processes per record; *other load* is the share of the machine's CPU time "
        "other users' processes took meanwhile (the machine is shared: a run with two "
        "processes suffers from it more than a run with one).",
        "",
        "| system | docs/s | × bare loop | CPU ms/doc | peak RSS, all processes | "
        "documents out | other load |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in figs.seconds:
        mib = [r / 2**20 for r in figs.rss[name]]
        docs = figs.docs[name]
        count = str(docs[0]) if len(set(docs)) == 1 else f"{min(docs)}-{max(docs)}"
        load = [100 * x for x in figs.others[name]]
        cpu = [1000 * c / figs.records for c in figs.cpu[name]]
        lines.append(f"| {name} | {spread(figs.rate(name), '{:.1f}')} | "
                     f"{spread(figs.ratio(name, bare))} | {spread(cpu, '{:.0f}')} | "
                     f"{spread(mib, '{:.0f}')} MiB | {count} | {spread(load, '{:.0f}')}% |")
    w2 = warcpack_name(2, "accurate")
    rebuild = "rebuild after +1% records, 2 workers"
    lines.append("")
    for mode in ("accurate", "fast"):
        one, two = warcpack_name(1, mode), warcpack_name(2, mode)
        label = "`warcpack build" + (" --text-mode fast" if mode == "fast" else "") + "`"
        work = [w / b for w, b in zip(figs.cpu[one], figs.cpu[bare], strict=True)]
        lines += [
            f"- {label} with 2 workers / bare loop: {spread(figs.ratio(two, bare))}; CPU time "
            f"per record (1 worker) / bare loop: {spread(work)}, so two idle cores could reach "
            f"at most {spread([2 / w for w in work])}× the bare loop",
        ]
        if datatrove:
            lines += [
                f"- {label} / datatrove at 1 worker: "
                f"{spread(figs.ratio(one, 'datatrove, 1 task'))}; at 2 workers: "
                f"{spread(figs.ratio(two, 'datatrove, 2 tasks'))}",
            ]
    share = [r / f for r, f in zip(figs.seconds[rebuild], figs.seconds[w2], strict=True)]
    lines += [
        f"- rebuild after adding {figs.added} records ({figs.added / figs.records:.0%}): "
        f"{spread([100 * s for s in share], '{:.1f}')}% of the full build's time",
    ]
    lines += [f"- {note}" for note in figs.notes]
    return "\n".join(lines)


def write_readme(path: Path, text: str) -> None:
    readme = path.read_text("utf-8")
    if START not in readme or END not in readme:
        raise SystemExit(f"{path}: no {START} ... {END} markers to write the table between")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")


def large_store(figs: Figures, work: Path, pages: list[tuple[str, bytes]], count: int) -> None:
    """Peak memory of a build of a store 10x the size (one round, 2 workers)."""
    folder = work / f"large-{count}"
    shutil.rmtree(folder, ignore_errors=True)
    warcs = write_warcs(folder / "warcs", pages, 0, count, FILES * 4, "large")
    run([WARCPACK, "ingest", *map(str, warcs), "--store", str(folder / "store")])
    result = warcpack_build(folder / "store", folder / "corpus", folder / "cache", 2)
    small = statistics.median(figs.rss[warcpack_name(2, "accurate")])
    figs.notes.append(
        f"a {count:,}-record store, 2 workers: {count / result.seconds:.1f} docs/s, peak RSS "
        f"{result.peak_rss / 2**20:.0f} MiB ({result.peak_rss / small:.2f}× the "
        f"{figs.records:,}-record store's)")
    print(f"  large: {result.seconds:.1f} s, peak RSS {result.peak_rss / 2**20:.0f} MiB, other "
          f"load {result.others:.0%}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None, help="keep WARCs, stores and corpora")
    parser.add_argument("--json", type=Path, default=None, help="write the raw figures here")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--large", type=int, default=0,
                        help="also build a store of this many records and compare peak RSS")
    parser.add_argument("--check-rebuild", action="store_true",
                        help="check the rebuild equals a fresh build of the grown store")
    parser.add_argument("--datatrove-defaults", action="store_true",
                        help="also run datatrove with its default settings (1 and 2 tasks)")
    args = parser.parse_args(argv)
    if args.records < 100:
        raise SystemExit("--records must be at least 100 (1% of it is added for the rebuild)")
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-build-"))
    pages = load_pages(args.shared)
    figs = Figures(records=args.records, added=max(1, args.records // 100))
    print(f"writing {args.records} + {figs.added} records into {work}", flush=True)
    warcs = work / "warcs"
    shutil.rmtree(warcs, ignore_errors=True)
    write_warcs(warcs, pages, 0, args.records, FILES, "bench")
    added = write_warcs(work / "added", pages, args.records, figs.added, 1, "added")
    base = work / "store"
    shutil.rmtree(base, ignore_errors=True)
    run([WARCPACK, "ingest", *map(str, sorted(warcs.glob("*.warc.gz"))), "--store", str(base)])
    datatrove = has_datatrove()
    if not datatrove:
        print("datatrove is not installed (pip install -e '.[bench]'): skipping it", flush=True)
    for n in range(1, args.rounds + 1):
        one_round(figs, work, base, warcs, added, datatrove, n)
    if datatrove:
        dropped, seen, kinds = libmagic_drops(pages, work)
        figs.notes.append(
            f"datatrove's WarcReader, given WARCs without `WARC-Identified-Payload-Type` (as "
            f"wget, warcio and `warcpack capture` write them), guesses types with libmagic and "
            f"silently drops {dropped} of {seen} real HTML pages ({kinds}); warcpack trusts the "
            "HTTP Content-Type first and keeps every page")
    if datatrove and args.datatrove_defaults:
        counts = {}
        for tasks in (1, 2):
            out = work / f"datatrove-defaults-{tasks}"
            shutil.rmtree(out, ignore_errors=True)
            run([PYTHON, "-c", DATATROVE, str(warcs), str(out), str(work / f"dt-logs-{tasks}"),
                 str(tasks), "defaults"])
            counts[tasks] = datatrove_docs(out)
        figs.notes.append(
            f"with its default settings (deduplication, precision mode, 1 s timeout) datatrove "
            f"wrote {counts[1]:,} documents of {args.records:,} with 1 task and {counts[2]:,} "
            "with 2: its output depends on how the work is split; warcpack's never does")
    if args.check_rebuild:
        grown = work / "round-1" / "store"
        fresh = work / "round-1" / "fresh"
        shutil.rmtree(fresh, ignore_errors=True)
        warcpack_build(grown, fresh, work / "round-1" / "cache-fresh", 2)
        same = tree_bytes(fresh) == tree_bytes(work / "round-1" / "corpus-accurate-2")
        figs.notes.append("the rebuild is byte-identical to a fresh build of the grown store"
                          if same else "THE REBUILD DIFFERS FROM A FRESH BUILD")
    if args.large:
        large_store(figs, work, pages, args.large)
    text = table(figs, datatrove)
    print("\n" + text)
    if args.json:
        args.json.write_text(json.dumps({"seconds": figs.seconds, "rss": figs.rss,
                                         "docs": figs.docs, "others": figs.others, "cpu": figs.cpu,
                                         "records": figs.records,
                                         "notes": figs.notes}, indent=2) + "\n")
    if not args.no_readme:
        write_readme(args.readme, text)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
