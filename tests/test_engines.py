"""Engines run the same plan with the same unit function: the Ray engine's corpus, read from a
store at a URL, is byte-identical to the local engine's; units are named by their file and
range, never by who runs them; a worker whose extractor differs from the driver's refuses to
work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from store_helpers import serve_objects, tree, two_file_store

from warcpack.build import BuildError, build
from warcpack.cache import fingerprint
from warcpack.engines import EngineError, make_engine
from warcpack.engines.unit import Job, VersionMismatch, run_job_unit
from warcpack.plan import plan
from warcpack.store import Store

pytestmark = pytest.mark.usefixtures("offline_hf")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return two_file_store(tmp_path_factory.mktemp("crawl"))


def test_units_are_named_by_file_and_range_not_by_order_or_worker(store):
    opened = Store.open(store)
    units = plan(opened, 2)
    assert len(units) == 4 and len({u.id for u in units}) == 4
    assert [u.revisits for u in units] == [False, False, True, False]
    again = plan(opened, 2, files=list(reversed(opened.warc_files())))
    assert [u.id for u in again] == [u.id for u in units]
    assert units[0].start == 0 and units[-1].stop is None  # every byte of every file is covered


def test_ray_engine_output_is_byte_identical_to_the_local_engine(store, tmp_path):
    """The Ray tasks read the store over HTTP, as a cluster's nodes read an object store."""
    ray = pytest.importorskip("ray")
    local = build(store, tmp_path / "local", workers=2, unit_records=2, progress=False,
                  cache=tmp_path / "local-cache")
    assert local.records_extracted == 8 and local.rows_written == 6 and local.recaptures == 1
    assert local.skipped_by_reason == {"http-status": 1}
    os.environ.pop("RAY_ADDRESS", None)
    try:
        with serve_objects(store.parent) as (base, requests):
            remote = build(f"{base}/{store.name}", tmp_path / "ray", engine="ray", workers=2,
                           unit_records=2, progress=False, cache=tmp_path / "ray-cache")
        assert any(".warc.gz" in path for _, path, _ in requests)
    finally:
        if ray.is_initialized():
            ray.shutdown()
    assert remote.records_extracted == 8 and remote.units == 4
    assert tree(tmp_path / "ray") == tree(tmp_path / "local")


def test_a_worker_with_another_extractor_refuses(store, tmp_path):
    unit = plan(Store.open(store), 2)[0]
    job = Job(str(store.resolve()), "0" * 64)
    with pytest.raises(VersionMismatch, match="install the same versions everywhere"):
        run_job_unit(job, unit, {})
    engine = make_engine("local", 2)
    with pytest.raises(EngineError, match="differ from the driver's"):
        list(engine.run(job, [(u, {}) for u in plan(Store.open(store), 2)], 4))
    assert run_job_unit(Job(str(store.resolve()), fingerprint()), unit, {}).records == 2


def test_engine_choice_errors_are_clear(store, tmp_path):
    with pytest.raises(BuildError, match="unknown engine 'spark'"):
        build(store, tmp_path / "out", engine="spark", progress=False)
    with pytest.raises(BuildError, match="--address is for the ray engine"):
        build(store, tmp_path / "out", address="10.0.0.1:6379", progress=False)


def test_a_worker_starts_warm_and_holds_only_the_extraction_stack(store):
    """Workers fork from the forkserver after `preload`: its pages must reach their rows (or
    workers pay the warm-up again), and a unit must not pull in the writers' or the CLI's
    libraries, which would cost each worker their import time and memory."""
    script = (
        "import sys\n"
        "from warcpack.engines import preload\n"
        "from warcpack.cache import fingerprint\n"
        "from warcpack.engines.unit import Job, run_job_unit\n"
        "from warcpack.plan import plan\n"
        "from warcpack.store import Store\n"
        "assert preload.warm_up() == 2\n"
        f"unit = plan(Store.open({str(store)!r}), 2)[0]\n"
        f"result = run_job_unit(Job({str(store.resolve())!r}, fingerprint()), unit, {{}})\n"
        "print(result.records, sorted(m for m in ('pyarrow', 'pandas', 'rich', 'datasets')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout == "2 []\n"  # the unit's two records, and none of those libraries
