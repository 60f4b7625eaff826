"""The local engine: work units on a pool of processes, one per core by default.

Workers start from a *forkserver* with warcpack's extraction modules already imported and warmed
up (see `preload`): each worker is a fork of that small, single-threaded process, so it starts
in milliseconds and shares the imported code's memory, while the driver may hold threads (the
progress bar, pyarrow, SQLite, a notebook's own) without any of them being copied into a
worker in a broken state, as a plain fork of the driver would risk. Spawning fresh
interpreters instead would import trafilatura, lxml and pyarrow again in every worker.

At most `window` units are in flight, so results never pile up when the driver is slower than
the workers; results come back as units finish, and the build merges them in a fixed order.
A worker that dies (killed, out of memory) stops the build with a clear error; the units
finished before are kept, so running the build again resumes.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from itertools import islice

from warcpack.cache import Outcome
from warcpack.engines.base import EngineError, unit_place, windowed
from warcpack.engines.forkserver import context
from warcpack.engines.unit import Job, UnitResult, VersionMismatch, run_job_unit, run_unit
from warcpack.plan import WorkUnit
from warcpack.store import Store


def _watch(driver: int, parent: int) -> None:
    """End this worker when the driver is gone (killed with SIGKILL, it cannot tell us): its
    pid is free, or the forkserver that forked this worker left with it."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(3)
        try:
            os.kill(driver, 0)
        except (ProcessLookupError, PermissionError):  # PermissionError: the pid was reused
            os._exit(3)


def _init_worker(driver: int) -> None:
    threading.Thread(target=_watch, args=(driver, os.getppid()), daemon=True,
                     name="driver-watch").start()


class LocalEngine:
    """Runs units in this process (one worker) or on a local process pool."""

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)

    def slots(self, units: int) -> int:
        """Processes a build of `units` units uses."""
        return max(1, min(self.workers, units))

    def run(self, job: Job, tasks: Iterable[tuple[WorkUnit, Mapping[str, Outcome]]],
            units: int, idle: Callable[[], None] | None = None
            ) -> Iterator[tuple[WorkUnit, UnitResult]]:
        """Run every task; yield (unit, result) as each finishes."""
        processes = self.slots(units)
        if processes == 1:
            if idle is not None:
                idle()
            store = Store.open(job.store)
            for unit, known in tasks:
                yield unit, run_unit(store, unit, job.fingerprint, known, job.limits,
                                     job.text_mode)
            return
        yield from self._pool(job, tasks, processes, idle)

    def _pool(self, job: Job, tasks: Iterable[tuple[WorkUnit, Mapping[str, Outcome]]],
              processes: int, idle: Callable[[], None] | None
              ) -> Iterator[tuple[WorkUnit, UnitResult]]:
        pool = ProcessPoolExecutor(processes, mp_context=context(), initializer=_init_worker,
                                   initargs=(os.getpid(),))
        running: dict[Future[UnitResult], WorkUnit] = {}

        def finished(running: dict[Future[UnitResult], WorkUnit]) -> list[Future[UnitResult]]:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            return sorted(done, key=lambda f: running[f].id)

        def submit(unit: WorkUnit, known: Mapping[str, Outcome]) -> Future[UnitResult]:
            return pool.submit(run_job_unit, job, unit, known)

        try:
            todo = iter(tasks)
            _start(submit, list(islice(todo, 2 * processes)), running, idle)
            yield from windowed(todo, 2 * processes, submit, finished, _result, running)
        except BaseException:
            _stop(pool)
            raise
        pool.shutdown(wait=True)


def _start(submit: Callable[[WorkUnit, Mapping[str, Outcome]], Future[UnitResult]],
           first: list[tuple[WorkUnit, Mapping[str, Outcome]]],
           running: dict[Future[UnitResult], WorkUnit], idle: Callable[[], None] | None) -> None:
    """Submit the first units on a thread while this one does the driver's `idle` work.

    Submitting forks the workers, which waits until the forkserver has imported and warmed
    up the extraction modules (about half a second); in a rebuild the driver's own work (the
    cached units' rows) fits in that wait instead of following it."""
    failed: list[BaseException] = []

    def start() -> None:
        try:
            for unit, known in first:
                running[submit(unit, known)] = unit
        except BaseException as exc:  # raised again below, in the build's thread
            failed.append(exc)

    starter = threading.Thread(target=start, name="start-workers", daemon=True)
    starter.start()
    try:
        if idle is not None:
            idle()
    finally:
        starter.join()
    if failed:
        raise failed[0]


def _result(future: Future[UnitResult], unit: WorkUnit) -> UnitResult:
    try:
        return future.result()
    except BrokenProcessPool:
        raise EngineError(
            f"a worker process ended unexpectedly (killed, or out of memory?) while reading "
            f"{unit_place(unit)}; the units finished before are kept: run the build again to "
            "resume") from None
    except VersionMismatch as exc:
        raise EngineError(str(exc)) from None


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now (the build failed or was interrupted)."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
