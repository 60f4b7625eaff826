"""Crash safety: a writer killed at any instant leaves the store as before or as after a commit.

A child process ingests while WARCPACK_TEST_CRASH_AT makes it SIGKILL itself at a named commit
step (or the test kills it at a seeded random moment); the parent then opens the store, which
finishes or drops the interrupted commit, and checks it file by file.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from store_helpers import benchmark_pages, cdxj_indexer, store_state, warcio_check, write_warc

from warcpack.store import Store
from warcpack.store.ingest import ingest
from warcpack.store.verify import verify

CHILD = """
import sys
from pathlib import Path
from warcpack.store.ingest import ingest
store, mode, files = Path(sys.argv[1]), sys.argv[2], [Path(p) for p in sys.argv[3:]]
print("ready", flush=True)
if mode == "one-call":
    ingest(files, store)
else:
    for path in files:
        ingest([path], store)
"""


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Twelve small WARC files of benchmark pages (gzip and plain)."""
    work = tmp_path_factory.mktemp("sources")
    pages = list(benchmark_pages(12).values())
    paths = []
    for i in range(12):
        path = work / f"part-{i:02d}.warc{'.gz' if i % 3 else ''}"
        write_warc(path, [
            {"url": f"https://example.com/{i}/{j}", "date": f"2024-02-{j + 1:02d}T00:00:00Z",
             "body": pages[(i + j) % len(pages)]}
            for j in range(3)
        ], compress=bool(i % 3))
        paths.append(path)
    return paths


def _child(store: Path, mode: str, files: list[Path], crash_at: str | None = None):
    env = dict(os.environ)
    env.pop("WARCPACK_TEST_CRASH_AT", None)
    if crash_at:
        env["WARCPACK_TEST_CRASH_AT"] = crash_at
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(store), mode, *map(str, files)],
        env=env, stdout=subprocess.PIPE, text=True,
    )


def _comparable(state: dict[str, bytes]) -> dict[str, object]:
    """A store's files, with the log's wall-clock times left out."""
    out: dict[str, object] = dict(state)
    log = state.get("store-log.jsonl", b"").decode().splitlines()
    out["store-log.jsonl"] = [
        {k: v for k, v in json.loads(line).items() if k != "time"} for line in log
    ]
    return out


def _assert_sound(store: Path) -> dict[str, object]:
    """Open (recovering), then check everything a user relies on; returns the store's state."""
    st = Store.open(store)
    report = verify(st)
    assert report.ok, report.problems
    assert not (store / ".txn").exists() and not any((store / ".staging").iterdir())
    files = [store / name for name in st.warc_files()]
    if files:
        check = warcio_check(files)
        assert check.returncode == 0, check.stdout
        assert cdxj_indexer(files) == st.index_path.read_text()
    subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=store, check=True)
    return _comparable(store_state(store))


def _base_store(tmp_path: Path, sources: list[Path]) -> Path:
    store = tmp_path / "store"
    ingest(sources[:2], store)
    return store


@pytest.mark.parametrize(
    ("step", "outcome"),
    [
        ("staged", "before"),  # new files fsynced, nothing decided
        ("prepared", "before"),  # new index and manifest staged too
        ("journal", "after"),  # the journal exists: the commit is decided
        ("rename", "after"),  # between the renames
        ("renamed", "after"),  # all renamed, log not yet appended
        ("logged", "after"),  # log appended, journal not yet removed
    ],
)
def test_kill_at_each_commit_step(
    tmp_path: Path, sources: list[Path], step: str, outcome: str
) -> None:
    store = _base_store(tmp_path, sources)
    before = _comparable(store_state(store))
    expected_after = tmp_path / "expected"
    shutil.copytree(store, expected_after)
    ingest(sources[2:5], expected_after)
    after = _comparable(store_state(expected_after))
    assert after != before

    child = _child(store, "one-call", sources[2:5], crash_at=step)
    child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL
    state = _assert_sound(store)
    assert state == (before if outcome == "before" else after)


def test_kill_during_recovery_then_recover_again(tmp_path: Path, sources: list[Path]) -> None:
    store = _base_store(tmp_path, sources)
    expected_after = tmp_path / "expected"
    shutil.copytree(store, expected_after)
    ingest(sources[2:4], expected_after)

    child = _child(store, "one-call", sources[2:4], crash_at="rename")
    child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL and (store / ".txn").exists()
    # A second writer dies while rolling the first commit forward ...
    opener = subprocess.run(
        [sys.executable, "-c", "import sys; from warcpack.store import Store; "
         "Store.open(sys.argv[1])", str(store)],
        env={**os.environ, "WARCPACK_TEST_CRASH_AT": "renamed"},
    )
    assert opener.returncode == -signal.SIGKILL
    # ... and the next open still ends in exactly the committed state.
    assert _assert_sound(store) == _comparable(store_state(expected_after))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_kill_at_random_moments(tmp_path: Path, sources: list[Path], seed: int) -> None:
    store = _base_store(tmp_path, sources)
    rest = sources[2:]
    prefixes = []  # expected state after each number of committed files
    replay = tmp_path / "replay"
    shutil.copytree(store, replay)
    prefixes.append(_comparable(store_state(replay)))
    for path in rest:
        ingest([path], replay)
        prefixes.append(_comparable(store_state(replay)))

    child = _child(store, "one-by-one", rest)
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    time.sleep(random.Random(seed).uniform(0.0, 0.4))
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=120)
    state = _assert_sound(store)
    assert state in prefixes
