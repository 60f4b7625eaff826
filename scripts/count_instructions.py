"""Instructions per record of the extraction, this checkout against an earlier revision: a cost
the machine's load does not move.

On a shared machine, the wall and CPU time of identical runs differ by 20 to 30%, so a change
worth a few percent cannot be seen in them (`compare_build_speed.py` measures those). This
script counts instructions with valgrind's callgrind instead: for each source tree it runs
`warcpack.engines.unit.process` over the first N records of the article benchmark, once with
N records and once with none, in the same process setup (PYTHONHASHSEED=0); the difference over
N is the cost of a record, imports and the store's reading left out. The counts repeat to a
few parts in ten thousand. Runs go in parallel, one per core.

    .venv/bin/python scripts/count_instructions.py --against dbffd9d --records 30 --text-mode fast
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_extraction  # noqa: E402
from benchlib import DEFAULT_SHARED, REPO, write_warc  # noqa: E402
from compare_build_speed import export_src  # noqa: E402

EXTRACT = """\
import sys
from warcpack.engines.unit import process
from warcpack.store import Store
records = list(Store.open(sys.argv[1]).iter_records())
process(records[0], text_mode=sys.argv[3])  # the first call loads what extraction loads lazily
for rec in records[: int(sys.argv[2])]:
    process(rec, text_mode=sys.argv[3])
"""
_COLLECTED = re.compile(r"Collected\s*:\s*([\d,]+)")


def instructions(src: Path, store: Path, records: int, mode: str) -> int:
    """Instructions of one run of EXTRACT over `records` records, with `src` on the path."""
    env = dict(os.environ, PYTHONPATH=str(src), PYTHONHASHSEED="0")
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           sys.executable, "-c", EXTRACT, str(store), str(records), mode],
                          capture_output=True, text=True, env=env, check=True)
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise SystemExit(f"callgrind gave no count:\n{done.stderr[-2000:]}")
    return int(found[1].replace(",", ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", required=True, help="git revision to compare with")
    parser.add_argument("--records", type=int, default=30, help="records extracted per run")
    parser.add_argument("--text-mode", default="accurate", choices=("accurate", "fast"))
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt install valgrind)")

    from warcpack.store.ingest import ingest

    pages = bench_extraction.load(args.shared)[0]
    if not 0 < args.records <= len(pages):
        raise SystemExit(f"--records must be between 1 and {len(pages)}")
    with tempfile.TemporaryDirectory(prefix="warcpack-instructions-") as tmp:
        work = Path(tmp)
        write_warc(work / "pages.warc.gz", pages, "2025-01-01T00:00:00Z")
        ingest([work / "pages.warc.gz"], work / "store")
        sides = {args.against: export_src(args.against, work / "old"),
                 "this checkout": REPO / "src"}
        runs = [(name, n) for name in sides for n in (0, args.records)]
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            counts = dict(zip(runs, pool.map(
                lambda run: instructions(sides[run[0]], work / "store", run[1], args.text_mode),
                runs), strict=True))
    per_record = {name: (counts[name, args.records] - counts[name, 0]) / args.records
                  for name in sides}
    print(f"{args.records} records of the article benchmark, {args.text_mode} mode "
          "(instructions per record, callgrind)")
    for name, value in per_record.items():
        print(f"{name:>16}: {value / 1e6:8.1f} M")
    change = per_record["this checkout"] / per_record[args.against] - 1
    print(f"this checkout against {args.against}: {change:+.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
