"""Byte-identical outputs: the same store built and released twice, in separate processes that
differ in worker count, output path, time zone, locale, clock (the second runs 1000 days later)
and the order the filesystem lists files in, gives the same files, compared like `diff -r`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from news_pages import MODIFIED, capture_now, europa, other_pages, serve
from servers import TestServer
from store_helpers import tree

from warcpack.build import build

# Run the warcpack CLI in this process after (optionally) moving the clock forward and
# reversing every directory listing; argv: shift in days, then one CLI call per argument
# (its words separated by "|").
RUNNER = r"""
import os, sys, time, datetime as dt

shift = float(sys.argv[1]) * 86400
if shift:
    # compiled modules bind the real datetime type when imported: import them first
    import datasets, lxml.etree, numpy, pandas, pyarrow.parquet  # noqa: F401
    real_time, real_time_ns, Real = time.time, time.time_ns, dt.datetime
    time.time = lambda: real_time() + shift
    time.time_ns = lambda: real_time_ns() + int(shift * 1e9)

    class Later(Real):
        @classmethod
        def now(cls, tz=None):
            return Real.now(tz) + dt.timedelta(seconds=shift)

        @classmethod
        def utcnow(cls):
            return Real.utcnow() + dt.timedelta(seconds=shift)

        @classmethod
        def today(cls):
            return Real.today() + dt.timedelta(seconds=shift)

    dt.datetime = Later

    real_listdir, real_scandir = os.listdir, os.scandir

    class Reversed:
        def __init__(self, entries):
            self.entries = iter(list(entries)[::-1])
        def __iter__(self):
            return self
        def __next__(self):
            return next(self.entries)
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            return False
        def close(self):
            pass

    def scandir(path="."):
        with real_scandir(path) as it:
            return Reversed(it)

    os.listdir = lambda path=".": sorted(real_listdir(path), reverse=True)
    os.scandir = scandir

from warcpack.cli import app

for call in sys.argv[2:]:
    try:
        app(args=call.split("|"), standalone_mode=False)
    except SystemExit as exc:
        if exc.code:
            raise
"""


def diff_r(first: Path, second: Path) -> list[str]:
    """What `diff -r` would name: files only on one side, files whose bytes differ."""
    a, b = tree(first), tree(second)
    return sorted([f"only in {first.name}: {p}" for p in a.keys() - b.keys()]
                  + [f"only in {second.name}: {p}" for p in b.keys() - a.keys()]
                  + [f"differ: {p}" for p in a.keys() & b.keys() if a[p] != b[p]])


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """Real captures: three pages, then one of them edited and another captured unchanged."""
    warcs = tmp_path_factory.mktemp("det") / "warcs"
    first, second = other_pages(2)
    with TestServer() as server:
        urls = [serve(server, "/europa", europa()), serve(server, "/one", first),
                serve(server, "/two", second)]
        capture_now(urls, warcs)
        serve(server, "/europa", europa(MODIFIED, edited=True))
        capture_now(urls[:2], warcs)
    return warcs


def run(store: Path, base: Path, *, workers: int, zone: str, locale: str, shift_days: int) -> None:
    env = {**os.environ, "TZ": zone, "LC_ALL": locale, "LANG": locale}
    calls = [
        f"build|--store|{store}|--out|{base / 'corpus'}|--workers|{workers}|--no-progress",
        f"release|1.0.0|--store|{store}|--out|{base / 'releases'}|--workers|{workers}"
        "|--no-progress",
    ]
    done = subprocess.run([sys.executable, "-c", RUNNER, str(shift_days), *calls], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def first(store, tmp_path_factory) -> Path:
    """Build and release with one worker, in UTC and C.UTF-8."""
    one = tmp_path_factory.mktemp("first") / "one"
    run(store, one, workers=1, zone="UTC", locale="C.UTF-8", shift_days=0)
    return one


def test_two_builds_and_releases_in_different_conditions_are_byte_identical(store, first,
                                                                             tmp_path):
    one, two = first, tmp_path / "elsewhere" / "two"
    run(store, two, workers=2, zone="Asia/Tokyo", locale="POSIX", shift_days=1000)
    corpus = tree(one / "corpus")
    assert "data/text/train-00000-of-00001.parquet" in corpus and "README.md" in corpus
    assert diff_r(one / "corpus", two / "corpus") == []
    assert diff_r(one / "releases", two / "releases") == []
    assert {"CHANGELOG.md", "1.0.0/release.json"} <= set(tree(one / "releases"))
    everything = b"".join([*corpus.values(), *tree(one / "releases").values()])
    for path in (tmp_path, store, one):
        assert str(path).encode() not in everything
    # the store had a revision and a revisit: the outputs hold both kinds of bookkeeping
    rows = (one / "corpus/data/text/train-00000-of-00001.jsonl").read_text("utf-8")
    assert '"revision":2' in rows and '"captures":2' in rows


def test_the_comparison_sees_a_difference(store, first, tmp_path):
    """The check above can fail: a build with another text policy is not identical."""
    other = tmp_path / "other"
    build(store, other, workers=1, progress=False, text_policy="redistributable")
    assert "differ: README.md" in diff_r(first / "corpus", other)
