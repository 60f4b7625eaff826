"""Where a build's work units run: `local` (a process pool over this machine's cores) or `ray`
(tasks on a Ray cluster). Every engine runs the same plan (`warcpack.plan`) with the same unit
function (`engines.unit.run_unit`); the build merges what they return in a fixed order, so the
output never depends on the engine, the number of workers or which worker ran what."""

from __future__ import annotations

from warcpack.engines.base import Engine, EngineError

ENGINES = ("local", "ray")

__all__ = ["ENGINES", "Engine", "EngineError", "make_engine"]


def make_engine(name: str = "local", workers: int | None = None,
                address: str | None = None) -> Engine:
    """The engine called `name`. `workers`: processes (local; default one per core) or at most
    that many tasks at once (ray; default every CPU of the cluster). `address`: the Ray cluster
    to join (default: RAY_ADDRESS, else a new local Ray instance)."""
    if name == "local":
        if address is not None:
            raise EngineError("--address is for the ray engine; the local engine runs here")
        from warcpack.engines.local import LocalEngine

        return LocalEngine(workers)
    if name == "ray":
        from warcpack.engines.ray import RayEngine

        return RayEngine(address, workers)
    raise EngineError(f"unknown engine {name!r}: use one of {', '.join(ENGINES)}")
