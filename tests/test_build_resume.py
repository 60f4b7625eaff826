"""Builds and releases killed at any moment: SIGKILL at 20 seeded random moments during a build and
20 during a release, each followed by a re-run, which resumes (finished work units are not read
again) and ends with exactly the bytes of an uninterrupted run, every time.

The runs are child processes forked from a forkserver that has warcpack imported; a child says
when it is ready to work, and the delay of its kill counts from then, so a kill lands in the
work itself rather than in interpreter start-up. Delays are drawn from a seeded generator over
the length of an uninterrupted run.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
from store_helpers import benchmark_pages, tree, write_warc

from warcpack.cache import CACHE_DIR, CACHE_FILE, ResultCache
from warcpack.installation import source_sha256
from warcpack.store.ingest import ingest

KILLS = 20
SEED = 20251125
CONTEXT = multiprocessing.get_context("forkserver")
# Effective when no test before this one started the forkserver; children import what is
# missing otherwise (slower, as valid).
CONTEXT.set_forkserver_preload(["warcpack.engines.preload", "warcpack.build", "warcpack.release"])


pytestmark = pytest.mark.usefixtures("offline_hf")


# --- what the children run ---------------------------------------------------------------------


def _build(ready, store: str, out: str, report: str, workers: int, tag: str,
           use_cache: bool = True) -> None:
    from warcpack.build import build

    ready.set()
    os.environ["WARCPACK_TEST_TAG"] = tag  # inherited by this build's worker processes
    summary = build(Path(store), Path(out), workers=workers, unit_records=1, progress=False,
                    use_cache=use_cache)
    Path(report).write_text(json.dumps({"extracted": summary.records_extracted,
                                        "cached": summary.units_cached, "units": summary.units}))


def _release(ready, store: str, releases: str, version: str, report: str) -> None:
    from warcpack.release import ReleaseError, release

    ready.set()
    try:
        release(version, Path(store), Path(releases), workers=1, progress=False)
        outcome = "released"
    except ReleaseError as exc:  # killed after the release was complete: nothing left to do
        outcome = f"refused: {exc}"
    Path(report).write_text(json.dumps({"outcome": outcome}))


def start(target, *args) -> multiprocessing.Process:
    """Start `target(ready, *args)` in a child and wait until it is ready to work."""
    ready = CONTEXT.Event()
    child = CONTEXT.Process(target=target, args=(ready, *args))
    child.start()
    assert ready.wait(120), f"{target.__name__} did not start"
    return child


def run(target, *args, kill_after: float | None = None) -> bool:
    """Run `target` in a child; with `kill_after`, SIGKILL it that many seconds after it is
    ready if it still runs. True if the child ran to its end."""
    child = start(target, *args)
    child.join(kill_after)
    if child.is_alive():
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        return False
    assert child.exitcode == 0, f"{target.__name__} failed with exit code {child.exitcode}"
    return True


def timed(target, *args) -> float:
    """Seconds from ready to done of an uninterrupted run."""
    child = start(target, *args)
    started = time.perf_counter()
    child.join()
    assert child.exitcode == 0, f"{target.__name__} failed with exit code {child.exitcode}"
    return time.perf_counter() - started


def new_store(warcs: list[Path], root: Path) -> Path:
    """A store of these files whose cache knows only the card's features: every build of it
    reads and extracts everything, without importing `datasets` for the card."""
    from warcpack.build import card_features

    ingest(warcs, root)
    cache = ResultCache(root / CACHE_DIR / CACHE_FILE)
    card_features(cache)()
    cache.close()
    return root


# --- helpers ------------------------------------------------------------------------------------


def units_in(path: Path) -> int:
    """Finished units recorded in a cache database (0 if it is not there yet)."""
    if not path.exists():
        return 0
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT count(*) FROM units").fetchone()[0]
    except sqlite3.OperationalError:  # killed before its tables were made
        return 0
    finally:
        db.close()


def units_done(store: Path) -> int:
    return units_in(store / CACHE_DIR / CACHE_FILE)


def delays(longest: float) -> list[float]:
    rng = random.Random(SEED)
    return [rng.uniform(0.0, longest) for _ in range(KILLS)]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> dict[str, Path]:
    """Two WARC files of benchmark pages (the second, newer one makes a second release)."""
    base = tmp_path_factory.mktemp("crawl")
    pages = benchmark_pages(5)
    names = sorted(pages)
    for part, chosen, day in (("a", names[:3], 1), ("b", names[3:], 2)):
        write_warc(base / f"{part}.warc.gz", [
            {"url": f"https://news.example.org/{name}", "date": f"2024-05-0{day}T08:00:00Z",
             "body": pages[name]} for name in chosen])
    return {"a": base / "a.warc.gz", "b": base / "b.warc.gz"}


# --- build --------------------------------------------------------------------------------------


def test_build_killed_at_random_moments_resumes_to_identical_output(crawl, tmp_path):
    new_store([crawl["a"], crawl["b"]], tmp_path / "store")
    ref_store = tmp_path / "ref-store"
    shutil.copytree(tmp_path / "store", ref_store)
    report = tmp_path / "report.json"
    longest = timed(_build, str(ref_store), str(tmp_path / "ref"), str(report), 1, "ref")
    reference = tree(tmp_path / "ref")
    units = json.loads(report.read_text())["units"]
    assert units == 5

    interrupted = 0
    code = source_sha256()
    for n, delay in enumerate(delays(longest)):
        store, out = tmp_path / f"store-{n}", tmp_path / f"out-{n}"
        shutil.copytree(tmp_path / "store", store)  # with no cache yet
        report.unlink(missing_ok=True)
        finished = run(_build, str(store), str(out), str(report), 1, "kill",
                       kill_after=delay)
        interrupted += not finished
        done = units_done(store)
        assert run(_build, str(store), str(out), str(report), 1, "rerun")
        rerun = json.loads(report.read_text())
        assert tree(out) == reference, f"kill {n} after {delay:.2f} s"
        # finished units are not read again; every other one is, once
        assert (rerun["cached"], rerun["extracted"]) == (done, units - done), \
            f"kill {n} after {delay:.2f} s (source changed meanwhile: {source_sha256() != code})"
        shutil.rmtree(store)
        shutil.rmtree(out)
    assert interrupted >= KILLS // 2  # most kills landed inside the build


def _tagged(tag: str) -> list[int]:
    """Live processes whose environment carries the tag (those this test started)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                environ = Path(f"/proc/{entry.name}/environ").read_bytes()
            except OSError:
                continue
            if f"WARCPACK_TEST_TAG={tag}".encode() in environ.split(b"\0"):
                found.append(int(entry.name))
    return found


def test_killed_driver_leaves_no_worker_behind(crawl, tmp_path):
    ingest([crawl["a"], crawl["b"]], tmp_path / "store")
    tag = uuid.uuid4().hex
    child = start(_build, str(tmp_path / "store"), str(tmp_path / "out"),
                  str(tmp_path / "r.json"), 2, tag)
    deadline = time.monotonic() + 120
    while units_done(tmp_path / "store") < 1 and child.is_alive():
        assert time.monotonic() < deadline, "no unit finished in two minutes"
        time.sleep(0.05)
    workers = [pid for pid in _tagged(tag) if pid != child.pid]
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    assert workers, "the build ran no worker processes"
    deadline = time.monotonic() + 30
    while _tagged(tag) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _tagged(tag)
    for pid in left:  # do not leave them to the next test, whatever the verdict
        os.kill(pid, signal.SIGKILL)
    assert not left, "worker processes outlived their killed driver"
    assert run(_build, str(tmp_path / "store"), str(tmp_path / "out"), str(tmp_path / "r.json"),
               2, "rerun")
    assert json.loads((tmp_path / "r.json").read_text())["cached"] >= 1


def test_a_build_without_cache_resumes_from_its_staging_folder(crawl, tmp_path):
    store, out, report = tmp_path / "store", tmp_path / "out", tmp_path / "r.json"
    new_store([crawl["a"], crawl["b"]], store)
    assert run(_build, str(store), str(tmp_path / "ref"), str(report), 1, "ref", False)
    resume = out / ".tmp-build" / ".resume" / CACHE_FILE
    child = start(_build, str(store), str(out), str(report), 1, "kill", False)
    deadline = time.monotonic() + 120
    while child.is_alive() and units_in(resume) < 2:
        assert time.monotonic() < deadline, "no unit finished in two minutes"
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    done = units_in(resume)
    assert done >= 2
    assert run(_build, str(store), str(out), str(report), 1, "rerun", False)
    assert json.loads(report.read_text())["cached"] == done
    assert tree(out) == tree(tmp_path / "ref")  # the resume state went with the staging folder
    assert units_done(store) == 0  # and nothing was kept beside the store


# --- release ------------------------------------------------------------------------------------


def test_release_killed_at_random_moments_resumes_to_identical_output(crawl, tmp_path):
    store, base = tmp_path / "store", tmp_path / "releases"
    new_store([crawl["a"]], store)
    report = tmp_path / "report.json"
    assert run(_release, str(store), str(base), "1.0.0", str(report))
    ingest([crawl["b"]], store)
    ref_store, ref = tmp_path / "ref-store", tmp_path / "ref"
    shutil.copytree(store, ref_store)
    shutil.copytree(base, ref)
    longest = timed(_release, str(ref_store), str(ref), "1.1.0", str(report))
    assert json.loads(report.read_text())["outcome"] == "released"
    reference = tree(ref)
    assert "1.1.0/release.json" in reference and b"## 1.1.0" in reference["CHANGELOG.md"]

    interrupted = 0
    for n, delay in enumerate(delays(longest)):
        here_store, here = tmp_path / f"store-{n}", tmp_path / f"releases-{n}"
        shutil.copytree(store, here_store)
        shutil.copytree(base, here)
        interrupted += not run(_release, str(here_store), str(here), "1.1.0", str(report),
                               kill_after=delay)
        assert run(_release, str(here_store), str(here), "1.1.0", str(report))
        outcome = json.loads(report.read_text())["outcome"]
        assert outcome == "released" or "already exists" in outcome, outcome
        assert tree(here) == reference, f"kill {n} after {delay:.2f} s"
        shutil.rmtree(here_store)
        shutil.rmtree(here)
    assert interrupted >= KILLS // 2


def _release_dying(ready, store: str, releases: str, version: str, report: str,
                   nth: int) -> None:
    """A release that dies just before its `nth` durable write once the build is done
    (release.json and the CHANGELOG entry), as a kill landing between them would."""
    import warcpack.changelog
    import warcpack.release
    from warcpack.store.atomic import write_atomic

    calls = 0

    def dying(path: Path, data: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls == nth:
            os._exit(9)
        write_atomic(path, data)

    warcpack.release.write_atomic = dying
    warcpack.changelog.write_atomic = dying
    _release(ready, store, releases, version, report)


@pytest.mark.parametrize("nth", [1, 2])
def test_release_killed_between_its_last_two_writes_is_finished_by_a_rerun(crawl, tmp_path,
                                                                           nth):
    store, base, report = tmp_path / "store", tmp_path / "releases", tmp_path / "r.json"
    new_store([crawl["a"]], store)
    assert run(_release, str(store), str(base), "1.0.0", str(report))
    ingest([crawl["b"]], store)
    reference = tmp_path / "ref"
    shutil.copytree(base, reference)
    assert run(_release, str(store), str(reference), "1.1.0", str(report))
    dying = start(_release_dying, str(store), str(base), "1.1.0", str(report), nth)
    dying.join()
    assert dying.exitcode == 9  # it died where it was meant to
    assert run(_release, str(store), str(base), "1.1.0", str(report))
    assert tree(base) == tree(reference)
