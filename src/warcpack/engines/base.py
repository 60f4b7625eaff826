"""What every engine offers the build, and the errors it may raise (kept free of heavy imports:
the command line reads it before anything else)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from warcpack.cache import Outcome
    from warcpack.engines.unit import Job, UnitResult
    from warcpack.plan import WorkUnit


Handle = TypeVar("Handle")


class EngineError(Exception):
    """An engine cannot run (not installed, cluster unreachable) or lost a worker."""


class Engine(Protocol):
    """Runs work units somewhere; the build never knows where."""

    name: str

    def slots(self, units: int) -> int:
        """How many units run at once for a plan of `units` units."""
        ...

    def run(self, job: Job, tasks: Iterable[tuple[WorkUnit, Mapping[str, Outcome]]],
            units: int, idle: Callable[[], None] | None = None
            ) -> Iterator[tuple[WorkUnit, UnitResult]]:
        """Run each (unit, known outcomes) task; yield (unit, result) as each finishes. Tasks are
        pulled lazily, a few more than `slots` at a time, so the driver's memory stays flat.
        `idle` is called once the first tasks are under way (or before they run, when they run
        in this process): the driver's own work that need not wait for results."""
        ...


def unit_place(unit: WorkUnit) -> str:
    """Where a unit's records are, for messages."""
    if unit.offsets is not None:
        return f"{len(unit.offsets)} listed records of {unit.file} from offset {unit.start}"
    end = "the end" if unit.stop is None else f"offset {unit.stop}"
    return f"{unit.file} from offset {unit.start} to {end}"


def windowed(
    tasks: Iterable[tuple[WorkUnit, Mapping[str, Outcome]]],
    window: int,
    submit: Callable[[WorkUnit, Mapping[str, Outcome]], Handle],
    finished: Callable[[dict[Handle, WorkUnit]], Iterable[Handle]],
    result: Callable[[Handle, WorkUnit], UnitResult],
    running: dict[Handle, WorkUnit],
    idle: Callable[[], None] | None = None,
) -> Iterator[tuple[WorkUnit, UnitResult]]:
    """Keep at most `window` tasks submitted, pulling the next only as one finishes, and yield
    (unit, result) for each finished one, in the order `finished` gives. `running` is the
    caller's, so that it can cancel what is still running if the build stops; `idle` runs once,
    after the first tasks are submitted.

    When a unit fails, no new one starts, but those already under way finish and are yielded
    (so the cache keeps them and the next run resumes after them); then the first failure is
    raised. How far a failed build got thus never depends on which worker failed first."""
    todo = iter(tasks)
    failure: Exception | None = None
    while True:
        while failure is None and len(running) < window:
            task = next(todo, None)
            if task is None:
                break
            running[submit(*task)] = task[0]
        if not running:
            break
        if idle is not None:
            idle()
            idle = None
        for handle in finished(running):
            unit = running.pop(handle)
            try:
                done = result(handle, unit)
            except Exception as exc:
                failure = failure or exc
                continue
            yield unit, done
    if failure is not None:
        raise failure
