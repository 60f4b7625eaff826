"""Build speed of this checkout against an earlier revision, on the benchmark pages.

A change to the extractors must not slow the build down by much; this script says by how much.
It writes the pages of both benchmark folders (article-extraction and dates) into one store,
exports REVISION's `src/` with `git archive`, and runs `warcpack build` on that store with each
source in turn (alternating, ROUNDS times, so a load that comes and goes on the machine falls on
both). It prints, for each side, the median wall time and the median CPU time of the build's
processes (user + system, the figure that load on the machine disturbs least) and their ratio.

    .venv/bin/python scripts/compare_build_speed.py --against fb66174 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_dates  # noqa: E402
import bench_extraction  # noqa: E402
from benchlib import DEFAULT_SHARED, REPO, write_warc  # noqa: E402

BUILD = "import sys; from warcpack.cli import app; sys.argv[0] = 'warcpack'; app()"


def export_src(revision: str, into: Path) -> Path:
    """`src/` of `revision` (and `schema/`, which the package links to), written under `into`;
    the working tree is left alone."""
    data = subprocess.run(["git", "-C", str(REPO), "archive", revision, "src", "schema"],
                          check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def timed_build(src: Path, store: Path, out: Path, workers: int) -> tuple[float, float]:
    """Wall and CPU seconds (all processes) of one `warcpack build` run with `src` first on
    the import path."""
    env = dict(os.environ, PYTHONPATH=str(src), HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", BUILD, "build", "--store", str(store), "--out",
                    str(out), "--workers", str(workers), "--no-progress"],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", required=True, help="git revision to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    args = parser.parse_args(argv)

    from warcpack.store.ingest import ingest

    pages = bench_extraction.load(args.shared)[0] + bench_dates.load(args.shared)[0]
    with tempfile.TemporaryDirectory(prefix="warcpack-speed-") as tmp:
        work = Path(tmp)
        write_warc(work / "pages.warc.gz", pages, "2025-01-01T00:00:00Z")
        ingest([work / "pages.warc.gz"], work / "store")
        old_src = export_src(args.against, work / "old")
        sides = {args.against: old_src, "this checkout": REPO / "src"}
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
        for round_no in range(args.rounds):
            for side, (name, src) in enumerate(sides.items()):
                out = work / f"out-{side}-{round_no}"
                runs[name].append(timed_build(src, work / "store", out, args.workers))
        print(f"{len(pages)} pages, {args.workers} workers, {args.rounds} rounds (medians)")
        medians = {}
        for name, values in runs.items():
            wall = statistics.median(v[0] for v in values)
            cpu = statistics.median(v[1] for v in values)
            medians[name] = (wall, cpu)
            print(f"{name:>16}: wall {wall:6.2f} s = {len(pages) / wall:5.1f} pages/s, "
                  f"CPU {cpu:6.2f} s = {1000 * cpu / len(pages):5.1f} ms/page")
        old, new = medians[args.against], medians["this checkout"]
        print(f"this checkout / {args.against}: wall {new[0] / old[0]:.2f}x, "
              f"CPU {new[1] / old[1]:.2f}x (above 1 is slower)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
