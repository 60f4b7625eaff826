"""The Ray engine: the build's work units as Ray tasks, on a local Ray instance or a cluster.

The driver (the machine running `warcpack build --engine ray`) plans the units, keeps the cache
and writes the output; each task runs `engines.unit.run_job_unit` on one unit, reading the
store's WARC files at the path the driver gives, and returns the unit's outcomes. So every node
must see the store at the same path (a shared filesystem: NFS, Lustre, or an object store bucket
mounted with a FUSE driver), and run the same warcpack and library versions: a task refuses to
run on a node whose extractor fingerprint differs from the driver's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from warcpack.cache import Outcome
from warcpack.engines.base import EngineError, unit_place, windowed
from warcpack.engines.unit import Job, UnitResult, VersionMismatch, run_job_unit
from warcpack.plan import WorkUnit


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise EngineError("the ray engine needs Ray: pip install 'warcpack[ray]'") from None
    return ray


class RayEngine:
    """Runs units as Ray tasks (one CPU each)."""

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None):
        self.ray = _ray()
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.workers = workers
        self._started = False

    def _connect(self) -> int:
        """Join the cluster (or start a local instance); the CPUs tasks may use."""
        ray = self.ray
        if not ray.is_initialized():
            try:
                if self.address is None:
                    ray.init(num_cpus=self.workers or os.cpu_count() or 1,
                             include_dashboard=False, log_to_driver=False)
                else:
                    ray.init(address=self.address, log_to_driver=False)
            except Exception as exc:  # ConnectionError, RuntimeError, ... from ray
                where = self.address or "a new local instance"
                raise EngineError(f"cannot start Ray on {where}: {exc}") from None
            self._started = True
        cpus = int(ray.cluster_resources().get("CPU", 1)) or 1
        return max(1, min(cpus, self.workers or cpus))

    def slots(self, units: int) -> int:
        return max(1, min(self.workers or os.cpu_count() or 1, units))

    def run(self, job: Job, tasks: Iterable[tuple[WorkUnit, Mapping[str, Outcome]]],
            units: int, idle: Callable[[], None] | None = None
            ) -> Iterator[tuple[WorkUnit, UnitResult]]:
        ray = self.ray
        slots = self._connect()
        remote = ray.remote(num_cpus=1, max_retries=2)(run_job_unit)
        running: dict[Any, WorkUnit] = {}
        try:
            yield from windowed(
                tasks, 2 * slots, lambda unit, known: remote.remote(job, unit, dict(known)),
                lambda running: ray.wait(list(running), num_returns=1)[0], self._get, running,
                idle)
        except BaseException:
            for ref in running:
                ray.cancel(ref, force=True)
            raise
        finally:
            if self._started:
                ray.shutdown()
                self._started = False

    def _get(self, ref: Any, unit: WorkUnit) -> UnitResult:
        ray = self.ray
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None) or exc
            if isinstance(cause, VersionMismatch):
                raise EngineError(str(cause)) from None
            raise EngineError(f"a Ray task failed on {unit_place(unit)}: "
                              f"{type(cause).__name__}: {cause}") from None
        except ray.exceptions.RayError as exc:
            raise EngineError(f"Ray lost the task reading {unit_place(unit)}: {exc}; the units "
                              "finished before are kept: run the build again to resume"
                              ) from None
