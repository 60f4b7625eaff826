"""Building from a store at a URL: what it costs beside the store's folder, and what it fetches.

Usage: python scripts/bench_remote.py [--shared PATH] [--records N] [--select N] [--work DIR]
           [--text-mode accurate|fast]

Writes N (default 2,000) distinct records of the benchmark pages into 8 WARC files (as
`bench_build.py` does), ingests them into a store, and serves the store's folder on 127.0.0.1
from a web server that answers byte ranges as an object store does. Then, each with 2 workers
and a fresh cache:

- `warcpack build --store FOLDER` and `warcpack build --store http://127.0.0.1:PORT/store`: wall
  time, and whether the two corpora are byte-identical;
- the same URL with `--records` naming every N/select-th record (default 20 records): the
  Common Crawl way of packaging a few pages out of large files.

For each build from the URL it counts the bytes the server sent of the WARC files (from the
Range of each request) against the WARC files' size: a build must read the files once, and a
selection only the stretches around its records. Loopback has no latency: the time figures are
a floor for a real object store, the byte figures are what one would be billed for.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

from bench_build import (
    DEFAULT_SHARED,
    FILES,
    REPO,
    WARCPACK,
    load_pages,
    run,
    tree_bytes,
    write_warcs,
)

sys.path.insert(0, str(REPO / "tests"))
from store_helpers import serve_objects  # noqa: E402 (the tests' object-store server)

from warcpack.store import Store  # noqa: E402


def fetched(requests: list[tuple[str, str, str | None]], sizes: dict[str, int]) -> int:
    """Bytes of WARC files the server sent: each GET's range, or the whole file without one."""
    total = 0
    for method, path, wanted in requests:
        name = path.rsplit("/", 1)[-1]
        if method != "GET" or name not in sizes:
            continue
        size = sizes[name]
        if not wanted:
            total += size
            continue
        first, _, last = wanted.removeprefix("bytes=").partition("-")
        if not first:
            total += min(size, int(last))
        else:
            total += min(size, int(last) + 1 if last else size) - int(first)
    return total


def build(store: str, out: Path, cache: Path, text_mode: str, *extra: str) -> float:
    done = run([WARCPACK, "build", "--store", store, "--out", str(out), "--workers", "2",
                "--no-progress", "--cache", str(cache), "--text-mode", text_mode, *extra])
    return done.seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--select", type=int, default=20)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--text-mode", default="fast")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="warcpack-bench-remote-"))
    pages = load_pages(args.shared)
    warcs = write_warcs(work / "warcs", pages, 0, args.records, FILES, "bench")
    run([WARCPACK, "ingest", *map(str, warcs), "--store", str(work / "bucket" / "store")])
    store = work / "bucket" / "store"
    sizes = {name: (store / name).stat().st_size for name in Store.open(store).warc_files()}
    entries = sorted(Store.open(store).index_entries(), key=lambda e: (e.filename, e.offset))
    chosen = entries[:: max(1, len(entries) // args.select)][: args.select]
    listing = work / "selection.csv"
    with listing.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["warc_file", "offset", "length"])
        writer.writerows((e.filename, e.offset, e.length) for e in chosen)

    mode = args.text_mode
    local = build(str(store), work / "local", work / "cache-local", mode)
    with serve_objects(work / "bucket") as (base, requests):
        remote = build(f"{base}/store", work / "remote", work / "cache-remote", mode)
        whole = fetched(requests, sizes)
        requests.clear()
        picked = build(f"{base}/store", work / "picked", work / "cache-picked", mode,
                       "--records", str(listing))
        some = fetched(requests, sizes)
    same = tree_bytes(work / "local") == tree_bytes(work / "remote")
    store_bytes = sum(sizes.values())
    print(f"store: {args.records} records in {len(sizes)} WARC files, {store_bytes:,} bytes")
    print(f"build from the folder ({mode}, 2 workers): {local:.1f} s")
    print(f"build from the URL: {remote:.1f} s ({remote / local:.2f}x), fetched "
          f"{whole:,} bytes of WARC files ({whole / store_bytes:.2f}x their size); "
          f"corpus {'byte-identical' if same else 'DIFFERS'}")
    print(f"build of {len(chosen)} listed records from the URL: {picked:.1f} s, fetched "
          f"{some:,} bytes ({some / store_bytes:.1%} of the WARC files)")
    if not same:
        raise SystemExit("the corpus built from the URL differs from the folder's")


if __name__ == "__main__":
    main()
